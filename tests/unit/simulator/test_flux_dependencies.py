"""The world's kustomize-controller checks `dependsOn` as checkDependencies does (v1.9.6)."""

from __future__ import annotations

from typing import Any

import pytest

from simulator.world.flux_dependencies import dependency_problem
from simulator.world.objects import Objects
from tests.fixtures.health_checks import kustomization, place, world_objects

Obj = dict[str, Any]
REVISION = "main@sha1:2b7f"
READY = {"type": "Ready", "status": "True", "reason": "ReconciliationSucceeded", "message": "ok"}


@pytest.fixture
def objects() -> Objects:
    return world_objects()


def _core(**dependency: str) -> Obj:
    core, _ = kustomization("alga-core", READY)
    core["spec"]["dependsOn"] = [{"name": "alga-platform", **dependency}]
    return core


def _platform(objects: Objects, status: Obj, **source: str) -> None:
    platform, _ = kustomization("alga-platform", READY)
    platform["spec"]["sourceRef"] = {**platform["spec"]["sourceRef"], **source}
    place(objects, (platform, status))


def test_ready_when_the_dependency_applied_this_revision(objects: Objects) -> None:
    _platform(
        objects, {"observedGeneration": 1, "conditions": [READY], "lastAppliedRevision": REVISION}
    )
    assert dependency_problem(objects, _core(), REVISION) is None


def test_a_missing_dependency_is_named_with_the_api_readers_error(objects: Objects) -> None:
    assert dependency_problem(objects, _core(), REVISION) == (
        "dependency 'flux-system/alga-platform' not found: "
        'kustomizations.kustomize.toolkit.fluxcd.io "alga-platform" not found'
    )
    assert dependency_problem(objects, _core(namespace="other"), REVISION) == (
        "dependency 'other/alga-platform' not found: "
        'kustomizations.kustomize.toolkit.fluxcd.io "alga-platform" not found'
    )


@pytest.mark.parametrize(
    "status",
    [
        {"observedGeneration": 1},  # no conditions yet
        {"observedGeneration": -1, "conditions": [READY]},  # its generation not observed
        {"observedGeneration": 1, "conditions": [{**READY, "status": "False"}]},
    ],
)
def test_not_ready(objects: Objects, status: Obj) -> None:
    _platform(objects, {**status, "lastAppliedRevision": REVISION})
    assert dependency_problem(objects, _core(), REVISION) == (
        "dependency 'flux-system/alga-platform' is not ready"
    )


def test_on_the_same_source_it_must_have_applied_the_same_revision(objects: Objects) -> None:
    _platform(
        objects,
        {"observedGeneration": 1, "conditions": [READY], "lastAppliedRevision": "main@sha1:old"},
    )
    assert dependency_problem(objects, _core(), REVISION) == (
        "dependency 'flux-system/alga-platform' revision is not up to date"
    )


def test_on_another_source_its_revision_is_its_own(objects: Objects) -> None:
    _platform(
        objects,
        {"observedGeneration": 1, "conditions": [READY], "lastAppliedRevision": "v2@sha1:other"},
        name="platform-source",
    )
    assert dependency_problem(objects, _core(), REVISION) is None
