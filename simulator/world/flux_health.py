"""A Kustomization's health check as kustomize-controller v1.9.6 runs it.

`checkHealth` waits on the objects the apply wrote (`wait: true`), or on `healthChecks`, never on
the Kustomization itself; fluxcd/pkg/ssa v0.76.2 `WaitForSetWithContext` polls their kstatus
verdicts (kstatus.py) every 5 s until all are Current, or, with fail-fast (kustomize-controller's
default), until one is Failed, or until only Failed and Current are left; a Job applied with
`ttlSecondsAfterFinished` counts as Current once it is gone. Its error names what was not
Current: `failed early due to stalled resources: [...]` (the Failed ones) or, at the timeout,
`timeout waiting for: [...]` (every one not Current), each as `Deployment/msp/db status:
'InProgress'`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from simulator.world.kstatus import CURRENT, FAILED, NOT_FOUND, UNKNOWN, Verdict, flux_verdict
from simulator.world.objects import Objects, meta

__all__ = ["HealthCheck", "Target", "check_health", "targets"]

Obj = dict[str, Any]


@dataclass(frozen=True)
class Target:
    """One object the health check waits on (ObjMetadata, and whether it is a Job with TTL)."""

    api_version: str
    kind: str
    name: str
    namespace: str | None
    ttl_job: bool = False

    @property
    def ref(self) -> str:
        """utils.FmtObjMetadata: `Kind/namespace/name`, `Kind/name` when cluster-scoped."""
        return "/".join(part for part in (self.kind, self.namespace, self.name) if part)


@dataclass(frozen=True)
class HealthCheck:
    """`healthy`, `waiting` (poll again) or `failed` with WaitForSet's error; `stalled` when it
    failed early (fail-fast), not at the timeout."""

    outcome: str
    error: str = ""
    stalled: bool = False


def targets(kust: Obj, applied: list[Obj]) -> list[Target]:
    """What `kust`'s health check waits on: what it applied (`wait`) or its `healthChecks`."""
    spec = kust.get("spec") or {}
    if spec.get("wait"):
        found = [_target(obj) for obj in applied]
    else:
        found = [
            Target(
                str(ref.get("apiVersion") or "apps/v1"),
                str(ref.get("kind", "")),
                str(ref.get("name", "")),
                ref.get("namespace") or None,
            )
            for ref in spec.get("healthChecks") or []
        ]
    own = meta(kust)
    return [  # guard against deadlock: a Kustomization never waits on itself
        t
        for t in found
        if not (
            t.kind == "Kustomization"
            and t.name == own.get("name")
            and t.namespace == own.get("namespace")
        )
    ]


def _target(obj: Obj) -> Target:
    m = meta(obj)
    api_version = str(obj.get("apiVersion", ""))
    ttl = (obj.get("spec") or {}).get("ttlSecondsAfterFinished")
    return Target(
        api_version,
        str(obj.get("kind", "")),
        str(m.get("name", "")),
        m.get("namespace") or None,
        ttl_job=obj.get("kind") == "Job"
        and api_version.startswith("batch/")
        and type(ttl) is int,  # ExtractJobsWithTTL: any int64, 0 too
    )


def check_health(
    objects: Objects, waiting_on: list[Target], *, now: datetime, deadline_passed: bool
) -> HealthCheck:
    """One poll of WaitForSet over `waiting_on`; at the deadline, its verdict then."""
    verdicts = [
        (target, flux_verdict(objects.get(*_identity(target)), now=now)) for target in waiting_on
    ]
    effective = [
        CURRENT if verdict.status == NOT_FOUND and target.ttl_job else verdict.status
        for target, verdict in verdicts
    ]
    terminal = all(status in (FAILED, CURRENT) for status in effective)
    healthy = all(verdict.status == CURRENT for _, verdict in verdicts)
    done = healthy or FAILED in effective or terminal
    if not done and not deadline_passed:
        return HealthCheck("waiting")
    errors = [
        _error(target, verdict)
        for target, verdict in verdicts
        if not (verdict.status == NOT_FOUND and target.ttl_job)
        and (verdict.status == FAILED or (not done and verdict.status != CURRENT))
    ]
    if not errors:
        return HealthCheck("healthy")
    cause = "failed early due to stalled resources" if done else "timeout waiting for"
    return HealthCheck("failed", f"{cause}: [{', '.join(errors)}]", stalled=done)


def _identity(target: Target) -> tuple[str, str, str, str | None]:
    return target.api_version, target.kind, target.name, target.namespace


def _error(target: Target, verdict: Verdict) -> str:
    said = f"{target.ref} status: '{verdict.status}'"
    return f"{said}: {verdict.message}" if verdict.status == UNKNOWN else said
