"""The simulated Flux's health check against kustomize-controller's own: fluxcd/pkg/ssa v0.76.2's
WaitForSetWithContext, called as checkHealth calls it (fail-fast, Flux's Job reader, the direct
cluster reader), run by `kstatus-verdicts wait` over a controller-runtime fake client that holds
the same objects. The objects never change, so each case's outcome is what the check decides at
its first poll or, failing that, at its timeout; simulator/world/flux_health.py must end every
case with the same error (the entries compared as a set: Go lists them in map order).
"""

from __future__ import annotations

import json
import re
import subprocess

from simulator.world.flux_health import Target, check_health, targets
from tests.fixtures.health_checks import (
    CRD_INSTALLING,
    NAMESPACE,
    Obj,
    Placed,
    deployment,
    job,
    kustomization,
    place,
    pod,
    world_objects,
)
from tests.tools import programs

_GONE_STATEFULSET = {
    "apiVersion": "apps/v1",
    "kind": "StatefulSet",
    "metadata": {"name": "db", "namespace": "msp"},
}
_GONE_TTL_JOB = {
    "apiVersion": "batch/v1",
    "kind": "Job",
    "metadata": {"name": "seed-ttl", "namespace": "msp"},
}
_READY = {"type": "Ready", "status": "True", "reason": "ReconciliationSucceeded", "message": "ok"}
_NOT_READY = {"type": "Ready", "status": "False", "reason": "HealthCheckFailed", "message": "m"}
_STALLED = {"type": "Stalled", "status": "True", "reason": "BuildFailed", "message": "m"}

# Each case: the objects there are (each with its status), and those the check waits on that
# are gone. A Job named `*-ttl` was applied with ttlSecondsAfterFinished.
CASES: dict[str, tuple[list[Placed], list[Obj]]] = {
    "all current": ([deployment("web", ready=1), NAMESPACE], []),
    "one in progress": ([deployment("web", ready=1), deployment("api", ready=0)], []),
    "a failed job, fail-fast": ([deployment("api", ready=0), job("migrate", failed=True)], []),
    "failed and current only": ([deployment("web", ready=1), job("migrate", failed=True)], []),
    "a gone statefulset": ([deployment("web", ready=1)], [_GONE_STATEFULSET]),
    "a gone job with a ttl": ([deployment("web", ready=1)], [_GONE_TTL_JOB]),
    "a gone job with a ttl, one in progress": ([deployment("api", ready=0)], [_GONE_TTL_JOB]),
    "a running job with a ttl": ([job("seed-ttl", ttl=True)], []),
    "cluster-scoped objects": ([CRD_INSTALLING, NAMESPACE], []),
    "a reader error": ([pod("p", "Weird"), pod("q", "Running")], []),
    "kustomizations": ([kustomization("a", _NOT_READY), kustomization("b", _READY)], []),
    "a stalled kustomization": ([kustomization("a", _STALLED)], []),
}


def _reference(obj: Obj) -> Obj:
    meta = obj["metadata"]
    return {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "namespace": meta.get("namespace", ""),
        "name": meta["name"],
    }


def _entries(error: str) -> tuple[str, list[str]]:
    """WaitForSet's error as (cause, its entries sorted)."""
    cause, _, listed = error.partition(": [")
    entries = re.split(r", (?=[A-Z]\w*/)", listed.removesuffix("]")) if listed else []
    return cause, sorted(entries)


def _ours(present: list[Placed], gone: list[Obj]) -> tuple[str, list[Obj]]:
    """The simulated check's error at the deadline ("" when healthy), and the objects stored."""
    objects = world_objects()
    stored = [place(objects, placed) for placed in present]
    applied = [obj for obj, _ in present] + gone
    waiting_on = [
        Target(t.api_version, t.kind, t.name, t.namespace, ttl_job=t.name.endswith("-ttl"))
        for t in targets({"metadata": {}, "spec": {"wait": True}}, applied)
    ]
    verdict = check_health(objects, waiting_on, now=objects.clock.now(), deadline_passed=True)
    return (verdict.error if verdict.outcome == "failed" else ""), stored


def test_the_health_check_ends_as_kustomize_controllers() -> None:
    cases, ours = [], []
    for present, gone in CASES.values():
        said, stored = _ours(present, gone)
        ours.append(said)
        applied = [obj for obj, _ in present] + gone
        cases.append(
            {
                "objects": stored,
                "set": [_reference(obj) for obj in applied],
                "ttl": [_reference(o) for o in applied if o["metadata"]["name"].endswith("-ttl")],
            }
        )
    program = programs(("kstatus-verdicts",))["kstatus-verdicts"]
    done = subprocess.run(
        [str(program), "wait"],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    real = json.loads(done.stdout)
    differences = [
        f"{name}: ours {mine!r}, kustomize-controller {theirs!r}"
        for name, mine, theirs in zip(CASES, ours, real, strict=True)
        if _entries(mine) != _entries(theirs)
    ]
    assert not differences, "\n".join(differences)
    causes = {_entries(said)[0] for said in real}
    assert causes == {"", "timeout waiting for", "failed early due to stalled resources"}
