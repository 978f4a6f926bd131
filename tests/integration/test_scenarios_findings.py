"""Every finding has its own scenario; each replays to the state the field log observed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from simulator.world.engine import World

FINDINGS = Path(__file__).resolve().parents[2] / "scenarios" / "findings"


def _replay(name: str) -> World:
    (path,) = FINDINGS.glob(f"{name}-*.yaml")
    world = World.from_scenario(path)
    world.start()
    world.run_until(world.scenario.end)
    assert world.scheduler.errors == []
    return world


def _waiting_reason(world: World, app: str) -> str:
    pod = world.pods("msp", name=app)[0]
    return str(pod["status"]["containerStatuses"][0]["state"].get("waiting", {}).get("reason"))


def _notes(world: World) -> str:
    return " ".join(action.note or "" for _, action in world.actions_run)


CHECKS: dict[str, Callable[[World], bool]] = {
    "finding-01": lambda w: "192.168.64.1:53: connection refused" in _notes(w),
    "finding-02": lambda w: w.ready("Node", "appliance-single-node"),
    "finding-03": lambda w: "line 167: target: unbound variable" in _notes(w),
    "finding-04": lambda w: (
        "unknown authority" in _notes(w) and w.ready("Node", "appliance-single-node")
    ),
    "finding-05": lambda w: "recover" in _notes(w),
    "finding-06": lambda w: (
        bool(w.timeline.find(reason="Pulled", contains="in 16m2.1s"))
        and w.ready("Deployment", "alga-core", "msp")
    ),
    "finding-07": lambda w: _waiting_reason(w, "db") == "CreateContainerConfigError",
    "finding-08": lambda w: w.ready("StatefulSet", "db", "msp"),
    "finding-09": lambda w: (
        w.ready("Job", "alga-core-sebastian-bootstrap-r2", "msp")
        and w.get("HelmRelease", "alga-core", "alga-system")["status"]["history"][0]["version"] == 2
    ),  # type: ignore[index]
    "finding-10": lambda w: (
        w.store.execs.run(
            "msp", "db-0", "postgres", ["psql", "-tAc", "select count(*) from users;"]
        )[0]
        == "7\n"
    ),
    "finding-11": lambda w: w.app_ready_at is not None,
    "finding-12": lambda w: _waiting_reason(w, "temporal") == "CrashLoopBackOff",
    "finding-13": lambda w: w.ready("Deployment", "temporal", "msp"),
    "finding-14": lambda w: (
        w.ready("Deployment", "temporal-ui", "msp")
        and bool(w.timeline.find(reason="BackOff", name="temporal-ui-"))
    ),
    "finding-15": lambda w: (
        w.ready("Deployment", "email-service", "msp")
        and bool(w.timeline.find(reason="Failed", contains="context canceled"))
    ),
    "finding-16": lambda w: _waiting_reason(w, "workflow-worker") == "ImagePullBackOff",
    "finding-17": lambda w: (
        _waiting_reason(w, "temporal-worker") == "ImagePullBackOff"
        and w.registry.contents.tags("ghcr.io", "nine-minds/temporal-worker") == ["latest"]
    ),
}


@pytest.mark.parametrize("finding", sorted(CHECKS))
def test_finding_scenario_reproduces_the_observation(finding: str) -> None:
    """The finding's own scenario ends in the observed state."""
    assert CHECKS[finding](_replay(finding))


def test_every_finding_has_a_scenario() -> None:
    """scenarios/findings holds exactly findings 01-17."""
    names = sorted(p.name[: len("finding-00")] for p in FINDINGS.glob("finding-*.yaml"))
    assert names == [f"finding-{n:02d}" for n in range(1, 18)]
