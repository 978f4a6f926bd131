"""The world's Flux sets a condition as fluxcd/pkg/runtime's `conditions.Set` does (v0.110.3,
the version the control plane's kustomize-controller and source-controller are built with)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from simulator.world.flux_conditions import finalized, set_flux_condition, timeout_of

T0 = datetime(2026, 6, 20, 14, 0, 0, tzinfo=UTC)
LATER = T0 + timedelta(minutes=3)
KUST: dict[str, Any] = {"metadata": {"name": "alga-core", "generation": 2}}


def _set(conditions: list[dict[str, Any]], when: datetime, **state: str) -> list[dict[str, Any]]:
    return set_flux_condition(KUST, conditions, "Healthy", now=when, **state)


def test_the_transition_time_moves_with_status_reason_or_message_and_only_then() -> None:
    first = _set([], T0, status="Unknown", reason="Progressing", message="checking")
    assert first == [
        {
            "type": "Healthy",
            "status": "Unknown",
            "observedGeneration": 2,
            "lastTransitionTime": "2026-06-20T14:00:00Z",
            "reason": "Progressing",
            "message": "checking",
        }
    ]
    same = _set(first, LATER, status="Unknown", reason="Progressing", message="checking")
    assert same[0]["lastTransitionTime"] == "2026-06-20T14:00:00Z"
    # hasSameState compares type, status, reason and message: any change is a transition
    # (a Kubernetes controller's condition would keep its time with the status unchanged).
    for change in ({"reason": "Other"}, {"message": "still checking"}, {"status": "False"}):
        state = {"status": "Unknown", "reason": "Progressing", "message": "checking", **change}
        moved = _set(first, LATER, **state)
        assert moved[0]["lastTransitionTime"] == "2026-06-20T14:03:00Z", change


def test_conditions_are_kept_in_set_order() -> None:
    """Stalled, Reconciling, Ready first; then the rest by type (source-controller's
    GitRepository reads Ready, ArtifactInStorage)."""
    conditions: list[dict[str, Any]] = []
    for kind in ("ArtifactInStorage", "Healthy", "Ready", "Reconciling"):
        conditions = set_flux_condition(
            KUST, conditions, kind, "True", now=T0, reason="Succeeded", message=""
        )
    assert [c["type"] for c in conditions] == [
        "Reconciling",
        "Ready",
        "ArtifactInStorage",
        "Healthy",
    ]


def test_finalize_status_retries_reconciling_and_drops_it_once_ready() -> None:
    progressing = set_flux_condition(
        KUST, [], "Reconciling", "True", now=T0, reason="Progressing", message="Running checks"
    )
    failed = set_flux_condition(
        KUST, progressing, "Ready", "False", now=T0, reason="HealthCheckFailed", message="x"
    )
    retry = finalized(KUST, failed, now=LATER)
    assert [(c["type"], c["reason"], c["lastTransitionTime"]) for c in retry] == [
        ("Reconciling", "ProgressingWithRetry", "2026-06-20T14:03:00Z"),
        ("Ready", "HealthCheckFailed", "2026-06-20T14:00:00Z"),
    ]
    ready = set_flux_condition(
        KUST, retry, "Ready", "True", now=LATER, reason="ReconciliationSucceeded", message="ok"
    )
    assert [c["type"] for c in finalized(KUST, ready, now=LATER)] == ["Ready"]


@pytest.mark.parametrize(
    ("spec", "seconds"),
    [
        ({"interval": "1m", "timeout": "60m"}, 3600.0),
        ({"interval": "10m"}, 570.0),  # the interval less 30 s
        ({"interval": "1m"}, 30.0),  # never under 30 s
        ({"interval": "1h", "timeout": "2s"}, 30.0),  # seen on the real controller: 30.03 s
    ],
)
def test_a_timeout_is_what_kustomize_controllers_get_timeout_gives(
    spec: dict[str, str], seconds: float
) -> None:
    assert timeout_of(spec) == seconds
