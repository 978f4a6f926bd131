"""Pods the world's controllers create go through admission, as a real controller's do
(simulator/world/pod_creation.py): a pod naming a ServiceAccount or PriorityClass that does not
exist is refused, no pod exists, and the owner says why in the real controllers' words; once
what was missing exists, the pods come. The real control plane judges the same objects in
tests/integration/test_control_plane_refused_pods.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from appliance.dumps import snapshot_from_objects
from appliance.engine import evaluate
from appliance.snapshot import KINDS
from simulator.api.kind_table import api_version_of
from simulator.world.engine import World
from tests.fixtures.flux_worlds import (
    commit_with_platform,
    flux_crds,
    flux_objects,
    flux_repo,
    started_world,
)

SCENARIO = """
name: t
objects:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: pgbouncer, namespace: msp}
    spec:
      replicas: 1
      selector: {matchLabels: {app: pgbouncer}}
      template:
        metadata: {labels: {app: pgbouncer}}
        spec:
          serviceAccountName: pgbouncer
          containers: [{name: pgbouncer, image: "busybox:1.36"}]
  - apiVersion: apps/v1
    kind: StatefulSet
    metadata: {name: redis, namespace: msp}
    spec:
      replicas: 1
      serviceName: redis
      selector: {matchLabels: {app: redis}}
      template:
        metadata: {labels: {app: redis}}
        spec:
          priorityClassName: alga-high
          containers: [{name: redis, image: "busybox:1.36"}]
"""


def _conditions(world: World, kind: str, name: str) -> dict[str, Any]:
    obj = world.get(kind, name, "msp")
    assert obj is not None
    return {c["type"]: c for c in (obj.get("status") or {}).get("conditions") or []}


def _warnings(world: World, reason: str) -> dict[str, str]:
    return {
        e["involvedObject"]["kind"]: e["message"]
        for e in world.store.list("v1", "Event", "msp")
        if e.get("reason") == reason and e.get("type") == "Warning"
    }


def test_refused_pods_are_said_as_the_controllers_say_them_until_what_they_lack_exists() -> None:
    world = started_world(SCENARIO)
    world.run_until(60)
    assert world.pods("msp") == []
    (rs,) = world.store.list("apps/v1", "ReplicaSet", "msp")
    rs_name = rs["metadata"]["name"]
    account = (
        f'pods "{rs_name}-" is forbidden: error looking up service account msp/pgbouncer: '
        'serviceaccount "pgbouncer" not found'
    )
    priority = 'pods "redis-0" is forbidden: no PriorityClass with name alga-high was found'
    assert _warnings(world, "FailedCreate") == {
        "ReplicaSet": f"Error creating: {account}",
        "StatefulSet": f"Create Pod redis-0 in StatefulSet redis failed error: {priority}",
    }
    for kind, name in (("ReplicaSet", rs_name), ("Deployment", "pgbouncer")):
        failure = _conditions(world, kind, name)["ReplicaFailure"]
        assert (failure["status"], failure["reason"], failure["message"]) == (
            "True",
            "FailedCreate",
            account,
        )

    world.objects.create(
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "pgbouncer", "namespace": "msp"},
        }
    )
    world.objects.create(
        {
            "apiVersion": "scheduling.k8s.io/v1",
            "kind": "PriorityClass",
            "metadata": {"name": "alga-high"},
            "value": 1000,
        }
    )
    world.run_until(120)
    pods = {p["metadata"]["name"]: p for p in world.pods("msp")}
    assert "redis-0" in pods
    (created,) = [p for p in pods.values() if p["metadata"]["name"].startswith(rs_name)]
    assert created["metadata"]["generateName"] == f"{rs_name}-"  # as the real controller names it
    assert created["spec"]["serviceAccountName"] == "pgbouncer"
    assert "ReplicaFailure" not in _conditions(world, "ReplicaSet", rs_name)
    assert "ReplicaFailure" not in _conditions(world, "Deployment", "pgbouncer")


def test_a_pod_naming_no_account_runs_as_the_namespaces_default() -> None:
    """kube-controller-manager makes `default` in every namespace, in a world without an API
    too, so a pod that names no account is admitted."""
    world = started_world(SCENARIO.replace("serviceAccountName: pgbouncer", "hostname: x"))
    world.run_until(60)
    (pod,) = [p for p in world.pods("msp") if p["metadata"]["name"].startswith("pgbouncer-")]
    assert pod["spec"]["serviceAccountName"] == "default"


def test_flux_waits_on_the_refused_deployment_and_the_engine_names_the_refusal(
    tmp_path: Path,
) -> None:
    """End to end in the world: Flux applies a Deployment whose ServiceAccount nobody made, its
    health check waits (kstatus reads ReplicaFailure as in progress) until it times out, and the
    status engine's top blocker is the refusal, not the timeout it causes."""
    repo = flux_repo(tmp_path)
    app = repo / "deploy" / "core" / "app.yaml"
    app.write_text(
        app.read_text().replace(
            "spec: {containers:", "spec: {serviceAccountName: redis, containers:"
        )
    )
    commit_with_platform(repo, "account")
    world = started_world(flux_objects(repo, flux_crds()))
    world.run_until(900)
    core = world.get("Kustomization", "alga-core", "flux-system")
    assert core is not None
    ready = next(c for c in core["status"]["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "HealthCheckFailed")
    objects = [o for kind in KINDS for o in world.store.list(api_version_of(kind), kind)]
    status = evaluate(
        snapshot_from_objects(objects, source="live", server_time=world.clock.now()),
        site_id="appliance-single-node",
        login_probe=None,
        users_count=None,
        users_count_measurable=False,
    )
    top = status.top_blockers[0]
    assert (top.layer, top.component) == ("Pod admission", "redis")
    assert top.reason == (
        "Deployment/redis cannot create its pods: its ServiceAccount redis does not exist in msp."
    )


HOST_PORT = """
name: t
host: {initialState: running, kubernetesUp: true%s}
objects:
  - {apiVersion: v1, kind: Namespace, metadata: {name: msp%s}}
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: alga-core, namespace: msp}
    spec:
      replicas: 1
      selector: {matchLabels: {app: alga-core}}
      template:
        metadata: {labels: {app: alga-core}}
        spec:
          containers:
            - name: alga-core
              image: "busybox:1.36"
              ports: [{containerPort: 3000, hostPort: 3000}]
"""
PRIVILEGED = ", labels: {pod-security.kubernetes.io/enforce: privileged}"


def test_a_talos_node_refuses_a_host_port_where_its_namespace_does_not_allow_it() -> None:
    """Talos's default machine configuration enforces Pod Security baseline outside
    kube-system (simulator/api/store/pod_security.TALOS, judged against kube-apiserver with
    the same configuration): a hostPort is refused, until the namespace is labelled."""
    world = started_world(HOST_PORT % ("", ""))
    world.run_until(60)
    assert world.pods("msp") == []
    (refusal,) = _warnings(world, "FailedCreate").values()
    assert refusal.endswith(
        'is forbidden: violates PodSecurity "baseline:latest": '
        'hostPort (container "alga-core" uses hostPort 3000)'
    )
    allowed = [
        started_world(HOST_PORT % ("", PRIVILEGED)),  # as the product's manifests label msp
        # a machine configuration without it
        started_world(HOST_PORT % (", podSecurity: kube-apiserver", "")),
    ]
    for world in allowed:
        world.run_until(60)
        assert len(world.pods("msp")) == 1
        assert _warnings(world, "FailedCreate") == {}
