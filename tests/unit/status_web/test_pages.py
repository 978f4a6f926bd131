"""The HTML pages: what a tired admin sees."""

from __future__ import annotations

from datetime import timedelta

from litestar.testing import TestClient

from appliance.canonical import EventSummary
from status_web.observations import MutableProvider, Observation
from status_web.rendering import render_overview
from tests.unit.status_web.samples import LOGIN_URL, NOW, failed, installing, ready


def _obs(status=None, *, stale: bool = False, age: float = 0.0) -> Observation:  # type: ignore[no-untyped-def]
    return Observation(
        status=status or installing(),
        age_seconds=age,
        stale=stale,
        api_error="connection refused" if stale else None,
        version=7,
    )


def test_installing_page_shows_state_pull_and_no_login_link() -> None:
    """While installing: the word, the pull with elapsed time and size, no login link."""
    html = render_overview(_obs())
    assert 'data-state="installing"' in html
    assert ">Installing<" in html
    assert "3m12s so far; about 16m02s expected for ~1.8 GB." in html
    assert "Kubernetes does not report byte-level pull progress." in html
    assert 'id="login-link"' not in html


def test_ready_page_links_the_login_url() -> None:
    """Once login is ready the login URL is a link."""
    html = render_overview(_obs(ready()))
    assert f'<a class="button" id="login-link" href="{LOGIN_URL}">' in html
    assert "Ready to log in" in html


def test_failed_page_shows_top_blocker_and_next_action() -> None:
    """Action required: the top blocker's layer and what to do next."""
    html = render_overview(_obs(failed()))
    assert "Action required" in html
    assert "Image tag availability" in html
    assert "<strong>Next:</strong> Pick a release whose images exist" in html


def test_tiers_are_a_checklist() -> None:
    """Tiers show as done, in progress or waiting while installing, with reasons."""
    html = render_overview(_obs())
    assert '<li class="ok">' in html
    assert "db not ready: 0/1 replicas" in html
    assert "(in progress)" in html
    assert "(waiting)" in html
    assert "(needs action)" not in html


def test_failed_tier_is_marked_as_needing_action() -> None:
    """When action is required, the tier the install is stuck on is marked so."""
    html = render_overview(_obs(failed()))
    assert html.count("(needs action)") == 1


def test_newest_event_comes_first() -> None:
    """Events are listed newest first."""
    html = render_overview(_obs())
    assert html.index("BackOff") < html.index("Pulling image")


def test_at_most_five_events_on_the_overview() -> None:
    """The overview keeps to the five newest events."""
    events = [
        EventSummary(timestamp=NOW - timedelta(seconds=i), object=f"Pod/msp/p{i}", message=f"m{i}")
        for i in range(9)
    ]
    html = render_overview(_obs(installing().model_copy(update={"recent_events": events})))
    assert "Pod/msp/p4" in html
    assert "Pod/msp/p5" not in html


def test_stale_page_says_api_down_and_age() -> None:
    """When the API does not answer, the page says so and how old the state is."""
    html = render_overview(_obs(stale=True, age=125))
    assert "Cannot read the cluster right now." in html
    assert "Connection refused, last good state 2m05s ago." in html


def test_text_is_escaped() -> None:
    """Cluster-supplied text cannot inject markup."""
    status = failed()
    blocker = status.top_blockers[0].model_copy(update={"reason": "<script>alert(1)</script>"})
    html = render_overview(_obs(status.model_copy(update={"top_blockers": [blocker]})))
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


def test_page_works_without_javascript() -> None:
    """Without JavaScript a meta refresh reloads the page."""
    html = render_overview(_obs())
    assert '<noscript><meta http-equiv="refresh"' in html
    assert "EventSource('/api/events')" in html
    assert 'name="viewport"' in html


def test_diagnostics_page_lists_everything(authed: TestClient, provider: MutableProvider) -> None:  # type: ignore[type-arg]
    """Diagnostics shows blockers with evidence, components, Flux, and the support bundle."""
    provider.set(failed())
    html = authed.get("/diagnostics").text
    for needle in (
        '<h2 id="issue-1-1">Blocker</h2>',
        "ImagePullBackOff: not found",
        '<td class="nowrap">redis</td>',
        "DependencyNotReady",
        "kubectl get nodes,pods",
        "Full health",
    ):
        assert needle in html


def test_phase_follows_the_rollup_once_login_is_ready() -> None:
    """A login-ready or fully healthy rollup never reads as 'setting up the platform'."""
    from appliance.canonical import Rollup, RollupState, Tier
    from status_web.payloads import current_phase

    healthy = ready().model_copy(
        update={
            "rollup": Rollup(state=RollupState.FULLY_HEALTHY, message="ok"),
            "tiers": ready().tiers.model_copy(update={"platform": Tier(ready=False)}),
        }
    )
    assert current_phase(healthy) == "complete"
    assert current_phase(ready()) == "background"
    assert current_phase(installing()) == "core"
