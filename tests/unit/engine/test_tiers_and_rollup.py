"""Tier rules and rollup states (DESIGN.md tiers; field log F001-F003, F017, F020/F021, F026)."""

from __future__ import annotations

import json

from appliance.canonical import JobState, RollupState
from tests.fixtures import (
    APP_URL,
    RELEASE,
    Appliance,
    event,
    git_repository,
    held_by_dependency,
    helm_release,
    job,
    kustomization,
    missing_tag_message,
    node,
    pod,
    probe_refused,
    reconciling,
)
from tests.unit.engine.conftest import Evaluate

CANONICAL_KEYS = {
    "siteId",
    "timestamp",
    "release",
    "urls",
    "rollup",
    "tiers",
    "topBlockers",
    "components",
    "recentEvents",
    "activeOperations",
    "loginProbe",
    "bootstrap",
}


def test_T001_healthy_appliance_has_canonical_json_shape(
    world: Appliance, status_of: Evaluate
) -> None:
    """T001: a healthy appliance yields every canonical field in camelCase, fully healthy."""
    status = status_of(world)
    data = json.loads(status.to_json())
    assert set(data) >= CANONICAL_KEYS
    assert set(data["tiers"]) == {
        "platform",
        "core",
        "bootstrap",
        "login",
        "background",
        "fullHealth",
    }
    assert set(data["release"]) >= {
        "selectedReleaseVersion",
        "appVersion",
        "channel",
        "gitRevision",
    }
    assert set(data["urls"]) == {"statusUrl", "loginUrl"}
    assert set(data["rollup"]) == {"state", "message", "nextAction"}
    assert data["rollup"]["state"] == "fully_healthy"
    assert all(t["ready"] for t in data["tiers"].values())
    assert data["topBlockers"] == []
    assert data["release"]["gitRevision"].startswith("release/1.0-rc5@sha1:")
    assert data["bootstrap"]["seed"]["usersCount"] == 7
    assert {c["name"] for c in data["components"]} >= {"db", "redis", "pgbouncer", "alga-core"}


def test_T002_background_kustomization_failing_keeps_login_ready(
    world: Appliance, status_of: Evaluate
) -> None:
    """T002/F021: alga-background not Ready -> ready_with_background_issues, not failed."""
    world.put(
        kustomization(
            "alga-background",
            ready=False,
            reason="HealthCheckFailed",
            message="health check failed after 5m0s: timeout waiting for: "
            "[Deployment/msp/workflow-worker status: 'InProgress']",
        )
    )
    image = "ghcr.io/nine-minds/workflow-worker:61e4a00e"
    world.break_component(
        "workflow-worker", waiting=("ImagePullBackOff", f'Back-off pulling image "{image}"')
    )
    world.put(event("Pod", "workflow-worker-7f9c6d8b5-r8t4w", "Failed", missing_tag_message(image)))
    status = status_of(world)
    assert status.tiers.platform.ready
    assert status.tiers.login.ready
    assert not status.tiers.background.ready
    assert status.rollup.state is RollupState.READY_WITH_BACKGROUND_ISSUES
    assert status.rollup.next_action


def test_T003_core_db_not_ready_is_failed_action_required(
    world: Appliance, status_of: Evaluate
) -> None:
    """T003: db crash-looping -> login not ready, failed_action_required, db named."""
    world.break_component(
        "db",
        waiting=("CrashLoopBackOff", "back-off 5m0s restarting failed container=postgres pod=db-0"),
        terminated=(
            "Error",
            'FATAL:  data directory "/var/lib/postgresql/data" has wrong ownership',
        ),
    )
    status = status_of(world)
    assert not status.tiers.core.ready
    assert not status.tiers.login.ready
    assert status.rollup.state is RollupState.FAILED_ACTION_REQUIRED
    assert status.top_blockers[0].component == "db"
    assert status.top_blockers[0].login_blocking


def test_T010_completed_job_with_seeded_users_is_bootstrap_ready(
    world: Appliance, status_of: Evaluate
) -> None:
    """T010: completed bootstrap Job + 7 users + unhealthy HelmRelease -> bootstrap ready."""
    world.put(helm_release("alga-core", ready=False, message="Helm upgrade failed: timed out"))
    status = status_of(world, users=7)
    assert status.bootstrap.job.state is JobState.COMPLETED
    assert status.bootstrap.seed.users_count == 7
    assert status.tiers.bootstrap.ready


def test_bootstrap_not_ready_when_no_users_seeded(world: Appliance, status_of: Evaluate) -> None:
    """A completed Job with zero seeded users is not bootstrap ready."""
    status = status_of(world, users=0)
    assert not status.tiers.bootstrap.ready
    assert "no users" in status.tiers.bootstrap.reasons[0]


def test_unmeasurable_users_count_accepts_completed_job_with_note(
    world: Appliance, status_of: Evaluate
) -> None:
    """No exec right: a completed Job counts and the reasons say the count was not verified."""
    status = status_of(world, users=None, measurable=False)
    assert status.tiers.bootstrap.ready
    assert any("not verified" in r for r in status.tiers.bootstrap.reasons)
    assert status.bootstrap.seed.users_count is None
    assert not status.bootstrap.seed.verified


def test_bootstrap_job_running_is_installing(world: Appliance, status_of: Evaluate) -> None:
    """A running bootstrap Job: bootstrap not ready, rollup installing."""
    world.put(job(f"alga-core-{RELEASE}-bootstrap-r1", state="running"))
    status = status_of(world, probe=probe_refused())
    assert status.bootstrap.job.state is JobState.RUNNING
    assert not status.tiers.bootstrap.ready
    assert status.rollup.state is RollupState.INSTALLING


def test_newest_bootstrap_job_wins(world: Appliance, status_of: Evaluate) -> None:
    """finding-09: r1 failed, r2 completed -> bootstrap ready and no Job blocker."""
    world.put(
        job(f"alga-core-{RELEASE}-bootstrap-r1", state="failed", created="2026-04-29T13:00:00Z")
    )
    world.put(
        job(f"alga-core-{RELEASE}-bootstrap-r2", state="completed", created="2026-04-29T14:00:00Z")
    )
    status = status_of(world)
    assert status.bootstrap.job.name == f"alga-core-{RELEASE}-bootstrap-r2"
    assert status.tiers.bootstrap.ready
    assert not [b for b in status.top_blockers if b.layer == "Bootstrap job"]


def test_failed_bootstrap_job_is_action_required(world: Appliance, status_of: Evaluate) -> None:
    """A failed bootstrap Job blocks login and needs action (rerun after fixing)."""
    world.put(job(f"alga-core-{RELEASE}-bootstrap-r1", state="failed"))
    status = status_of(world, probe=probe_refused())
    assert status.rollup.state is RollupState.FAILED_ACTION_REQUIRED
    assert status.top_blockers[0].layer == "Bootstrap job"
    assert "reconcile helmrelease alga-core" in status.top_blockers[0].next_action


def test_bootstrap_falls_back_to_helmrelease_when_job_never_observed(
    world: Appliance, status_of: Evaluate
) -> None:
    """No bootstrap Job in the snapshot: a Ready alga-core HelmRelease counts."""
    world.remove("Job", "msp", f"alga-core-{RELEASE}-bootstrap-r1")
    assert status_of(world).tiers.bootstrap.ready
    world.put(helm_release("alga-core", ready=False, message="install retries exhausted"))
    assert not status_of(world).tiers.bootstrap.ready


def test_F026_login_needs_the_http_probe(world: Appliance, status_of: Evaluate) -> None:
    """F026: pods ready but the app URL refuses -> login not ready, installing."""
    status = status_of(world, probe=probe_refused())
    assert status.tiers.core.ready
    assert status.tiers.bootstrap.ready
    assert not status.tiers.login.ready
    assert APP_URL in status.tiers.login.reasons[0]
    assert status.rollup.state is RollupState.INSTALLING


def test_live_status_without_probe_is_not_login_ready(
    world: Appliance, status_of: Evaluate
) -> None:
    """A live status that never probed the app cannot claim LOGIN_READY."""
    status = status_of(world, no_probe=True)
    assert not status.tiers.login.ready
    assert "not probed" in status.tiers.login.reasons[0]


def test_dump_without_probe_counts_alga_core_readiness(
    world: Appliance, status_of: Evaluate
) -> None:
    """Offline dumps cannot be probed: alga-core readiness counts, with a note saying so."""
    status = status_of(world, no_probe=True, source="dump")
    assert status.tiers.login.ready
    assert any("offline dump" in r for r in status.tiers.login.reasons)


def test_F021_platform_reads_alga_platform_not_the_aggregate(
    world: Appliance, status_of: Evaluate
) -> None:
    """F020: platform follows Kustomization alga-platform; alga-background does not matter."""
    world.put(kustomization("alga-background", ready=False, reason="HealthCheckFailed"))
    assert status_of(world).tiers.platform.ready
    world.put(
        kustomization(
            "alga-platform", ready=False, reason="BuildFailed", message="kustomize build failed"
        )
    )
    status = status_of(world)
    assert not status.tiers.platform.ready
    assert any("alga-platform" in r for r in status.tiers.platform.reasons)


def test_platform_needs_a_ready_node_and_flux_source(world: Appliance, status_of: Evaluate) -> None:
    """A NotReady node or a failing GitRepository makes platform not ready."""
    world.put(node(ready=False))
    assert not status_of(world).tiers.platform.ready
    world.put(node())
    world.put(git_repository(ready=False, message="authentication required"))
    assert not status_of(world).tiers.platform.ready


def test_a_source_failing_after_the_install_does_not_block_login(
    world: Appliance, status_of: Evaluate
) -> None:
    """source-controller keeps its last artifact when a fetch fails (GitHub unreachable, a
    token expired) and the Kustomizations keep running it, so the app still answers: login
    stays ready and nothing blocks it; platform is not ready, and the rollup says why."""
    failing = git_repository(
        ready=False,
        message="failed to checkout and determine revision: unable to clone "
        "'https://github.com/nine-minds/alga-psa': dial tcp: lookup github.com: no such host",
    )
    failing["status"]["artifact"] = git_repository()["status"]["artifact"]
    world.put(failing)
    status = status_of(world)
    assert status.rollup.state.login_ready
    assert status.rollup.state is not RollupState.FULLY_HEALTHY
    assert not status.tiers.platform.ready
    assert status.top_blockers
    assert not any(b.login_blocking for b in status.top_blockers)
    assert "lookup github.com" in status.rollup.message


def test_finding_20_absent_status_service_is_reported(
    world: Appliance, status_of: Evaluate
) -> None:
    """finding-20: appliance-system empty -> platform reason and a Status service blocker."""
    world.remove("Deployment", "appliance-system", "appliance-status")
    world.remove("Pod", "appliance-system", "appliance-status-5c9f8d7b6-x2kqp")
    status = status_of(world)
    assert not status.tiers.platform.ready
    assert any("appliance-system" in r for r in status.tiers.platform.reasons)
    assert any(b.layer == "Status service" for b in status.top_blockers)
    # Login does not depend on the status page, but the appliance is not fully healthy.
    assert status.rollup.state is RollupState.READY
    assert "platform" in status.rollup.message
    assert status.rollup.next_action is not None


def test_background_never_blocks_login(world: Appliance, status_of: Evaluate) -> None:
    """Every background component down: still login ready."""
    for comp in ("email-service", "temporal", "temporal-ui", "workflow-worker", "temporal-worker"):
        world.break_component(
            comp, waiting=("CrashLoopBackOff", "back-off 40s restarting failed container")
        )
    status = status_of(world)
    assert status.tiers.login.ready
    assert not status.tiers.background.ready
    assert status.rollup.state is RollupState.READY_WITH_BACKGROUND_ISSUES
    assert all(not b.login_blocking for b in status.top_blockers)


def test_ready_while_background_still_starting(world: Appliance, status_of: Evaluate) -> None:
    """Background pods merely starting (no failure) -> `ready`."""
    world.break_component("temporal", waiting=("ContainerCreating", None))
    status = status_of(world)
    assert status.rollup.state is RollupState.READY
    assert not status.tiers.full_health.ready


def test_core_components_each_required(world: Appliance, status_of: Evaluate) -> None:
    """core needs db, redis and pgbouncer: any one missing makes core not ready."""
    for kind, name, pod_name_ in (
        ("StatefulSet", "redis", "redis-0"),
        ("Deployment", "pgbouncer", "pgbouncer-7b5d9c8f4-m9zt2"),
    ):
        w = Appliance(world.all())
        w.remove(kind, "msp", name)
        w.remove("Pod", "msp", pod_name_)
        status = status_of(w)
        assert not status.tiers.core.ready
        assert any(name in r for r in status.tiers.core.reasons)


def test_pods_only_dump_judges_components_by_pods(world: Appliance, status_of: Evaluate) -> None:
    """Without Deployments/StatefulSets in a dump, pod readiness decides components."""
    w = Appliance([o for o in world.all() if o["kind"] not in {"Deployment", "StatefulSet"}])
    assert status_of(w).tiers.core.ready
    w.put(
        pod(
            "redis-0",
            labels={"app": "redis"},
            ready=False,
            waiting=("CrashLoopBackOff", "back-off"),
        )
    )
    assert not status_of(w).tiers.core.ready


def test_api_unreachable_is_platform_blocker() -> None:
    """API unreachable: platform not ready with the reason, a Kubernetes API blocker first."""
    from datetime import UTC, datetime

    from appliance.engine import evaluate
    from appliance.snapshot import Snapshot

    snap = Snapshot(
        server_time=datetime(2026, 4, 29, tzinfo=UTC),
        api_error="https://192.168.64.8:6443: connection refused",
    )
    status = evaluate(
        snap, site_id="s", login_probe=None, users_count=None, users_count_measurable=False
    )
    assert not status.cluster.reachable
    assert "connection refused" in status.tiers.platform.reasons[0]
    assert status.top_blockers[0].layer == "Kubernetes API"
    assert status.rollup.state is RollupState.FAILED_ACTION_REQUIRED
    for tier in ("platform", "core", "bootstrap", "login", "background", "full_health"):
        t = getattr(status.tiers, tier)
        assert not t.ready
        assert t.reasons


def test_a_routine_reconcile_of_the_applied_revision_is_not_an_install(
    world: Appliance, status_of: Evaluate
) -> None:
    """kustomize-controller reconciles every interval (1m here), and each time writes Ready
    Unknown 'Reconciliation in progress' until its apply and health check pass again: a
    Kustomization re-applying the revision it applied stays ready, so the rollup does not flap
    every minute (kustomization_controller.go v1.9.6, reconcile)."""
    world.put(reconciling("alga-platform"))
    world.put(reconciling("alga-core", stage="Running health checks"))
    world.put(reconciling("alga-background", stage="Detecting drift"))
    status = status_of(world)
    assert status.rollup.state == RollupState.FULLY_HEALTHY, status.rollup.message
    assert status.tiers.platform.ready


def test_a_new_revision_being_applied_is_progress_not_health(
    world: Appliance, status_of: Evaluate
) -> None:
    """The same Ready Unknown while a new commit is applied (Reconciling names another revision),
    or after a failed health check (Healthy False), is not a settled install."""
    world.put(reconciling("alga-platform", revision="release/1.0-rc5@sha1:" + "9" * 40))
    status = status_of(world)
    assert not status.tiers.platform.ready
    assert any("alga-platform" in r for r in status.tiers.platform.reasons)
    world.put(kustomization("alga-platform"))
    world.put(reconciling("alga-core", healthy=False))
    assert status_of(world).rollup.state != RollupState.FULLY_HEALTHY


def test_a_dependent_held_by_a_routine_reconcile_stays_ready(
    world: Appliance, status_of: Evaluate
) -> None:
    """A dependent whose interval reconcile found its dependency re-applying is Ready False,
    DependencyNotReady, for the 30 s until its retry (seen on the real control plane): with
    the dependency re-applying or Ready again on the same revision, it stands by what it
    applied, and a chain of such holds (background on core on platform) does too."""
    world.put(reconciling("alga-platform"))
    world.put(held_by_dependency("alga-core"))
    world.put(held_by_dependency("alga-background"))
    status = status_of(world)
    assert status.rollup.state == RollupState.FULLY_HEALTHY, status.rollup.message
    world.put(kustomization("alga-platform"))  # its re-apply done; core still waits its retry
    assert status_of(world).rollup.state == RollupState.FULLY_HEALTHY


def test_a_dependent_held_by_a_change_is_not_ready(world: Appliance, status_of: Evaluate) -> None:
    """The same DependencyNotReady is not routine when the dependency applies a new revision,
    has applied one the dependent has not, or failed its health check; nor when the dependent
    itself has a changed spec to apply, or never applied anything."""
    new = "release/1.0-rc5@sha1:" + "9" * 40
    held = held_by_dependency("alga-core")
    changed_spec = held_by_dependency("alga-core")
    changed_spec["metadata"]["generation"] = 2
    never_applied = held_by_dependency("alga-core")
    del never_applied["status"]["lastAppliedRevision"]
    for platform, core in (
        (reconciling("alga-platform", revision=new), held),
        (reconciling("alga-platform", healthy=False), held),
        (kustomization("alga-platform"), held_by_dependency("alga-core", revision=new)),
        (kustomization("alga-platform"), changed_spec),
        (kustomization("alga-platform"), never_applied),
    ):
        world.put(platform)
        world.put(core)
        status = status_of(world)
        assert status.rollup.state != RollupState.FULLY_HEALTHY, (platform, core["status"])
        assert any("alga-core: DependencyNotReady" in r for r in status.tiers.full_health.reasons)


def test_a_reconcile_of_a_changed_spec_is_not_routine(
    world: Appliance, status_of: Evaluate
) -> None:
    """Ready Unknown for the applied revision after the spec changed (new images, say: the
    generation moved past observedGeneration) is an apply of something new."""
    changed = reconciling("alga-platform")
    changed["metadata"]["generation"] = 2
    world.put(changed)
    assert not status_of(world).tiers.platform.ready
