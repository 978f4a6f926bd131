"""Crash explanations that live only in a container's previous log (findings 12 and 14)."""

from __future__ import annotations

from dataclasses import replace

from appliance.canonical import ApplianceStatus, RollupState
from appliance.cluster.reading import crashed_containers
from appliance.engine import evaluate
from appliance.snapshot import ContainerRef
from tests.fixtures import MSG_SERVICE_LINK, MSG_TEMPORAL_SCHEMA, Appliance, probe_ok
from tests.unit.engine.conftest import Evaluate

CRASH = ("CrashLoopBackOff", "back-off 2m40s restarting failed container")


def _crash_with_log(world: Appliance, component: str, text: str) -> dict[ContainerRef, str]:
    """Break `component` with a bare `Error` exit (no termination message); its log is `text`."""
    broken = world.break_component(component, waiting=CRASH, terminated=("Error", None))
    meta = broken["metadata"]
    container = broken["spec"]["containers"][0]["name"]
    return {(meta["namespace"], meta["name"], container): text}


def _status(world: Appliance, logs: dict[ContainerRef, str]) -> ApplianceStatus:
    return evaluate(
        replace(world.snapshot(), container_logs=logs),
        site_id="appliance-single-node",
        login_probe=probe_ok(),
        users_count=7,
        users_count_measurable=True,
    )


def test_temporal_schema_error_read_from_the_previous_log(world: Appliance) -> None:
    """finding-12: the schema error only in `logs --previous` still names its layer."""
    log = f"2026-06-20T15:02:11Z INFO starting\n{MSG_TEMPORAL_SCHEMA}\n"
    status = _status(world, _crash_with_log(world, "temporal", log))
    layers = {(b.layer, b.component) for b in status.top_blockers}
    assert ("Temporal schema initialization", "temporal") in layers
    assert all(b.layer != "Unclassified failure" for b in status.top_blockers)
    assert status.rollup.state is RollupState.READY_WITH_BACKGROUND_ISSUES


def test_service_link_collision_read_from_the_previous_log(world: Appliance) -> None:
    """finding-14: the unmarshal error only in `logs --previous` still names its layer."""
    status = _status(world, _crash_with_log(world, "temporal-ui", MSG_SERVICE_LINK))
    top = status.top_blockers[0]
    assert top.layer == "Kubernetes service-link environment collision"
    assert top.component == "temporal-ui"
    assert not top.login_blocking


def test_without_the_log_the_crash_is_still_named(world: Appliance, status_of: Evaluate) -> None:
    """No log (e.g. an offline dump): the crash loop is reported generically, never silenced."""
    _crash_with_log(world, "temporal", MSG_TEMPORAL_SCHEMA)
    status = status_of(world)
    assert any(b.component == "temporal" for b in status.top_blockers)
    assert all(b.layer != "Temporal schema initialization" for b in status.top_blockers)


def test_crashed_containers_lists_only_failed_exits_without_a_message(world: Appliance) -> None:
    """Only containers whose last exit failed with no termination message need their log."""
    world.break_component("temporal", waiting=CRASH, terminated=("Error", None))
    world.break_component("temporal-ui", waiting=CRASH, terminated=("Error", MSG_SERVICE_LINK))
    refs = crashed_containers(world.snapshot().pods)
    assert [(ns, pod.split("-")[0]) for ns, pod, _ in refs] == [("msp", "temporal")]


def test_crashed_containers_is_bounded(world: Appliance) -> None:
    """A crash-looping cluster costs a bounded number of log reads."""
    for component in ("temporal", "temporal-ui", "email-service", "workflow-worker"):
        world.break_component(component, waiting=CRASH, terminated=("Error", None))
    assert len(crashed_containers(world.snapshot().pods, limit=2)) == 2
