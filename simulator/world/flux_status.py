"""How the world's kustomize-controller writes a Kustomization's status at the end of a
reconcile stage: Ready, and from the stage reached Reconciling and Healthy, then
`finalizeStatus`'s touch (v1.9.6, internal/controller/kustomization_controller.go): the
generation once Ready, the reconcile request handled once the reconcile has ended."""

from __future__ import annotations

from typing import Any

from simulator.world.flux_conditions import finalized, requested_at, set_flux_condition
from simulator.world.flux_inventory import inventory_entries
from simulator.world.objects import Objects, meta

__all__ = ["write_in_two", "write_status"]

Obj = dict[str, Any]


def write_status(
    objects: Objects,
    kust: Obj,
    ready: tuple[str, str, str],
    *,
    applied: list[Obj] | None,
    revision: str | None = None,
    reconciling: str | None = None,
    healthy: tuple[str, str, str] | None = None,
) -> None:
    """Write Ready (status, reason, message) and, from the stage reached, Reconciling and
    Healthy, as kustomize-controller v1.9 leaves them at the end of a reconcile:
    `finalizeStatus` drops Reconciling and records the generation (observedGeneration) once
    Ready is True, and calls Reconciling `ProgressingWithRetry` when Ready is False.
    `applied`: what the last successful apply applied (the inventory, kept when one fails);
    `revision`: the one a successful reconcile applied."""
    now = objects.clock.now()
    status, reason, message = ready
    conditions = (kust.get("status") or {}).get("conditions") or []
    conditions = set_flux_condition(
        kust, conditions, "Ready", status, now=now, reason=reason, message=message
    )
    if reconciling is not None:
        conditions = set_flux_condition(
            kust,
            conditions,
            "Reconciling",
            "True",
            now=now,
            reason="Progressing",
            message=reconciling,
        )
    if healthy is not None:
        health, why, said = healthy
        conditions = set_flux_condition(
            kust, conditions, "Healthy", health, now=now, reason=why, message=said
        )
    conditions = finalized(kust, conditions, now=now)
    patch: Obj = {"conditions": conditions}
    if status == "True":  # finalizeStatus moves observedGeneration only when Ready
        patch["observedGeneration"] = meta(kust).get("generation")
    if applied is not None:
        patch["inventory"] = {"entries": inventory_entries(applied)}
    if revision:
        patch["lastAppliedRevision"] = revision
        patch["lastAttemptedRevision"] = revision
    requested = requested_at(kust)
    if status != "Unknown" and requested:  # the reconcile has ended: finalizeStatus's record
        patch["lastHandledReconcileAt"] = requested
    write_in_two(objects, kust, patch)


def write_in_two(objects: Objects, obj: Obj, patch: Obj) -> None:
    """fluxcd/pkg/runtime's patch helper: the conditions in one write, then the rest of the
    status in another (watchers see Ready change before observedGeneration, the inventory or
    lastHandledReconcileAt do, as on a real cluster). `patch_status` writes nothing for a part
    that changes nothing (a requeue or a health poll)."""
    if "conditions" in patch:
        objects.patch_status(obj, {"conditions": patch["conditions"]})
    rest = {key: value for key, value in patch.items() if key != "conditions"}
    if rest:
        objects.patch_status(obj, rest)
