"""The detector registry: one layer per detector, root causes before generic timeouts, and
coverage that grows with what is found (not with the square of it)."""

from __future__ import annotations

import pytest

from appliance.blockers import detect_blockers, registered
from appliance.blockers import registry as registry_module
from appliance.blockers.registry import Covered, detector
from appliance.canonical import Blocker, Evidence
from appliance.indexing import Index, build_index
from tests.fixtures import Appliance, canceled_pull_message, event, pod

# The field log's order of importance after login impact (T009: root causes first).
EXPECTED_ORDER = [
    "Kubernetes API",
    "Platform DNS resolution",
    "Kubernetes node",
    "Core Postgres storage initialization",
    "Image tag availability",
    "Temporal schema initialization",
    "Kubernetes service-link environment collision",
    "Pod admission",
    "Storage binding",
    "Workload container",
    "Workload rollout",
    "Bootstrap job",
    "Job",
    "Image pull interruption",
    "Pod scheduling",
    "Status service",
    "Flux source",
    "Flux reconciliation",
    "Helm release",
    "Object outside the appliance",
    "Unclassified failure",
]


def test_layers_rank_root_causes_before_generic_timeouts() -> None:
    """Every layer has one detector and one rank; ranks order the layers as the field log did."""
    entries = registered()
    layers = [e.layer for e in sorted(entries, key=lambda e: e.rank)]
    assert layers == EXPECTED_ORDER
    assert len({e.rank for e in entries}) == len(entries)


def test_specialised_detectors_run_first() -> None:
    """Root causes run before generic detectors, so the generic ones can skip what they cover."""
    flags = [e.specialised for e in registered()]
    assert flags == sorted(flags, reverse=True)
    assert not registered()[-1].specialised


def test_a_layer_cannot_be_registered_twice() -> None:
    """A second detector for a taken layer is refused at import time."""
    with pytest.raises(ValueError, match="already taken"):

        @detector(layer="Kubernetes API", rank=12345, specialised=True)
        def again(index: Index, covered: Covered) -> list[Blocker]:
            return []


def test_a_new_detector_is_one_decorated_function(
    world: Appliance, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Registering a function is all it takes for its blockers to be found and ranked."""
    monkeypatch.setattr(registry_module, "_REGISTRY", list(registry_module._REGISTRY))

    @detector(layer="Test layer", rank=15, specialised=True)
    def detect_test(index: Index, covered: Covered) -> list[Blocker]:
        return [
            Blocker(
                layer="Test layer",
                reason="found",
                next_action="none",
                login_blocking=True,
                evidence=[Evidence(object="Pod/msp/db-0", message="m")],
            )
        ]

    blockers = detect_blockers(build_index(world.snapshot()))
    assert [b.layer for b in blockers] == ["Test layer"]


def test_coverage_grows_linearly_with_what_is_found(
    world: Appliance, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each blocker is added to the coverage once (the old loop re-added all found so far)."""
    for i in range(30):
        name = f"worker{i}-7f9c6d8b5-r8t4w"
        image = f"ghcr.io/nine-minds/worker{i}:1"
        world.put(
            pod(
                name,
                labels={"app": f"worker{i}"},
                image=image,
                ready=False,
                waiting=("ErrImagePull", canceled_pull_message(image)),
            )
        )
        world.put(event("Pod", name, "Failed", canceled_pull_message(image), first=-60))
    calls = 0
    add = Covered.add

    def counting(self: Covered, blocker: Blocker, *, component: bool) -> None:
        nonlocal calls
        calls += 1
        add(self, blocker, component=component)

    monkeypatch.setattr(Covered, "add", counting)
    blockers = detect_blockers(build_index(world.snapshot()))
    assert len(blockers) >= 30
    assert calls == len(blockers)
