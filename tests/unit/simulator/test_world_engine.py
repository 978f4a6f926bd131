"""The world engine: controllers, kubelet pulls, stages, Flux from a local git repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.world.engine import World
from simulator.world.scenario import parse_scenario
from tests.fixtures.flux_worlds import (
    commit_with_platform,
    flux_crds,
    flux_objects,
    flux_repo,
    ready_world,
    started_world,
)

ROOT = Path(__file__).resolve().parents[3]


DEPLOY = """
name: t
registry:
  images:
    ghcr.io/nine-minds/workflow-worker:61e4a00e: {present: false}
objects:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: workflow-worker, namespace: msp}
    spec:
      replicas: 1
      selector: {matchLabels: {app.kubernetes.io/name: workflow-worker}}
      template:
        metadata: {labels: {app.kubernetes.io/name: workflow-worker}}
        spec: {containers: [{name: w, image: "IMAGE"}]}
"""


def test_deployment_gets_replicaset_and_pod_with_kubernetes_names() -> None:
    """A Deployment makes ReplicaSet `name-<hash>` and pod `name-<hash>-<5>` with its labels."""
    world = started_world(DEPLOY.replace("IMAGE", "busybox:1.36"))
    world.run_until(60)
    (pod,) = world.pods("msp", name="workflow-worker")
    name = pod["metadata"]["name"]
    parts = name.split("-")
    assert name.startswith("workflow-worker-")
    assert len(parts[-1]) == 5
    assert len(parts[-2]) == 10
    assert pod["metadata"]["labels"]["pod-template-hash"] == parts[-2]
    assert world.ready("Deployment", "workflow-worker", "msp")
    status = world.get("Deployment", "workflow-worker", "msp")["status"]  # type: ignore[index]
    assert status["availableReplicas"] == 1


def test_missing_tag_gives_not_found_and_backoff() -> None:
    """A missing tag gives containerd's NotFound text, ErrImagePull, then ImagePullBackOff."""
    world = started_world(DEPLOY.replace("IMAGE", "ghcr.io/nine-minds/workflow-worker:61e4a00e"))
    world.run_until(120)
    (pod,) = world.pods("msp")
    waiting = pod["status"]["containerStatuses"][0]["state"]["waiting"]
    assert waiting["reason"] == "ImagePullBackOff"
    assert world.timeline.find(reason="Failed", contains="Error: ErrImagePull")
    assert not world.ready("Deployment", "workflow-worker", "msp")


def test_deleted_pod_is_recreated() -> None:
    """Deleting a controlled pod makes the ReplicaSet create a new one."""
    world = started_world(DEPLOY.replace("IMAGE", "busybox:1.36"))
    world.run_until(60)
    (first,) = world.pods("msp")
    world.objects.delete(first)
    world.run_until(120)
    (second,) = world.pods("msp")
    assert second["metadata"]["name"] != first["metadata"]["name"]
    assert world.ready("Deployment", "workflow-worker", "msp")


STS = """
name: t
objects:
  - apiVersion: apps/v1
    kind: StatefulSet
    metadata: {name: db, namespace: msp}
    spec:
      selector: {matchLabels: {app.kubernetes.io/name: db}}
      template:
        metadata: {labels: {app.kubernetes.io/name: db}}
        spec:
          INIT
          containers:
            - name: postgres
              image: postgres:16
              volumeMounts: [{name: db-data, mountPath: /d, subPath: data}]
      volumeClaimTemplates: [{metadata: {name: db-data}, spec: {accessModes: [ReadWriteOnce]}}]
stages:
  - name: subpath
    match:
      kind: Pod
      labels: {app.kubernetes.io/name: db}
      where: [{path: "spec.initContainers[*].command", op: notContains, value: mkdir}]
    then:
      containers: {reason: CreateContainerConfigError, message: failed to create subPath directory}
"""


def test_stage_holds_pod_without_the_fix() -> None:
    """A matching stage puts db-0 in CreateContainerConfigError instead of starting it."""
    world = started_world(STS.replace("INIT", ""))
    world.run_until(60)
    pod = world.get("Pod", "db-0", "msp")
    assert pod is not None
    assert pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == (
        "CreateContainerConfigError"
    )
    assert world.get("PersistentVolumeClaim", "db-data-db-0", "msp") is not None


def test_fixed_manifest_does_not_trigger_the_stage() -> None:
    """With the subPath-initialising init container the same world starts Postgres."""
    init = 'initContainers: [{name: init, image: busybox, command: [sh, -c, "mkdir -p /mnt/data"]}]'
    world = started_world(STS.replace("INIT", init))
    world.run_until(60)
    assert world.ready("Pod", "db-0", "msp")
    assert world.stages.fired == []


def test_job_completes_and_sets_conditions() -> None:
    """A Job's pod runs to completion and the Job gets Complete=True."""
    world = started_world(
        """
name: t
objects:
  - apiVersion: batch/v1
    kind: Job
    metadata: {name: seed, namespace: msp}
    spec: {template: {spec: {restartPolicy: Never, containers: [{name: s, image: busybox}]}}}
"""
    )
    world.run_until(120)
    assert world.ready("Job", "seed", "msp")
    (pod,) = world.pods("msp")
    assert pod["status"]["phase"] == "Succeeded"


def test_flux_applies_a_local_git_branch_after_depends_on(tmp_path: Path) -> None:
    """A Kustomization waits for its dependsOn, then applies the branch's manifests at its path."""
    repo = flux_repo(tmp_path)
    world = started_world(flux_objects(repo, flux_crds()))
    world.run_until(120)
    source = world.get("GitRepository", "alga", "flux-system")
    assert source is not None
    assert source["status"]["artifact"]["revision"].startswith("release/1.0-rc5@sha1:")
    # source-controller's event quotes the commit's subject (fluxcd/pkg/git ShortMessage).
    [stored] = world.timeline.find(reason="NewArtifact")
    assert stored.message == "stored artifact for commit 'init'"
    platform = world.get("Kustomization", "alga-platform", "flux-system")
    assert platform is not None
    # Its path is not in the repository: kustomize-controller finds that before the build
    # (ArtifactFailed, at the fetching stage). Its order: Reconciling first (the stage that
    # failed, to be retried).
    reconciling, ready = platform["status"]["conditions"]
    assert (ready["type"], ready["reason"]) == ("Ready", "ArtifactFailed")
    assert (reconciling["type"], reconciling["reason"]) == ("Reconciling", "ProgressingWithRetry")
    assert reconciling["message"].startswith("Fetching manifests for revision release/1.0-rc5@")
    core = world.get("Kustomization", "alga-core", "flux-system")
    assert core is not None
    [waiting] = core["status"]["conditions"]
    assert (waiting["type"], waiting["reason"]) == ("Ready", "DependencyNotReady")
    assert "dependency 'flux-system/alga-platform' is not ready" in waiting["message"]
    assert world.get("Deployment", "redis", "msp") is None


def test_flux_reports_ready_once_workloads_are_healthy(tmp_path: Path) -> None:
    """With the dependency Ready, the core Kustomization applies, waits and becomes Ready."""
    repo = flux_repo(tmp_path)
    commit_with_platform(repo, "platform")
    world = started_world(flux_objects(repo, flux_crds()))
    world.run_until(300)
    assert world.ready("Deployment", "redis", "msp")
    core = world.get("Kustomization", "alga-core", "flux-system")
    assert core is not None
    # Ready, then Healthy (it waits); Reconciling is gone once Ready is True.
    ready, healthy = core["status"]["conditions"]
    assert (ready["type"], ready["status"]) == ("Ready", "True")
    assert ready["message"].startswith("Applied revision: release/1.0-rc5@sha1:")
    assert (healthy["type"], healthy["status"], healthy["reason"]) == (
        "Healthy",
        "True",
        "Succeeded",
    )
    assert healthy["message"].startswith("Health check passed in ")
    labels = world.get("Deployment", "redis", "msp")["metadata"]["labels"]  # type: ignore[index]
    assert labels["kustomize.toolkit.fluxcd.io/name"] == "alga-core"


def test_flux_objects_carry_the_finalizer_and_the_inventory(tmp_path: Path) -> None:
    """Both controllers put finalizers.fluxcd.io on their objects; a Kustomization's inventory
    lists what it applied in Flux's apply order (Services before Deployments)."""
    world = ready_world(tmp_path)
    source = world.get("GitRepository", "alga", "flux-system")
    core = world.get("Kustomization", "alga-core", "flux-system")
    assert source is not None
    assert core is not None
    assert source["metadata"]["finalizers"] == ["finalizers.fluxcd.io"]
    assert core["metadata"]["finalizers"] == ["finalizers.fluxcd.io"]
    assert core["status"]["inventory"] == {
        "entries": [
            {"id": "msp_redis__Service", "v": "v1"},
            {"id": "msp_redis_apps_Deployment", "v": "v1"},
        ]
    }


def test_a_deleted_kustomization_prunes_what_it_applied(tmp_path: Path) -> None:
    """kustomize-controller's finalize: a Kustomization with prune deletes its inventory's
    objects (bar one marked prune: disabled), says so in an Event, and then goes."""
    world = ready_world(tmp_path)
    kept = world.get("Service", "redis", "msp")
    assert kept is not None
    world.objects.patch(
        kept, {"metadata": {"annotations": {"kustomize.toolkit.fluxcd.io/prune": "disabled"}}}
    )
    core = world.get("Kustomization", "alga-core", "flux-system")
    assert core is not None
    world.objects.delete(core)
    world.run_until(310)
    assert world.get("Kustomization", "alga-core", "flux-system") is None
    assert world.get("Deployment", "redis", "msp") is None
    assert world.get("Service", "redis", "msp") is not None
    [said] = world.timeline.find(reason="ReconciliationSucceeded", contains="msp/redis deleted")
    assert said.message == "Deployment/msp/redis deleted\nService/msp/redis skipped"


def test_flux_keeps_reconciling_and_healthy_as_kustomize_controller_does(tmp_path: Path) -> None:
    """While its workloads are not ready a waiting Kustomization shows the health-check stage in
    Reconciling and Healthy (Unknown); at its timeout both say why, and Reconciling waits for
    the retry (kustomize-controller v1.9.6's conditions, in its order)."""
    repo = flux_repo(tmp_path)
    app = repo / "deploy" / "core" / "app.yaml"
    app.write_text(app.read_text().replace("redis:7", "ghcr.io/nine-minds/redis:missing"))
    commit_with_platform(repo, "missing image")
    missing = "registry:\n  images:\n    ghcr.io/nine-minds/redis:missing: {present: false}\n"
    world = started_world(missing + flux_objects(repo, flux_crds()))

    def conditions() -> list[tuple[str, str, str, str]]:
        core = world.get("Kustomization", "alga-core", "flux-system")
        assert core is not None
        return [
            (c["type"], c["status"], c["reason"], c["message"])
            for c in core["status"]["conditions"]
        ]

    world.run_until(120)
    reconciling, ready, healthy = conditions()
    checking = reconciling[3]
    assert checking.startswith("Running health checks for revision release/1.0-rc5@sha1:")
    assert checking.endswith(" with a timeout of 10m0s")
    assert reconciling[:3] == ("Reconciling", "True", "Progressing")
    assert ready == ("Ready", "Unknown", "Progressing", "Reconciliation in progress")
    assert healthy == ("Healthy", "Unknown", "Progressing", checking)

    world.run_until(900)
    waited = "timeout waiting for: [Deployment/msp/redis status: 'InProgress']"
    assert conditions() == [
        ("Reconciling", "True", "ProgressingWithRetry", checking),
        ("Ready", "False", "HealthCheckFailed", f"health check failed after 10m0s: {waited}"),
        ("Healthy", "False", "HealthCheckFailed", waited),
    ]


def test_happy_path_ends_with_everything_ready() -> None:
    """The happy path: every workload Ready, no stage fires except waiting for bootstrap."""
    world = World.from_scenario(ROOT / "scenarios" / "happy-path.yaml")
    world.start()
    world.run_until(45 * 60)
    assert world.scheduler.errors == []
    for name in (
        "redis",
        "pgbouncer",
        "alga-core",
        "email-service",
        "temporal",
        "temporal-ui",
        "workflow-worker",
        "temporal-worker",
    ):
        assert world.ready("Deployment", name, "msp"), name
    assert world.ready("StatefulSet", "db", "msp")
    assert {name for _, name, _ in world.stages.fired} <= {"alga-core-waits-for-bootstrap"}
    assert world.app_ready_at is not None


@pytest.mark.parametrize("skip", [("bootstrapper",)])
def test_skipped_actors_leave_the_world_to_the_bootstrapper(skip: tuple[str, ...]) -> None:
    """Actions `by: bootstrapper` are skipped when the real bootstrapper runs."""
    world = World.from_scenario(ROOT / "scenarios" / "utm-rc5-observed.yaml", skip_actors=skip)
    world.start()
    world.run_until(30 * 60)
    assert world.get("Deployment", "alga-core", "msp") is None
    assert world.get("Node", "appliance-single-node") is None


def test_scripted_fault_reaches_the_fake_api() -> None:
    """A `fault` action at a virtual time makes the served fake API answer 503 on that path."""
    import httpx

    from simulator.world.served import ServedWorld

    world = ServedWorld(
        parse_scenario(
            """
name: faults
events:
  - at: 1m
    action: fault
    fault: {path: "/api/v1/namespaces/msp/pods", status: 503, count: 1, message: etcd timeout}
""",
            source="test.yaml",
        ),
        speed=0,
    )
    world.start()
    try:
        assert world.api is not None
        url = f"{world.api_url}/api/v1/namespaces/msp/pods"
        token = world.api.admin_token
        headers = {"Authorization": f"Bearer {token}"}
        assert httpx.get(url, headers=headers, verify=False).status_code == 200  # noqa: S501
        world.run_until(120)
        assert httpx.get(url, headers=headers, verify=False).status_code == 503  # noqa: S501
        assert httpx.get(url, headers=headers, verify=False).status_code == 200  # noqa: S501
    finally:
        world.stop()
