"""Generic blocker detectors: failing containers, storage binding, nodes, Flux, scheduling and
the unclassified fallback (`generic_workloads.py`, `generic_platform.py`)."""

from __future__ import annotations

from typing import Any

from appliance.canonical import Blocker, RollupState
from tests.fixtures import (
    MSG_HELM_TIMEOUT,
    Appliance,
    event,
    helm_release,
    node,
    pod,
    pod_name,
    probe_refused,
    pvc,
)
from tests.unit.engine.conftest import Evaluate

Obj = dict[str, Any]


def _layers(blockers: list[Blocker]) -> list[str]:
    return [b.layer for b in blockers]


def test_crashloop_is_generic_workload_blocker(world: Appliance, status_of: Evaluate) -> None:
    """CrashLoopBackOff with an unknown cause -> Workload container blocker with the last exit."""
    world.break_component(
        "redis",
        waiting=("CrashLoopBackOff", "back-off 5m0s restarting failed container=redis pod=redis-0"),
        terminated=(
            "Error",
            "Fatal error, can't open config file '/etc/redis/redis.conf': Permission denied",
        ),
    )
    top = status_of(world, probe=probe_refused()).top_blockers[0]
    assert top.layer == "Workload container"
    assert top.component == "redis"
    assert "CrashLoopBackOff" in top.reason
    assert "logs redis-0 --previous" in top.next_action
    assert any("Permission denied" in e.message for e in top.evidence)


def test_create_container_config_error_generic(world: Appliance, status_of: Evaluate) -> None:
    """CreateContainerConfigError for a missing secret is a generic workload blocker."""
    world.break_component(
        "pgbouncer", waiting=("CreateContainerConfigError", 'secret "pgbouncer-auth" not found')
    )
    status = status_of(world, probe=probe_refused())
    assert status.top_blockers[0].layer == "Workload container"
    assert "Image tag availability" not in _layers(status.top_blockers)


def test_pvc_unbound(world: Appliance, status_of: Evaluate) -> None:
    """A Pending PVC with ProvisioningFailed -> Storage binding, stuck, blocking login while
    Postgres cannot start."""
    world.put(pvc("alga-core-sebastian-postgres-data", phase="Pending"))
    world.workload_not_ready("db")
    world.put(
        event(
            "PersistentVolumeClaim",
            "alga-core-sebastian-postgres-data",
            "ProvisioningFailed",
            'failed to provision volume with StorageClass "local-path": no such file or directory',
            component="rancher.io/local-path",
        )
    )
    status = status_of(world, probe=probe_refused())
    blocker = next(b for b in status.top_blockers if b.layer == "Storage binding")
    assert blocker.component == "db"
    assert blocker.login_blocking
    assert not blocker.retryable


def test_node_not_ready(world: Appliance, status_of: Evaluate) -> None:
    """A NotReady node -> Kubernetes node blocker, login-blocking."""
    world.put(
        node(
            ready=False,
            message="container runtime network not ready: NetworkReady=false "
            "reason:NetworkPluginNotReady message:Network plugin returns error: "
            "cni plugin not initialized",
        )
    )
    top = status_of(world, probe=probe_refused()).top_blockers[0]
    assert top.layer == "Kubernetes node"
    assert "cni plugin not initialized" in top.reason


def test_flux_not_ready_generic(world: Appliance, status_of: Evaluate) -> None:
    """A failing Kustomization without a known root cause -> Flux reconciliation blocker; it
    blocks login while the app does not answer, and only then (issue 10, item 1)."""
    from tests.fixtures import kustomization

    world.put(
        kustomization(
            "alga-core",
            ready=False,
            reason="BuildFailed",
            message="kustomize build failed: accumulating resources: "
            "open ee/appliance/flux/base/core/x.yaml: no such file",
        )
    )
    refused = status_of(world, probe=probe_refused())
    blocker = next(b for b in refused.top_blockers if b.layer == "Flux reconciliation")
    assert blocker.login_blocking
    assert not blocker.retryable
    assert "BuildFailed" in blocker.reason
    answering = status_of(world)
    blocker = next(b for b in answering.top_blockers if b.layer == "Flux reconciliation")
    assert not blocker.login_blocking
    assert answering.rollup.state is RollupState.READY_WITH_BACKGROUND_ISSUES


def test_an_apply_refused_is_said_without_the_change_set_after_it(
    world: Appliance, status_of: Evaluate
) -> None:
    """kustomize-controller ends an apply's error with the lines of what the apply's earlier
    stages changed (seen on the real controller): the blocker says the error; the evidence
    keeps the whole message."""
    from tests.fixtures import kustomization

    refused = (
        'Widget/msp/w dry-run failed (Invalid): Widget.example.com "w" is invalid: '
        "spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1"
    )
    created = "CustomResourceDefinition/widgets.example.com created\nNamespace/msp created\n"
    message = f"{refused}\n{created}"
    failed = kustomization("alga-core", ready=False, reason="ReconciliationFailed", message=message)
    world.put(failed)
    blocker = next(b for b in status_of(world).top_blockers if b.layer == "Flux reconciliation")
    assert blocker.reason.endswith(f"(ReconciliationFailed): {refused}"), blocker.reason
    assert blocker.evidence[0].message == message


def test_flux_dependency_not_ready_is_progress(world: Appliance, status_of: Evaluate) -> None:
    """DependencyNotReady is Flux waiting its turn: progress, not a blocker."""
    from tests.fixtures import kustomization

    world.put(
        kustomization(
            "alga-core",
            ready=False,
            reason="DependencyNotReady",
            message="dependency 'flux-system/alga-platform' is not ready",
        )
    )
    status = status_of(world)
    assert not [b for b in status.top_blockers if b.layer == "Flux reconciliation"]
    assert status.rollup.state.login_ready


def test_flux_waiting_for_the_first_artifact_is_progress(
    world: Appliance, status_of: Evaluate
) -> None:
    """Real kustomize-controller says ArtifactFailed until source-controller's first fetch lands
    (seen on the real control plane): that is progress, not a failure to act on."""
    from tests.fixtures import kustomization

    world.put(
        kustomization(
            "alga-core",
            ready=False,
            reason="ArtifactFailed",
            message="Source artifact not found, retrying in 30s",
        )
    )
    status = status_of(world, probe=probe_refused())
    assert not [b for b in status.top_blockers if b.layer == "Flux reconciliation"]


def test_flux_missing_source_is_a_blocker(world: Appliance, status_of: Evaluate) -> None:
    """A Kustomization whose source object is gone stays a blocker: nothing will fetch it."""
    from tests.fixtures import kustomization

    world.put(
        kustomization(
            "alga-core",
            ready=False,
            reason="ArtifactFailed",
            message='GitRepository.source.toolkit.fluxcd.io "alga-psa" not found',
        )
    )
    status = status_of(world, probe=probe_refused())
    blocker = next(b for b in status.top_blockers if b.layer == "Flux reconciliation")
    assert "ArtifactFailed" in blocker.reason


def _core_health_check_failed(waited: str) -> Obj:
    from tests.fixtures import kustomization

    return kustomization(
        "alga-core",
        ready=False,
        reason="HealthCheckFailed",
        message=f"health check failed after 45m0.01s: timeout waiting for: [{waited}]",
    )


def test_a_failed_health_check_whose_objects_recovered_waits_for_the_retry(
    world: Appliance, status_of: Evaluate
) -> None:
    """kustomize-controller watches nothing it applied: its health check timed out, what it
    waited for became ready since, and the Kustomization stays HealthCheckFailed until its
    retry (seen on the real controller). That waits; it is no failure to act on."""
    waited = (
        "Deployment/msp/alga-core-sebastian status: 'InProgress', "
        "StatefulSet/msp/db status: 'InProgress'"
    )
    world.put(_core_health_check_failed(waited))
    status = status_of(world, probe=probe_refused())
    blocker = next(b for b in status.top_blockers if b.layer == "Flux reconciliation")
    assert blocker.retryable
    assert "Everything it waited for is ready now" in blocker.reason
    assert "at its retry, 10m0s after the failure" in blocker.reason
    assert blocker.next_action.startswith("Nothing to fix: wait for the retry")
    assert status.rollup.state is not RollupState.FAILED_ACTION_REQUIRED


def test_a_failed_health_check_on_an_object_not_there_stays_a_failure(
    world: Appliance, status_of: Evaluate
) -> None:
    """One object it waited for is not in the cluster (or not healthy): nothing says the retry
    will pass, so it stays a failure to look into."""
    waited = (
        "Deployment/msp/alga-core-sebastian status: 'InProgress', "
        "Deployment/msp/absent status: 'NotFound'"
    )
    world.put(_core_health_check_failed(waited))
    status = status_of(world, probe=probe_refused())
    blocker = next(b for b in status.top_blockers if b.layer == "Flux reconciliation")
    assert not blocker.retryable
    assert "ready now" not in blocker.reason
    assert status.rollup.state is RollupState.FAILED_ACTION_REQUIRED


def test_unknown_warning_is_never_silenced(world: Appliance, status_of: Evaluate) -> None:
    """An unrecognised warning on a not-ready component still yields a blocker naming it."""
    world.break_component("alga-core", waiting=("ContainerCreating", None))
    world.put(
        event(
            "Pod",
            pod_name("alga-core"),
            "FailedMount",
            'MountVolume.SetUp failed for volume "secrets" : secret "alga-core-secrets" not found',
            first=-1500,
            last=-10,
            count=14,
        )
    )
    status = status_of(world, probe=probe_refused())
    blocker = next(b for b in status.top_blockers if b.layer == "Unclassified failure")
    assert "alga-core-secrets" in blocker.reason
    assert blocker.component == "alga-core"
    assert not blocker.retryable  # persisted for 25 minutes
    assert status.rollup.state is RollupState.FAILED_ACTION_REQUIRED


def test_the_api_servers_own_allocator_repairs_are_not_blockers(
    world: Appliance, status_of: Evaluate
) -> None:
    """kube-apiserver's repair loop says it mends its own books ("is not allocated; repairing"):
    no blocker names it; a Service IP outside every range ("please recreate") still does."""
    world.break_component("alga-core", waiting=("ContainerCreating", None))
    repairing = "Cluster IP [IPv4]: 10.96.184.80 is not allocated; repairing"
    world.put(event("Service", "alga-core", "ClusterIPNotAllocated", repairing))
    status = status_of(world, probe=probe_refused())
    said = [b.reason for b in status.top_blockers]
    assert not any("ClusterIPNotAllocated" in reason for reason in said), said
    out_of_range = (
        "Cluster IP [IPv4]: 10.0.0.9 is not within any configured Service CIDR; "
        "please recreate service"
    )
    world.put(event("Service", "alga-core", "ClusterIPOutOfRange", out_of_range, last=-5))
    status = status_of(world, probe=probe_refused())
    assert any("ClusterIPOutOfRange" in b.reason for b in status.top_blockers), status.top_blockers


def test_unschedulable_pod(world: Appliance, status_of: Evaluate) -> None:
    """A pod the scheduler cannot place -> Pod scheduling blocker."""
    world.put(
        pod(
            pod_name("alga-core"),
            labels={"app.kubernetes.io/name": "alga-core"},
            ready=False,
            scheduled=("Unschedulable", "0/1 nodes are available: 1 Insufficient memory."),
        )
    )
    world.get("Deployment", "msp", "alga-core-sebastian")["status"].pop("readyReplicas")
    status = status_of(world, probe=probe_refused())
    assert any(
        b.layer == "Pod scheduling" and "Insufficient memory" in b.reason
        for b in status.top_blockers
    )


def test_unknown_container_waiting_reason_is_named(world: Appliance, status_of: Evaluate) -> None:
    """A waiting reason no detector knows still yields a blocker with the pod and message."""
    world.break_component(
        "redis",
        waiting=("SandboxChanged", "Pod sandbox changed, it will be killed and re-created."),
    )
    status = status_of(world, probe=probe_refused())
    blocker = next(b for b in status.top_blockers if b.layer == "Unclassified failure")
    assert "Pod/msp/redis-0" in blocker.reason
    assert "sandbox changed" in blocker.reason


def test_second_failure_beside_helm_timeout_is_named(world: Appliance, status_of: Evaluate) -> None:
    """A generic Helm timeout does not hide another failure of the same component."""
    world.put(
        helm_release("alga-core", ready=False, reason="InstallFailed", message=MSG_HELM_TIMEOUT)
    )
    world.break_component("alga-core", waiting=("ContainerCreating", None))
    world.put(
        event(
            "Pod",
            pod_name("alga-core"),
            "FailedMount",
            'MountVolume.SetUp failed for volume "secrets" : secret "alga-core-secrets" not found',
            first=-1500,
            last=-10,
            count=14,
        )
    )
    layers = _layers(status_of(world, probe=probe_refused()).top_blockers)
    assert "Helm release" in layers
    assert "Unclassified failure" in layers
