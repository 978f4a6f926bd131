"""Issue 10's defects, each on real object shapes: rollouts, terminated containers, Jobs, Flux
timeouts with a root cause, and component identity scoped to the appliance's namespaces."""

from __future__ import annotations

from typing import Any

from appliance.canonical import ApplianceStatus, RollupState
from tests.fixtures import (
    BOOTSTRAP_JOB,
    Appliance,
    canceled_pull_message,
    kustomization,
    missing_tag_message,
    pod_name,
)
from tests.fixtures.argo import load_object_file
from tests.fixtures.objects import labels, pod
from tests.fixtures.workloads import statefulset

WORKFLOW_IMAGE = "ghcr.io/nine-minds/workflow-worker:61e4a00e"
CORE = "alga-core-sebastian"


def _as_alga_core(file: str) -> dict[str, Any]:
    """An Argo test Deployment as alga-core's Deployment (spec, status and conditions kept)."""
    obj = load_object_file(file)
    obj["metadata"].update(name=CORE, namespace="msp", labels=labels("alga-core"))
    return obj


def _layers(status: ApplianceStatus) -> list[str]:
    return [b.layer for b in status.top_blockers]


# --- item 2: rollouts -----------------------------------------------------------------------


def test_a_timed_out_rollout_is_named_while_the_old_replica_serves() -> None:
    """ProgressDeadlineExceeded with the previous replica ready: a rollout blocker, login still
    works, so the rollup is ready with issues (never fully healthy)."""
    appliance = Appliance.healthy()
    appliance.put(_as_alga_core("gitops-engine/deployment-degraded.yaml"))
    status = appliance.evaluate()
    rollout = next(b for b in status.top_blockers if b.layer == "Workload rollout")
    assert "timed out" in rollout.reason
    assert "previous replicas still serve" in rollout.reason
    assert not rollout.login_blocking
    assert status.rollup.state is RollupState.READY_WITH_BACKGROUND_ISSUES


def test_a_timed_out_rollout_without_a_serving_replica_needs_action() -> None:
    """The same rollout with no ready replica and the app not answering: action required."""
    appliance = Appliance.healthy()
    deployment = _as_alga_core("gitops-engine/deployment-degraded.yaml")
    deployment["status"].update(readyReplicas=0, availableReplicas=0, unavailableReplicas=2)
    appliance.put(deployment)
    appliance.app_refuses()
    status = appliance.evaluate()
    assert status.top_blockers[0].layer == "Workload rollout"
    assert status.top_blockers[0].login_blocking
    assert status.rollup.state is RollupState.FAILED_ACTION_REQUIRED


def test_a_rollout_in_progress_is_not_fully_healthy() -> None:
    """updatedReplicas < replicas or old replicas pending: ready, with the rollout as the reason."""
    appliance = Appliance.healthy()
    appliance.put(_as_alga_core("gitops-engine/deployment-progressing.yaml"))
    status = appliance.evaluate()
    assert status.rollup.state is RollupState.READY
    assert not status.top_blockers
    assert any("rolling out" in r for r in status.tiers.full_health.reasons)
    assert "rolling out" in status.rollup.message


def test_a_paused_rollout_says_paused() -> None:
    """spec.paused: never fully healthy, and the reason says the rollout is paused."""
    appliance = Appliance.healthy()
    appliance.put(_as_alga_core("gitops-engine/deployment-suspended.yaml"))
    status = appliance.evaluate()
    assert status.rollup.state is not RollupState.FULLY_HEALTHY
    assert any("paused" in r for r in status.tiers.full_health.reasons)


def test_a_statefulset_rolling_update_is_not_fully_healthy() -> None:
    """updateRevision != currentRevision on db (RollingUpdate): the update is still rolling."""
    appliance = Appliance.healthy()
    db = statefulset("db", labels={"app": "db"})
    db["spec"]["updateStrategy"] = {"type": "RollingUpdate"}
    db["status"]["updateRevision"] = "db-7c9d8b6f5d"
    appliance.put(db)
    status = appliance.evaluate()
    assert status.rollup.state is not RollupState.FULLY_HEALTHY
    assert any(r.startswith("db: rolling update") for r in status.tiers.full_health.reasons)


# --- item 3: terminated containers ----------------------------------------------------------


def test_a_container_that_just_exited_names_its_exit_code() -> None:
    """Argo's pod-error (state.terminated exit 1, restartPolicy Always) as alga-core's pod."""
    appliance = Appliance.healthy()
    failing = load_object_file("gitops-engine/pod-error.yaml")
    failing["metadata"].update(
        name=pod_name("alga-core"), namespace="msp", labels=labels("alga-core")
    )
    appliance.put(failing)
    appliance.workload_not_ready("alga-core")
    appliance.app_refuses()
    status = appliance.evaluate()
    top = status.top_blockers[0]
    assert top.layer == "Workload container"
    assert 'container "main" exited with code 1 (Error)' in top.reason
    assert status.rollup.state is RollupState.FAILED_ACTION_REQUIRED


def test_a_crash_without_message_or_log_still_names_exit_code_and_reason() -> None:
    """lastState.terminated OOMKilled/137 without a message: the blocker says OOMKilled, 137."""
    appliance = Appliance.healthy()
    broken = appliance.break_component(
        "temporal", waiting=("CrashLoopBackOff", "back-off 5m0s restarting failed container")
    )
    broken["status"]["containerStatuses"][0]["lastState"] = {
        "terminated": {"exitCode": 137, "reason": "OOMKilled", "finishedAt": "2026-04-29T14:58:00Z"}
    }
    status = appliance.evaluate()
    blocker = next(b for b in status.top_blockers if b.component == "temporal")
    assert "OOMKilled" in blocker.reason
    assert "137" in blocker.reason


def test_a_failed_pod_that_is_no_jobs_attempt_is_named() -> None:
    """Argo's pod-failed (phase Failed, restartPolicy Never) of ours: no longer silent."""
    appliance = Appliance.healthy()
    failed = load_object_file("gitops-engine/pod-failed.yaml")
    failed["metadata"].update(name="license-check", namespace="msp")
    appliance.put(failed)
    status = appliance.evaluate()
    blocker = next(b for b in status.top_blockers if b.layer == "Workload container")
    assert "exited with code 1" in blocker.reason
    assert status.rollup.state is not RollupState.FULLY_HEALTHY


# --- item 4: Jobs ---------------------------------------------------------------------------


def _bootstrap_pod(appliance: Appliance, **kwargs: Any) -> dict[str, Any]:
    return appliance.put(
        pod(
            f"{BOOTSTRAP_JOB}-q8w2x",
            labels={"batch.kubernetes.io/job-name": BOOTSTRAP_JOB, "job-name": BOOTSTRAP_JOB},
            container="bootstrap",
            ready=False,
            **kwargs,
        )
    )


def test_a_retrying_bootstrap_job_is_not_waiting_to_start() -> None:
    """status.failed > 0 between two attempts (no pod active): retrying, not 'waiting to start'."""
    appliance = Appliance.healthy()
    appliance.bootstrap_job(BOOTSTRAP_JOB, state="waiting")
    appliance.get("Job", "msp", BOOTSTRAP_JOB)["status"] = {"failed": 2, "startTime": "x"}
    status = appliance.evaluate()
    reason = status.tiers.bootstrap.reasons[0]
    assert "waiting to start" not in reason
    assert "2 failed attempt(s), retrying" in reason


def test_a_suspended_bootstrap_job_says_so_and_needs_action() -> None:
    """Argo's job-suspended as the bootstrap Job: the tier and a blocker say suspended."""
    appliance = Appliance.healthy()
    appliance.bootstrap_job(BOOTSTRAP_JOB, state="waiting")
    suspended = load_object_file("gitops-engine/job-suspended.yaml")
    suspended["metadata"].update(name=BOOTSTRAP_JOB, namespace="msp")
    appliance.put(suspended)
    appliance.app_refuses()
    status = appliance.evaluate()
    assert "suspended" in status.tiers.bootstrap.reasons[0]
    blocker = next(b for b in status.top_blockers if b.layer == "Bootstrap job")
    assert "suspended" in blocker.reason
    assert 'suspend":false' in blocker.next_action
    assert status.rollup.state is RollupState.FAILED_ACTION_REQUIRED


def test_a_crash_in_a_job_still_within_its_backoff_limit_is_a_retry() -> None:
    """A crash-looping attempt of a Job that may still retry: retryable, installing."""
    appliance = Appliance.healthy()
    appliance.bootstrap_job(BOOTSTRAP_JOB, state="running")
    appliance.get("Job", "msp", BOOTSTRAP_JOB)["status"]["failed"] = 1
    _bootstrap_pod(
        appliance,
        waiting=("CrashLoopBackOff", "back-off 20s restarting failed container=bootstrap"),
        terminated=("Error", 'psql: error: connection to server at "db" failed'),
    )
    appliance.app_refuses()
    status = appliance.evaluate()
    attempt = next(b for b in status.top_blockers if b.layer == "Workload container")
    assert attempt.retryable
    assert f"attempt of Job {BOOTSTRAP_JOB}" in attempt.reason
    assert status.rollup.state is RollupState.INSTALLING


def test_once_the_job_failed_the_job_carries_the_blocker() -> None:
    """After BackoffLimitExceeded the non-retryable blocker is the Job's, not its pod's."""
    appliance = Appliance.healthy()
    appliance.bootstrap_job(
        BOOTSTRAP_JOB, state="failed", message="Job has reached the specified backoff limit"
    )
    _bootstrap_pod(
        appliance,
        waiting=("CrashLoopBackOff", "back-off 20s restarting failed container=bootstrap"),
        terminated=("Error", 'psql: error: connection to server at "db" failed'),
    )
    appliance.app_refuses()
    status = appliance.evaluate()
    assert "Bootstrap job" in _layers(status)
    assert "Workload container" not in _layers(status)
    assert status.rollup.state is RollupState.FAILED_ACTION_REQUIRED


# --- item 5: a Flux timeout points to its root cause -------------------------------------------


def _health_check_timeout(appliance: Appliance, name: str, *refs: str) -> None:
    waited = ", ".join(f"{ref} status: 'InProgress'" for ref in refs)
    appliance.put(
        kustomization(
            name,
            ready=False,
            reason="HealthCheckFailed",
            message=f"health check failed after 30m0s: timeout waiting for: [{waited}]",
        )
    )


def test_a_kustomization_timeout_ranks_below_an_interrupted_pull() -> None:
    """The pull retries; the Kustomization waiting for it is a consequence, retryable too."""
    appliance = Appliance.healthy()
    appliance.pull_backoff("workflow-worker", WORKFLOW_IMAGE, canceled_pull_message(WORKFLOW_IMAGE))
    _health_check_timeout(appliance, "alga-background", "Deployment/msp/workflow-worker")
    status = appliance.evaluate()
    layers = _layers(status)
    assert layers.index("Image pull interruption") < layers.index("Flux reconciliation")
    flux = next(b for b in status.top_blockers if b.layer == "Flux reconciliation")
    assert flux.retryable
    assert "consequence" in flux.reason
    assert "workflow-worker" in flux.reason


def test_a_kustomization_timeout_points_to_a_missing_tag() -> None:
    """alga-core's missing tag is the headline; the alga-core Kustomization's timeout follows."""
    appliance = Appliance.healthy()
    image = "ghcr.io/nine-minds/alga-psa-ee:deadbeef"
    appliance.pull_backoff("alga-core", image, missing_tag_message(image))
    _health_check_timeout(appliance, "alga-core", f"Deployment/msp/{CORE}")
    appliance.app_refuses()
    status = appliance.evaluate()
    assert status.top_blockers[0].layer == "Image tag availability"
    flux = next(b for b in status.top_blockers if b.layer == "Flux reconciliation")
    assert "Image tag availability" in flux.reason
    assert flux.next_action.startswith("Fix Image tag availability first")


# --- item 7: component identity is scoped ---------------------------------------------------


def test_a_foreign_redis_is_not_our_redis() -> None:
    """default/redis-master labelled app: redis, broken, leaves the core tier alone; it is
    reported once, as an object outside the appliance."""
    appliance = Appliance.healthy()
    foreign = load_object_file("gitops-engine/statefulset.yaml")
    foreign["status"].update(readyReplicas=0)
    foreign["status"]["updateRevision"] = "redis-master-8c9d7e6f5"
    foreign_pod = pod(
        "redis-master-0",
        namespace="default",
        labels={"app": "redis"},
        ready=False,
        waiting=("CrashLoopBackOff", "back-off 5m0s restarting failed container"),
        terminated=("Error", None),
    )
    appliance.put(foreign)
    appliance.put(foreign_pod)
    status = appliance.evaluate()
    assert status.tiers.core.ready
    assert all(b.component != "redis" for b in status.top_blockers)
    names = [c.name for c in status.components]
    assert names.count("redis") == 1
    foreign_blockers = [b for b in status.top_blockers if b.layer == "Object outside the appliance"]
    assert [b.evidence[0].object for b in foreign_blockers] == ["Pod/default/redis-master-0"]


def test_a_foreign_git_repository_is_not_the_flux_source() -> None:
    """A GitRepository of another team, failing, is neither the source nor a platform gap."""
    appliance = Appliance.healthy()
    appliance.put(load_object_file("argo-cd/GitRepository-degraded.yaml"))
    status = appliance.evaluate()
    assert status.flux.source is not None
    assert status.flux.source.name == "alga-psa"
    assert status.tiers.platform.ready
    assert _layers(status) == ["Object outside the appliance"]
    assert status.rollup.state is RollupState.READY_WITH_BACKGROUND_ISSUES


def test_healthy_foreign_objects_change_nothing() -> None:
    """A healthy Deployment and StatefulSet elsewhere keep the appliance fully healthy."""
    appliance = Appliance.healthy()
    appliance.put(load_object_file("gitops-engine/nginx.yaml"))
    appliance.put(load_object_file("gitops-engine/statefulset.yaml"))
    assert appliance.evaluate().rollup.state is RollupState.FULLY_HEALTHY
