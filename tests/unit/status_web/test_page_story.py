"""The page tells the install as a story: a timeline, pulls against a yardstick, background
issues called so, folded long sections, a finished Job pod as succeeded, and cluster text
always as text."""

from __future__ import annotations

import json

import jsonschema_rs
from litestar.testing import TestClient

from appliance.canonical import Component, EventSummary, Evidence, FluxObject
from appliance.schema import status_schema
from status_web.observations import MutableProvider, Observation
from status_web.rendering import render_diagnostics, render_overview
from tests.unit.status_web.samples import NOW, failed, install_story, installing

HOSTILE = '<img src=x onerror="alert(1)">'


def _served(*statuses):  # type: ignore[no-untyped-def]
    provider = MutableProvider(statuses[0])
    for status in statuses[1:]:
        provider.set(status)
    observation = provider.latest()
    assert observation is not None
    return observation


def test_overview_draws_the_timeline_of_every_tier() -> None:
    """One row per tier, by the tier table's labels, with start/ready words and the axis."""
    html = render_overview(_served(*install_story()))
    for label in ("Platform", "Core services", "Bootstrap", "Login", "Background services"):
        assert f'<span class="row-label">{label}</span>' in html
    assert "ready at +24m00s" in html
    assert "now +38m00s" in html
    assert 'role="img" aria-label="Install timeline, 38m00s since the node joined' in html


def test_a_background_issue_is_not_called_a_blocker() -> None:
    """What does not block login is headed 'Background issue' and says it does not block."""
    html = render_overview(_served(*install_story()))
    assert ">Background issue</h2>" in html
    assert "This does not block login." in html
    assert ">Blocker</h2>" not in html
    assert "What is in the way" not in html


def test_pull_progress_is_time_against_the_yardstick_never_bytes() -> None:
    """Elapsed against the expected time for the size, the install's time, and no byte count."""
    story = install_story()
    html = render_overview(_served(*story[:3]))
    assert "9m00s so far; about 16m02s expected for ~1.8 GB." in html
    assert 'class="pull-bar" style="width:56.1%"' in html
    assert "The install has taken 15m00s so far" in html
    assert "Kubernetes does not report byte-level pull progress." in html
    late = story[2].active_operations[0].model_copy(update={"elapsed_seconds": 1500})
    html = render_overview(_served(story[2].model_copy(update={"active_operations": [late]})))
    assert "longer than the 16m02s expected for ~1.8 GB" in html
    assert 'class="pull-track late"' in html


def test_a_finished_job_pod_reads_as_succeeded() -> None:
    """The bootstrap Job's pod that ran to completion is a green check, not a red cross."""
    done = Component(
        name="alga-core-bootstrap",
        tier="bootstrap",
        ready=True,
        kind="Pod",
        namespace="msp",
        message="Succeeded: ran to completion",
    )
    status = installing().model_copy(update={"components": [*installing().components, done]})
    html = render_diagnostics(_served(status))
    assert '&#10003; succeeded</span></td>\n<td class="nowrap">alga-core-bootstrap' in html


def test_long_sections_fold_and_keep_an_id() -> None:
    """A long, healthy list starts folded; each fold has an id the live refresh keeps."""
    events = [
        EventSummary(timestamp=NOW, object=f"Pod/msp/p{i}", message=f"m{i}") for i in range(20)
    ]
    html = render_diagnostics(_served(installing().model_copy(update={"recent_events": events})))
    assert '<details id="fold-all-events">' in html  # 20 events: folded
    assert '<details id="fold-components" open>' in html  # short, and db is not ready
    assert "20, newest first" in html


def test_cluster_text_is_never_markup_anywhere() -> None:
    """Messages, names, reasons and evidence from the cluster are escaped on both pages."""
    base = failed()
    blocker = base.top_blockers[0].model_copy(
        update={
            "layer": HOSTILE,
            "reason": HOSTILE,
            "component": HOSTILE,
            "evidence": [Evidence(object=HOSTILE, message=HOSTILE)],
        }
    )
    status = base.model_copy(
        update={
            "site_id": HOSTILE,
            "top_blockers": [blocker],
            "components": [Component(name=HOSTILE, tier="core", ready=False, message=HOSTILE)],
            "recent_events": [EventSummary(timestamp=NOW, object=HOSTILE, message=HOSTILE)],
            "tiers": base.tiers.model_copy(
                update={"core": base.tiers.core.model_copy(update={"reasons": [HOSTILE]})}
            ),
            "flux": base.flux.model_copy(
                update={
                    "kustomizations": [
                        FluxObject(kind="Kustomization", name=HOSTILE, ready=False, message=HOSTILE)
                    ]
                }
            ),
        }
    )
    observation = Observation(
        status=status, age_seconds=3.0, stale=True, api_error=HOSTILE, version=2
    )
    for html in (render_overview(observation), render_diagnostics(observation)):
        assert HOSTILE not in html
        assert "<img" not in html
        assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html


def test_api_status_serves_history_and_since_within_the_schema(
    authed: TestClient,  # type: ignore[type-arg]
    provider: MutableProvider,
) -> None:
    """/api/status gains `history` and `tiers.*.since`; the body still validates."""
    for status in install_story():
        provider.set(status)
    body = authed.get("/api/status").json()
    assert [entry["state"] for entry in body["history"]][-1] == "ready_with_background_issues"
    assert body["tiers"]["login"]["since"].startswith("2026-04-30T09:")
    assert body["installStarted"] == "2026-04-30T08:52:00Z"
    jsonschema_rs.validate(status_schema(), json.loads(json.dumps(body)))
