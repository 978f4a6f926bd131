"""How the world's Flux controllers set a condition (fluxcd's `conditions.Set`), and the
conditions kustomize-controller v1.9.6 leaves on a Kustomization besides `Ready`.

`Reconciling` names the stage a reconcile reached ("Running health checks for revision ... with
a timeout of ..."), `Healthy` the health checks' verdict for a Kustomization that waits; at the
end of each reconcile `finalizeStatus` drops `Reconciling` once Ready is True and calls it
`ProgressingWithRetry` while Ready is False (internal/controller/kustomization_controller.go).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from simulator.clock import rfc3339
from simulator.world.durations import format_go_duration, parse_duration

__all__ = [
    "REQUESTED_AT",
    "checks_health",
    "finalized",
    "interval_of",
    "reconciling_stage",
    "requested_at",
    "retry_interval_of",
    "set_flux_condition",
    "timeout_of",
]

Obj = dict[str, Any]
# What `flux reconcile` sets (fluxcd/pkg/apis/meta ReconcileRequestAnnotation): a new value asks
# the controller for a reconcile (ReconcileRequestedPredicate), whose end records it in
# `status.lastHandledReconcileAt` (finalizeStatus), which the CLI waits for.
REQUESTED_AT = "reconcile.fluxcd.io/requestedAt"
# fluxcd/pkg/runtime/conditions: Stalled, Reconciling and Ready first, then the rest by type.
_CONDITION_ORDER = {"Stalled": 0, "Reconciling": 1, "Ready": 2}
# What `hasSameState` compares: a change of any moves lastTransitionTime.
_STATE = ("status", "reason", "message")


def set_flux_condition(
    obj: Obj,
    conditions: list[Obj],
    kind: str,
    status: str,
    *,
    now: datetime,
    reason: str,
    message: str,
) -> list[Obj]:
    """Conditions with `kind` set as fluxcd/pkg/runtime's `conditions.Set` sets it on `obj`:
    the condition carries the object's generation (`observedGeneration`); its
    `lastTransitionTime` moves when its status, reason or message changes (`hasSameState`; a
    Kubernetes controller's moves with the status alone); the list is in Set's order."""
    new = {
        "type": kind,
        "status": status,
        "observedGeneration": (obj.get("metadata") or {}).get("generation"),
        "lastTransitionTime": rfc3339(now),
        "reason": reason,
        "message": message,
    }
    out = [dict(c) for c in conditions if c.get("type") != kind]
    for old in conditions:
        if old.get("type") == kind and all(old.get(k) == new[k] for k in _STATE):
            new["lastTransitionTime"] = old.get("lastTransitionTime")
    return _in_set_order([*out, new])


def requested_at(obj: Obj) -> str | None:
    """The reconcile request an object carries, if any."""
    value = ((obj.get("metadata") or {}).get("annotations") or {}).get(REQUESTED_AT)
    return value if isinstance(value, str) else None


def timeout_of(spec: Obj) -> float:
    """A Kustomization's timeout in seconds, as GetTimeout (api v1.9.6) gives it: `spec.timeout`,
    else its interval less 30 s, and never under 30 s (the real controller waits 30 s on a
    health check whose spec says 2s)."""
    named = spec.get("timeout")
    duration = parse_duration(named) if named else interval_of(spec) - 30.0
    return max(duration, 30.0)


def interval_of(spec: Obj) -> float:
    """A Kustomization's interval in seconds (required by its CRD; 5m if a test leaves it out)."""
    return parse_duration(spec.get("interval") or "5m")


def retry_interval_of(spec: Obj) -> float:
    """How long after a failed reconcile the controller tries again (GetRetryInterval:
    `spec.retryInterval`, else the interval)."""
    return parse_duration(spec.get("retryInterval") or spec.get("interval") or "5m")


def checks_health(spec: Obj) -> bool:
    """Whether kustomize-controller checks health after applying (and keeps `Healthy`)."""
    return bool(spec.get("wait") or spec.get("healthChecks"))


def reconciling_stage(doing: str, revision: str, spec: Obj) -> str:
    """The Reconciling message of a stage of kustomize-controller's reconcile."""
    timeout = format_go_duration(timeout_of(spec))
    return f"{doing} for revision {revision} with a timeout of {timeout}"


def finalized(kust: Obj, conditions: list[Obj], *, now: datetime) -> list[Obj]:
    """kustomize-controller's finalizeStatus: Reconciling goes once Ready is True, and is set
    again (so its transition time moves) as `ProgressingWithRetry` while Ready is False."""
    ready = next((c.get("status") for c in conditions if c.get("type") == "Ready"), None)
    reconciling = next((c for c in conditions if c.get("type") == "Reconciling"), None)
    if reconciling is None:
        return _in_set_order(conditions)
    if ready == "True":
        return _in_set_order([c for c in conditions if c is not reconciling])
    if ready == "False":
        return set_flux_condition(
            kust,
            conditions,
            "Reconciling",
            str(reconciling.get("status")),
            now=now,
            reason="ProgressingWithRetry",
            message=str(reconciling.get("message", "")),
        )
    return _in_set_order(conditions)


def _in_set_order(conditions: list[Obj]) -> list[Obj]:
    """`conditions.Set`'s order (lexicographicLess): Stalled, Reconciling, Ready, then the
    newest observedGeneration first, then by type."""

    def rank(cond: Obj) -> tuple[int, int, str]:
        weight = _CONDITION_ORDER.get(str(cond.get("type")), 3)
        return weight, -int(cond.get("observedGeneration") or 0), str(cond.get("type"))

    return sorted(conditions, key=rank)
