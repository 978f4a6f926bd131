"""The simulated Flux's health check decides as fluxcd/pkg/ssa v0.76.2's WaitForSetWithContext
with fail-fast (kustomize-controller v1.9.6's default), over kstatus verdicts (each judged
against kustomize-controller's readers in tests/integration/test_kstatus_verdicts.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from simulator.api.store import ObjectStore
from simulator.clock import VirtualClock
from simulator.world.flux_health import HealthCheck, Target, check_health, targets
from simulator.world.objects import Objects

Obj = dict[str, Any]
T0 = datetime(2026, 6, 20, 14, 0, 0, tzinfo=UTC)


@pytest.fixture
def objects() -> Objects:
    clock = VirtualClock(T0)
    return Objects(ObjectStore(clock), clock=clock, seed="flux-health")


def _put(objects: Objects, obj: Obj, status: Obj) -> Target:
    created = objects.create(obj)
    assert created is not None
    if status:
        objects.patch_status(created, status)
    meta = obj["metadata"]
    return Target(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))


def _deployment(objects: Objects, name: str, *, ready: int) -> Target:
    obj = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "msp"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": "app:1"}]},
            },
        },
    }
    conditions = [
        {"type": "Available", "status": "True" if ready else "False"},
        {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"},
    ]
    status = {
        "observedGeneration": 1,
        "replicas": 1,
        "updatedReplicas": 1,
        "readyReplicas": ready,
        "availableReplicas": ready,
        "conditions": conditions,
    }
    return _put(objects, obj, status)


def _job(objects: Objects, name: str, *, failed: bool = False, ttl: bool = False) -> Target:
    spec: Obj = {
        "template": {
            "spec": {
                "restartPolicy": "Never",
                "containers": [{"name": "migrate", "image": "app:1"}],
            }
        }
    }
    obj = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": "msp"},
        "spec": spec,
    }
    status: Obj = {"startTime": "2026-06-20T14:00:00Z", "active": 1}
    if failed:
        status = {
            "startTime": "2026-06-20T14:00:00Z",
            "failed": 1,
            "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}],
        }
    target = _put(objects, obj, status)
    return Target(target.api_version, target.kind, target.name, target.namespace, ttl_job=ttl)


def _poll(objects: Objects, waiting_on: list[Target], *, deadline: bool = False) -> HealthCheck:
    return check_health(objects, waiting_on, now=T0, deadline_passed=deadline)


def test_healthy_when_everything_is_current(objects: Objects) -> None:
    assert _poll(objects, [_deployment(objects, "web", ready=1)]) == HealthCheck("healthy")


def test_waits_while_something_is_in_progress(objects: Objects) -> None:
    waiting_on = [_deployment(objects, "web", ready=1), _deployment(objects, "api", ready=0)]
    assert _poll(objects, waiting_on) == HealthCheck("waiting")


def test_a_failed_object_fails_the_check_at_once_naming_only_it(objects: Objects) -> None:
    waiting_on = [_deployment(objects, "api", ready=0), _job(objects, "migrate", failed=True)]
    assert _poll(objects, waiting_on) == HealthCheck(
        "failed",
        "failed early due to stalled resources: [Job/msp/migrate status: 'Failed']",
        stalled=True,
    )


def test_at_the_timeout_every_object_not_current_is_named(objects: Objects) -> None:
    gone = Target("apps/v1", "StatefulSet", "db", "msp")
    waiting_on = [
        _deployment(objects, "web", ready=1),
        _deployment(objects, "api", ready=0),
        gone,
        _job(objects, "migrate"),
    ]
    assert _poll(objects, waiting_on, deadline=True) == HealthCheck(
        "failed",
        "timeout waiting for: [Deployment/msp/api status: 'InProgress', "
        "StatefulSet/msp/db status: 'NotFound', Job/msp/migrate status: 'InProgress']",
    )


def test_a_job_with_a_ttl_that_is_gone_counts_as_current(objects: Objects) -> None:
    gone = Target("batch/v1", "Job", "migrate", "msp", ttl_job=True)
    assert _poll(objects, [_deployment(objects, "web", ready=1), gone]) == HealthCheck("healthy")
    waiting_on = [_deployment(objects, "api", ready=0), gone]
    assert _poll(objects, waiting_on) == HealthCheck("waiting")
    assert _poll(objects, waiting_on, deadline=True).error == (
        "timeout waiting for: [Deployment/msp/api status: 'InProgress']"
    )


def test_a_reader_error_is_unknown_with_the_error_beside_it(objects: Objects) -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "msp"},
        "spec": {"containers": [{"name": "app", "image": "app:1"}]},
    }
    target = _put(objects, pod, {"phase": "Weird"})
    assert _poll(objects, [target], deadline=True).error == (
        "timeout waiting for: [Pod/msp/p status: 'Unknown': unknown phase Weird]"
    )


def test_what_a_kustomization_waits_on() -> None:
    kust = {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": "alga-core", "namespace": "flux-system"},
        "spec": {"wait": True},
    }
    applied = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "msp"}},
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "migrate", "namespace": "msp"},
            "spec": {"ttlSecondsAfterFinished": 0},
        },
        {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "seed", "namespace": "msp"}},
        {**kust, "spec": {}},  # never itself
    ]
    assert [(t.ref, t.ttl_job) for t in targets(kust, applied)] == [
        ("Namespace/msp", False),
        ("Job/msp/migrate", True),
        ("Job/msp/seed", False),
    ]
    checks = {
        **kust,
        "spec": {"healthChecks": [{"kind": "Deployment", "name": "web", "namespace": "msp"}]},
    }
    assert targets(checks, applied) == [Target("apps/v1", "Deployment", "web", "msp")]
