"""The conditions kustomize-controller v1.9.6 leaves on a Kustomization besides `Ready`.

`Reconciling` names the stage a reconcile reached ("Running health checks for revision ... with
a timeout of ..."), `Healthy` the health checks' verdict for a Kustomization that waits; at the
end of each reconcile `finalizeStatus` drops `Reconciling` once Ready is True and calls it
`ProgressingWithRetry` while Ready is False (internal/controller/kustomization_controller.go).
"""

from __future__ import annotations

from typing import Any

from simulator.world.durations import format_go_duration, parse_duration

__all__ = ["checks_health", "finalized", "reconciling_stage", "timeout_of"]

Obj = dict[str, Any]
# fluxcd/pkg/runtime/conditions: Stalled, Reconciling and Ready first, then the rest by type.
_CONDITION_ORDER = {"Stalled": 0, "Reconciling": 1, "Ready": 2}


def timeout_of(spec: Obj) -> float:
    """A Kustomization's timeout in seconds (its interval when it names none)."""
    return parse_duration(spec.get("timeout") or spec.get("interval") or "5m")


def checks_health(spec: Obj) -> bool:
    """Whether kustomize-controller checks health after applying (and keeps `Healthy`)."""
    return bool(spec.get("wait") or spec.get("healthChecks"))


def reconciling_stage(doing: str, revision: str, spec: Obj) -> str:
    """The Reconciling message of a stage of kustomize-controller's reconcile."""
    timeout = format_go_duration(timeout_of(spec))
    return f"{doing} for revision {revision} with a timeout of {timeout}"


def finalized(conditions: list[Obj], ready: str) -> list[Obj]:
    """kustomize-controller's finalizeStatus, in the order fluxcd's conditions.Set keeps."""
    out = []
    for cond in conditions:
        if cond.get("type") != "Reconciling":
            out.append(cond)
        elif ready == "False":
            out.append({**cond, "reason": "ProgressingWithRetry"})
        elif ready != "True":
            out.append(cond)
    return sorted(out, key=lambda c: (_CONDITION_ORDER.get(str(c.get("type")), 3), c.get("type")))
