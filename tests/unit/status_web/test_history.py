"""The status service's memory of the install: tier transitions and rollup changes."""

from __future__ import annotations

from datetime import timedelta

from appliance.canonical import RollupState
from status_web.history import History
from tests.unit.status_web.samples import NOW, install_story, installing


def test_since_is_when_each_tier_last_changed() -> None:
    """`tiers.<name>.since` is the cluster time of the tier's last transition."""
    history = History()
    story = install_story()
    seen = [history.observe(status) for status in story]
    last = seen[-1]
    first_at = story[0].timestamp
    assert last.tiers.platform.since == first_at  # ready from the first look
    assert last.tiers.core.since == story[1].timestamp
    assert last.tiers.bootstrap.since == story[3].timestamp
    assert last.tiers.login.since == story[4].timestamp
    assert last.tiers.background.since == first_at  # never ready: not ready since the first look


def test_history_has_one_entry_per_change_of_rollup_or_ready_tiers() -> None:
    """A status that changes nothing adds nothing; each change is one entry, oldest first."""
    history = History()
    story = install_story()
    for status in story:
        history.observe(status)
        history.observe(status.model_copy(update={"timestamp": status.timestamp + timedelta(1)}))
    entries = history.observe(story[-1]).history
    assert [e.state for e in entries] == [
        RollupState.INSTALLING,
        RollupState.INSTALLING,
        RollupState.INSTALLING,
        RollupState.READY,
        RollupState.READY_WITH_BACKGROUND_ISSUES,
    ]
    assert entries[1].ready_tiers == ["platform", "core"]
    assert [e.at for e in entries] == sorted(e.at for e in entries)


def test_history_is_bounded() -> None:
    """A flapping cluster cannot grow the history without bound."""
    history = History(limit=3)
    status = installing()
    for minute in range(10):
        flipped = status.model_copy(
            update={
                "timestamp": NOW + timedelta(minutes=minute),
                "tiers": status.tiers.model_copy(
                    update={"core": status.tiers.core.model_copy(update={"ready": minute % 2 == 0})}
                ),
            }
        )
        result = history.observe(flipped)
    assert len(result.history) == 3
    assert result.history[-1].at == NOW + timedelta(minutes=9)


def test_a_stale_status_is_stamped_but_not_recorded() -> None:
    """The last good status, shown stale, carries the history without adding to it."""
    history = History()
    story = install_story()
    history.observe(story[0])
    stamped = history.apply(story[1])
    assert len(stamped.history) == 1
    # What was seen: core not ready since the first look (its turning ready is not recorded).
    assert stamped.tiers.core.since == story[0].timestamp
