"""Active operations: image pulls in progress (finding-06, finding-18)."""

from __future__ import annotations

from appliance.canonical import RollupState
from appliance.operations import human_size, image_repository
from tests.fixtures import (
    CORE_IMAGE,
    RELEASE,
    Appliance,
    event,
    pod,
    pod_name,
    probe_refused,
)
from tests.unit.engine.conftest import Evaluate


def test_finding_18_core_pull_in_progress_is_installing(
    world: Appliance, status_of: Evaluate
) -> None:
    """finding-18: while the core image pulls, rollup is installing with an active operation."""
    world.core_image_pulling(started=-600)
    world.remove("Job", "msp", f"alga-core-{RELEASE}-bootstrap-r1")
    status = status_of(world, probe=probe_refused())
    assert status.rollup.state is RollupState.INSTALLING
    op = status.active_operations[0]
    assert op.component == "alga-core"
    assert op.image == CORE_IMAGE
    assert op.elapsed_seconds == 600.0
    assert op.progress_available is False
    assert "no byte-level progress" in op.note
    assert "pulling" in status.rollup.message


def test_core_pull_keeps_installing_despite_stuck_blockers(
    world: Appliance, status_of: Evaluate
) -> None:
    """A core pull in progress keeps `installing` even when a Helm timeout is reported."""
    from tests.fixtures import MSG_HELM_TIMEOUT, helm_release

    world.core_image_pulling()
    world.put(
        helm_release("alga-core", ready=False, reason="InstallFailed", message=MSG_HELM_TIMEOUT)
    )
    status = status_of(world, probe=probe_refused())
    assert status.rollup.state is RollupState.INSTALLING


def test_estimated_size_from_table(world: Appliance, status_of: Evaluate) -> None:
    """alga-psa-ee is estimated at ~1.8 GB when no earlier pull reported a size."""
    world.events = [e for e in world.events if "Image size" not in e["message"]]
    world.core_image_pulling()
    op = status_of(world, probe=probe_refused()).active_operations[0]
    assert op.estimated_size == "~1.8 GB"
    assert op.estimated_size_bytes == 1_800_000_000


def test_estimated_size_refined_by_earlier_pulled_event(
    world: Appliance, status_of: Evaluate
) -> None:
    """An earlier `Pulled ... Image size: N bytes` of the same repository refines the size."""
    world.put(
        event(
            "Pod",
            "alga-core-sebastian-bootstrap-r1-x7k2p",
            "Pulled",
            'Successfully pulled image "ghcr.io/nine-minds/alga-psa-ee:1111aaaa" in 15m1.2s '
            "(15m1.2s including waiting). Image size: 1912345678 bytes.",
            type_="Normal",
            first=-5000,
        )
    )
    world.events = [e for e in world.events if "1843200000" not in e["message"]]
    world.core_image_pulling()
    op = status_of(world, probe=probe_refused()).active_operations[0]
    assert op.estimated_size_bytes == 1912345678
    assert op.estimated_size == "~1.9 GB"


def test_pulled_event_ends_the_operation(world: Appliance, status_of: Evaluate) -> None:
    """A later `Successfully pulled` means the pull is no longer active."""
    world.core_image_pulling(started=-900)
    world.put(
        event(
            "Pod",
            pod_name("alga-core"),
            "Pulled",
            f'Successfully pulled image "{CORE_IMAGE}" in 14m58s (14m58s including waiting). '
            "Image size: 1843200000 bytes.",
            type_="Normal",
            first=-2,
        )
    )
    assert status_of(world, probe=probe_refused()).active_operations == []


def test_already_present_image_is_no_pull(world: Appliance, status_of: Evaluate) -> None:
    """`Container image ... already present on machine` ends a Pulling too."""
    world.core_image_pulling(started=-30)
    world.put(
        event(
            "Pod",
            pod_name("alga-core"),
            "Pulled",
            f'Container image "{CORE_IMAGE}" already present on machine',
            type_="Normal",
            first=-1,
        )
    )
    assert status_of(world, probe=probe_refused()).active_operations == []


def test_running_container_has_no_active_pull(world: Appliance, status_of: Evaluate) -> None:
    """A Pulling event for a pod whose containers all run is not active (stale event)."""
    world.put(
        event(
            "Pod",
            pod_name("alga-core"),
            "Pulling",
            f'Pulling image "{CORE_IMAGE}"',
            type_="Normal",
            first=-100,
        )
    )
    assert status_of(world).active_operations == []


def test_elapsed_uses_cluster_time(world: Appliance, status_of: Evaluate) -> None:
    """Elapsed is measured against the snapshot's server time, not the local clock."""
    from datetime import timedelta

    from tests.fixtures import NOW

    world.core_image_pulling(started=-600)
    later = status_of(world, probe=probe_refused(), server_time=NOW + timedelta(minutes=10))
    assert later.active_operations[0].elapsed_seconds == 1200.0


def test_background_pull_does_not_hold_rollup(world: Appliance, status_of: Evaluate) -> None:
    """A background image pull is reported but login readiness is unaffected."""
    name = pod_name("workflow-worker")
    image = "ghcr.io/nine-minds/workflow-worker:61e4a00e"
    world.break_component("workflow-worker", waiting=("ContainerCreating", None), image=image)
    world.put(event("Pod", name, "Pulling", f'Pulling image "{image}"', type_="Normal", first=-45))
    status = status_of(world)
    assert status.active_operations[0].component == "workflow-worker"
    assert status.active_operations[0].estimated_size is None
    assert status.rollup.state is RollupState.READY


def test_image_repository_and_human_size() -> None:
    """Repository strips tag and digest but not a registry port; sizes read like `~1.8 GB`."""
    assert (
        image_repository("ghcr.io/nine-minds/alga-psa-ee:94446747")
        == "ghcr.io/nine-minds/alga-psa-ee"
    )
    assert image_repository("localhost:5000/app@sha256:abc") == "localhost:5000/app"
    assert image_repository("localhost:5000/app") == "localhost:5000/app"
    assert human_size(1_800_000_000) == "~1.8 GB"
    assert human_size(52_000_000) == "~52.0 MB"


def test_stuck_blocker_elsewhere_outranks_a_core_pull(
    world: Appliance, status_of: Evaluate
) -> None:
    """T009 during the 16-minute pull: db's subPath failure will not clear by waiting for
    alga-core's image, so the rollup asks for action while the pull stays listed."""
    from tests.fixtures import MSG_SUBPATH

    world.core_image_pulling()
    world.break_component("db", waiting=("CreateContainerConfigError", MSG_SUBPATH))
    world.put(
        event("Pod", "db-0", "Failed", f"Error: {MSG_SUBPATH}", first=-900, last=-20, count=40)
    )
    status = status_of(world, probe=probe_refused())
    assert status.rollup.state is RollupState.FAILED_ACTION_REQUIRED
    assert "Core Postgres storage initialization" in status.rollup.message
    assert status.active_operations[0].component == "alga-core"


def test_a_bootstrap_job_pulling_its_image_is_not_migrating(
    world: Appliance, status_of: Evaluate
) -> None:
    """Issue 14: while the bootstrap Job's pod pulls the core image, the bootstrap tier and the
    page's current step say it is pulling, never that migrations run."""
    from status_web.observations import Observation
    from status_web.rendering import render_overview

    boot = f"alga-core-{RELEASE}-bootstrap-r1"
    world.core_image_pulling(started=-300, bootstrap_job=True)
    status = status_of(world, probe=probe_refused())
    reason = status.tiers.bootstrap.reasons[-1]
    assert reason == (
        f"bootstrap Job {boot} has not started its migrations: pulling {CORE_IMAGE} "
        "(5m00s so far, ~1.8 GB)"
    )
    assert status.tiers.core.ready
    assert not status.tiers.bootstrap.ready
    page = render_overview(
        Observation(status=status, age_seconds=0.0, stale=False, api_error=None, version=1)
    )
    assert "Current step: Bootstrap: bootstrap Job" in page
    assert "has not started its migrations: pulling" in page
    assert "migrations and seeds" not in page


def test_a_running_bootstrap_job_whose_pod_runs_is_migrating(
    world: Appliance, status_of: Evaluate
) -> None:
    """Once its pod runs, the running Job is described as running migrations and seeds."""
    from tests.fixtures import job

    boot = f"alga-core-{RELEASE}-bootstrap-r1"
    world.put(job(boot, state="running"))
    world.put(
        pod(
            f"{boot}-x7k2p",
            labels={"batch.kubernetes.io/job-name": boot, "job-name": boot},
            image=CORE_IMAGE,
            container="bootstrap",
            ready=True,
        )
    )
    status = status_of(world, probe=probe_refused())
    assert status.tiers.bootstrap.reasons == [
        f"bootstrap Job {boot} is running (migrations and seeds)"
    ]
