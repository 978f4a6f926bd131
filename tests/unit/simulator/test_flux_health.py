"""The simulated Flux's health check decides as fluxcd/pkg/ssa v0.76.2's WaitForSetWithContext
with fail-fast (kustomize-controller v1.9.6's default), over kstatus verdicts. Run here without
Go; tests/integration/test_flux_health_check.py holds the same decisions to the real code."""

from __future__ import annotations

import pytest

from simulator.world.flux_health import HealthCheck, Target, check_health, targets
from simulator.world.objects import Objects
from tests.fixtures.health_checks import T0, Placed, deployment, job, place, pod, world_objects


@pytest.fixture
def objects() -> Objects:
    return world_objects()


def _at(objects: Objects, placed: Placed, *, ttl: bool = False) -> Target:
    stored = place(objects, placed)
    meta = stored["metadata"]
    kind, name, namespace = stored["kind"], meta["name"], meta.get("namespace")
    return Target(stored["apiVersion"], kind, name, namespace, ttl_job=ttl)


def _poll(objects: Objects, waiting_on: list[Target], *, deadline: bool = False) -> HealthCheck:
    return check_health(objects, waiting_on, now=T0, deadline_passed=deadline)


def test_healthy_when_everything_is_current(objects: Objects) -> None:
    assert _poll(objects, [_at(objects, deployment("web", ready=1))]) == HealthCheck("healthy")


def test_waits_while_something_is_in_progress(objects: Objects) -> None:
    waiting_on = [
        _at(objects, deployment("web", ready=1)),
        _at(objects, deployment("api", ready=0)),
    ]
    assert _poll(objects, waiting_on) == HealthCheck("waiting")


def test_a_failed_object_fails_the_check_at_once_naming_only_it(objects: Objects) -> None:
    waiting_on = [
        _at(objects, deployment("api", ready=0)),
        _at(objects, job("migrate", failed=True)),
    ]
    assert _poll(objects, waiting_on) == HealthCheck(
        "failed",
        "failed early due to stalled resources: [Job/msp/migrate status: 'Failed']",
        stalled=True,
    )


def test_at_the_timeout_every_object_not_current_is_named(objects: Objects) -> None:
    waiting_on = [
        _at(objects, deployment("web", ready=1)),
        _at(objects, deployment("api", ready=0)),
        Target("apps/v1", "StatefulSet", "db", "msp"),
        _at(objects, job("migrate")),
    ]
    assert _poll(objects, waiting_on, deadline=True) == HealthCheck(
        "failed",
        "timeout waiting for: [Deployment/msp/api status: 'InProgress', "
        "StatefulSet/msp/db status: 'NotFound', Job/msp/migrate status: 'InProgress']",
    )


def test_a_job_with_a_ttl_that_is_gone_counts_as_current(objects: Objects) -> None:
    gone = Target("batch/v1", "Job", "migrate", "msp", ttl_job=True)
    assert _poll(objects, [_at(objects, deployment("web", ready=1)), gone]) == HealthCheck(
        "healthy"
    )
    waiting_on = [_at(objects, deployment("api", ready=0)), gone]
    assert _poll(objects, waiting_on) == HealthCheck("waiting")
    assert _poll(objects, waiting_on, deadline=True).error == (
        "timeout waiting for: [Deployment/msp/api status: 'InProgress']"
    )


def test_a_reader_error_is_unknown_with_the_error_beside_it(objects: Objects) -> None:
    assert _poll(objects, [_at(objects, pod("p", "Weird"))], deadline=True).error == (
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
    named = {"kind": "Deployment", "name": "web", "namespace": "msp"}
    checks = {**kust, "spec": {"healthChecks": [named]}}
    assert targets(checks, applied) == [Target("apps/v1", "Deployment", "web", "msp")]
