"""`flux reconcile` against the world: the CLI sets `reconcile.fluxcd.io/requestedAt` and waits
for the controller to record it in `status.lastHandledReconcileAt`. The world's source- and
kustomize-controller reconcile at once when the request changes (ReconcileRequestedPredicate),
not only at their interval, and record it when the reconcile has ended (finalizeStatus); the
same commit fetched again stores no new artifact. The real controllers are held to the same in
tests/integration/test_control_plane_bootstrap.py."""

from __future__ import annotations

from typing import Any

from simulator.world.engine import World
from tests.fixtures.flux_worlds import ready_world

Obj = dict[str, Any]
REQUESTED_AT = "reconcile.fluxcd.io/requestedAt"


def _ask(world: World, kind: str, name: str, token: str) -> None:
    obj = world.get(kind, name, "flux-system")
    assert obj is not None
    world.objects.patch(obj, {"metadata": {"annotations": {REQUESTED_AT: token}}})


def _status(world: World, kind: str, name: str) -> Obj:
    obj = world.get(kind, name, "flux-system")
    assert obj is not None
    return dict(obj.get("status") or {})


def test_a_kustomization_asked_for_a_reconcile_reconciles_at_once(tmp_path: Any) -> None:
    """alga-core's interval is an hour; the request is reconciled within seconds: Ready
    Unknown while it applies and checks again, then Ready with the request recorded."""
    world = ready_world(tmp_path, intervals={"alga-platform": "1h", "alga-core": "1h"})
    assert "lastHandledReconcileAt" not in _status(world, "Kustomization", "alga-core")
    began = world.elapsed
    _ask(world, "Kustomization", "alga-core", "2026-11-30T21:00:00Z")
    world.run_until(began + 1)
    ready = next(
        c
        for c in _status(world, "Kustomization", "alga-core")["conditions"]
        if c["type"] == "Ready"
    )
    assert (ready["status"], ready["reason"]) == ("Unknown", "Progressing")
    assert "lastHandledReconcileAt" not in _status(world, "Kustomization", "alga-core")
    world.run_until(began + 30)
    status = _status(world, "Kustomization", "alga-core")
    assert status["lastHandledReconcileAt"] == "2026-11-30T21:00:00Z"
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "True"
    said = len(world.timeline.find(reason="Progressing", name="alga-core"))
    _ask(world, "Kustomization", "alga-core", "2026-11-30T21:00:00Z")  # the same: nothing new
    world.run_until(world.elapsed + 60)
    assert len(world.timeline.find(reason="Progressing", name="alga-core")) == said


def test_a_source_asked_for_a_reconcile_records_it_and_stores_nothing_new(tmp_path: Any) -> None:
    world = ready_world(tmp_path)
    before = _status(world, "GitRepository", "alga")
    _ask(world, "GitRepository", "alga", "token-1")
    world.run_until(world.elapsed + 10)
    after = _status(world, "GitRepository", "alga")
    assert after["lastHandledReconcileAt"] == "token-1"
    assert after["artifact"] == before["artifact"]
    assert len(world.timeline.find(reason="NewArtifact", name="alga")) == 1
