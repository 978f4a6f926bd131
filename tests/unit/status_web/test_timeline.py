"""The install timeline: bars on one axis from the node joining Kubernetes until now."""

from __future__ import annotations

from status_web.history import History
from status_web.payloads import current_phase
from status_web.timeline import build_timeline
from tests.unit.status_web.samples import install_story


def _timeline(upto: int):  # type: ignore[no-untyped-def]
    history = History()
    story = install_story()
    status = None
    for step in story[: upto + 1]:
        status = history.observe(step)
    assert status is not None
    return build_timeline(status, current_phase(status))


def test_tiers_follow_one_another_on_one_axis() -> None:
    """Each tier starts when the one before it is ready; the axis ends now (100%)."""
    timeline = _timeline(upto=5)
    bars = {bar.name: bar for bar in timeline.bars}
    # 38 minutes from the node joining to now; the service first looked at +3m.
    assert timeline.elapsed_text == "38m00s since the node joined Kubernetes"
    assert bars["platform"].text == "ready by +3m00s"
    assert bars["core"].text == "ready at +7m00s"
    assert bars["login"].text == "ready at +24m00s"
    core_end = bars["core"].left + bars["core"].width
    assert abs(bars["bootstrap"].left - core_end) < 0.01
    assert bars["background"].mode == "issue"
    assert bars["background"].left + bars["background"].width == 100.0
    assert timeline.ticks[-1].text == "now +38m00s"


def test_an_unready_tier_is_in_progress_or_not_started() -> None:
    """While the core image pulls: bootstrap runs, login and background have not started."""
    timeline = _timeline(upto=2)
    bars = {bar.name: bar for bar in timeline.bars}
    assert bars["bootstrap"].mode == "active"
    assert bars["bootstrap"].text == "8m00s so far"
    assert bars["login"].text == "not started"
    assert bars["background"].text == "not started"


def test_the_rollup_strip_has_a_segment_per_change() -> None:
    """The strip shows each rollup state for as long as it held."""
    timeline = _timeline(upto=5)
    assert [s.state for s in timeline.strip][-2:] == ["ready", "ready_with_background_issues"]
    assert timeline.strip[0].left > 0  # the service first looked 3 minutes in
    assert timeline.strip[-1].left + timeline.strip[-1].width >= 99.9
    assert "Login: ready at +24m00s" in timeline.summary
