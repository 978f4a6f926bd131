"""The utm-rc5-observed world replays the field log's findings in virtual time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from simulator.api.store import pod_log
from simulator.world.engine import World

SCENARIO = Path(__file__).resolve().parents[3] / "scenarios" / "utm-rc5-observed.yaml"
MIN = 60.0


@pytest.fixture(scope="module")
def world() -> World:
    """One replay of the whole observed timeline, inspected by every test of this module."""
    replay = World.from_scenario(SCENARIO)
    replay.start()
    checkpoints: dict[str, Any] = {}
    replay.run_until(30 * MIN)
    checkpoints["db_at_30m"] = replay.get("Pod", "db-0", "msp")
    checkpoints["core_ready_at_30m"] = replay.ready("Deployment", "alga-core", "msp")
    checkpoints["temporal_at_30m"] = replay.pods("msp", name="temporal")
    checkpoints["email_at_30m"] = replay.pods("msp", name="email-service")
    checkpoints["logs_at_30m"] = {
        name: pod_log(
            replay.store, "msp", replay.pods("msp", name=name)[0]["metadata"]["name"], name
        )
        for name in ("temporal", "temporal-ui")
    }
    replay.run_until(80 * MIN)
    replay.checkpoints = checkpoints  # type: ignore[attr-defined]
    return replay


def _waiting(pod: dict[str, Any]) -> dict[str, Any]:
    for status in pod["status"].get("containerStatuses") or []:
        if "waiting" in status["state"]:
            return dict(status["state"]["waiting"])
    return {}


def test_replay_runs_without_errors(world: World) -> None:
    """No reaction raised while replaying 80 virtual minutes."""
    assert world.scheduler.errors == []
    assert world.elapsed == 80 * MIN


def test_core_image_pull_takes_sixteen_minutes(world: World) -> None:
    """finding-06: the alga-core pull reports 16m2.1s and 1.8 GB, like kubelet."""
    pulled = world.timeline.find(
        reason="Pulled", contains="alga-psa-ee:94446747", name="alga-core-"
    )
    assert any(
        "in 16m2.1s (16m2.1s including waiting). Image size: 1800000000 bytes." in e.message
        for e in pulled
    )
    pulling = world.timeline.find(reason="Pulling", contains="alga-psa-ee:94446747")
    assert min(p.at for p in pulled) - min(p.at for p in pulling) == pytest.approx(962.1, abs=1)


def test_db_subpath_failure_then_manual_fix(world: World) -> None:
    """findings 07-08: db-0 CreateContainerConfigError until the fix Job and a pod delete."""
    before = world.checkpoints["db_at_30m"]  # type: ignore[attr-defined]
    assert _waiting(before)["reason"] == "CreateContainerConfigError"
    assert (
        'failed to create subPath directory for volumeMount "db-data"'
        in _waiting(before)["message"]
    )
    assert world.ready("Pod", "db-0", "msp")


def test_bootstrap_job_times_out_then_revision_two_completes(world: World) -> None:
    """finding-09: the first Job fails, Helm: context deadline exceeded; revision 2 completes."""
    first = world.get("Job", "alga-core-sebastian-bootstrap-r1", "msp")
    assert first is not None
    assert any(c["type"] == "Failed" for c in first["status"]["conditions"])
    assert world.ready("Job", "alga-core-sebastian-bootstrap-r2", "msp")
    assert world.timeline.find(reason="InstallFailed", contains="context deadline exceeded")
    release = world.get("HelmRelease", "alga-core", "alga-system")
    assert release is not None
    assert release["status"]["history"][0]["version"] == 2
    assert "alga-core.v2" in release["status"]["conditions"][0]["message"]


def test_users_count_answers_seven_after_bootstrap(world: World) -> None:
    """finding-10: exec of the psql count prints 7 once the Job completed."""
    command = [
        "sh",
        "-c",
        "PGPASSWORD=x psql -U postgres -d server -tAc 'select count(*) from users;'",
    ]
    assert world.store.execs.run("msp", "db-0", "postgres", command) == ("7\n", "", 0)


def test_app_becomes_ready_after_core(world: World) -> None:
    """finding-11: the app answers only once alga-core is ready, after the DB fix."""
    assert world.checkpoints["core_ready_at_30m"] is False  # type: ignore[attr-defined]
    assert world.app_ready_at is not None
    assert 39 * MIN < world.app_ready_at < 50 * MIN


def test_temporal_schema_failure_until_autosetup(world: World) -> None:
    """findings 12-13: Temporal crash-loops on the schema check until patched to autosetup."""
    before = world.checkpoints["temporal_at_30m"]  # type: ignore[attr-defined]
    assert _waiting(before[0])["reason"] == "CrashLoopBackOff"
    log = world.checkpoints["logs_at_30m"]["temporal"]  # type: ignore[attr-defined]
    assert "sql schema version compatibility check failed" in log
    assert world.ready("Deployment", "temporal", "msp")


def test_temporal_ui_service_link_collision_until_disabled(world: World) -> None:
    """finding-14: Temporal UI fails on TEMPORAL_PORT=tcp://... until service links are off."""
    crashed = world.timeline.find(reason="BackOff", name="temporal-ui-")
    assert crashed
    log = world.checkpoints["logs_at_30m"]["temporal-ui"]  # type: ignore[attr-defined]
    assert "cannot unmarshal !!str `tcp://" in log
    assert world.ready("Deployment", "temporal-ui", "msp")


def test_email_service_first_pull_canceled_then_retry_succeeds(world: World) -> None:
    """finding-15: the first email-service pull is canceled; the recreated pod becomes Ready."""
    pod = world.checkpoints["email_at_30m"][0]  # type: ignore[attr-defined]
    assert _waiting(pod)["reason"] == "ImagePullBackOff"
    assert "context canceled" in _waiting(pod)["message"]
    assert world.ready("Deployment", "email-service", "msp")


@pytest.mark.parametrize("name", ["workflow-worker", "temporal-worker"])
def test_missing_background_tags_stay_in_backoff(world: World, name: str) -> None:
    """findings 16-17: the :61e4a00e tags are not found; the pods stay ImagePullBackOff."""
    pods = world.pods("msp", name=name)
    assert _waiting(pods[0])["reason"] == "ImagePullBackOff"
    failed = world.timeline.find(reason="Failed", contains=f"{name}:61e4a00e: not found")
    assert failed
    assert "rpc error: code = NotFound desc = failed to pull and unpack image" in failed[0].message
    assert world.timeline.find(
        reason="BackOff", contains=f'Back-off pulling image "ghcr.io/nine-minds/{name}'
    )


def test_notes_cover_the_host_findings(world: World) -> None:
    """findings 01-05 appear as notes with their real messages."""
    notes = " ".join(action.note or "" for _, action in world.actions_run)
    assert "lookup factory.talos.dev on 192.168.64.1:53: connection refused" in notes
    assert "line 167: target: unbound variable" in notes
    assert "x509: certificate signed by unknown authority" in notes
    assert world.ready("Node", "appliance-single-node")
