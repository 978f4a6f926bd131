"""The simulated Flux's health verdicts against kustomize-controller's own status readers.

`kstatus-verdicts` (tools/control-plane/kustomize-controller/kstatus) is built against exactly the
fluxcd/cli-utils and fluxcd/pkg/runtime kustomize-controller v1.9.6 pins, and prints the verdict
its health checks reach for each object. simulator/world/kstatus.py must give the same status and
message for: Argo CD's health test objects (every kind they cover), edge cases of each rule
(generations, conditions, partitions, deadlines, malformed fields and the reader errors they
cause), and every version of every object the simulated world makes of the product's manifests
(the Deployments, StatefulSet and Job as its controllers and kubelet move them).
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from simulator.world.engine import World
from simulator.world.kstatus import flux_verdict
from tests.fixtures.argo import DATA, load_object_file
from tests.tools import programs

ROOT = Path(__file__).resolve().parents[2]
KUBECTL = Path(sys.executable).parent / "kubectl"
Obj = dict[str, Any]


def _deployment(status: Obj, **spec: Any) -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d", "namespace": "msp", "generation": 2},
        "spec": {"replicas": 2, "progressDeadlineSeconds": 600, **spec},
        "status": {"observedGeneration": 2, **status},
    }


_SETTLED = {"replicas": 2, "updatedReplicas": 2, "readyReplicas": 2, "availableReplicas": 2}
_PROGRESSED = {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}
_AVAILABLE = {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"}


def _sts(status: Obj, **spec: Any) -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "db", "namespace": "msp", "generation": 1},
        "spec": {"replicas": 1, **spec},
        "status": {"observedGeneration": 1, **status},
    }


def _job(status: Obj, **spec: Any) -> Obj:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "migrate", "namespace": "msp", "generation": 1},
        "spec": spec,
        "status": status,
    }


def _custom(conditions: Any, **extra: Any) -> Obj:
    return {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": "alga-core", "namespace": "flux-system", "generation": 3, **extra},
        "status": {"observedGeneration": 3, "conditions": conditions},
    }


def _pod(phase: str | None, conditions: list[Obj] | None = None, **status: Any) -> Obj:
    body: Obj = {"conditions": conditions or [], **status}
    if phase is not None:
        body["phase"] = phase
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "msp", "creationTimestamp": "2026-01-01T00:00:00Z"},
        "status": body,
    }


EDGE_CASES: list[Obj] = [
    _deployment(_SETTLED | {"conditions": [_PROGRESSED, _AVAILABLE]}),
    _deployment(_SETTLED | {"conditions": [_AVAILABLE]}),  # no NewReplicaSetAvailable yet
    _deployment(_SETTLED | {"conditions": [_PROGRESSED]}),  # not Available
    _deployment(_SETTLED | {"conditions": [_AVAILABLE]}, progressDeadlineSeconds=2**31 - 1),
    _deployment(
        _SETTLED
        | {
            "conditions": [
                {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}
            ]
        }
    ),
    _deployment({"replicas": 1, "updatedReplicas": 1}),
    _deployment(_SETTLED | {"updatedReplicas": 1}),
    _deployment(_SETTLED | {"replicas": 3}),
    _deployment(_SETTLED | {"availableReplicas": 1}),
    _deployment(_SETTLED | {"readyReplicas": 1.0}),  # a float is no int64: the default
    _deployment(_SETTLED | {"observedGeneration": 1}),
    _deployment(_SETTLED | {"observedGeneration": True}),  # a reader error
    _deployment(_SETTLED, replicas=True),
    {
        **_deployment(_SETTLED),
        "metadata": {"name": "d", "deletionTimestamp": "2026-01-01T00:00:00Z"},
    },
    {**_deployment(_SETTLED), "metadata": {"name": "d", "deletionTimestamp": 7}},
    {**_deployment(_SETTLED), "metadata": {"name": "d", "generation": "2"}},
    _sts({"replicas": 1, "readyReplicas": 1, "currentReplicas": 1, "updatedReplicas": 1}),
    _sts(
        {
            "replicas": 1,
            "readyReplicas": 1,
            "currentReplicas": 1,
            "currentRevision": "db-1",
            "updateRevision": "db-2",
        }
    ),
    _sts({"replicas": 1}, updateStrategy={"type": "OnDelete"}),
    _sts({"replicas": 1, "readyReplicas": 0}),
    _sts({"replicas": 2, "readyReplicas": 1}, replicas=2),
    _sts(
        {"replicas": 3, "readyReplicas": 3, "updatedReplicas": 1},
        replicas=3,
        updateStrategy={"type": "RollingUpdate", "rollingUpdate": {"partition": 1}},
    ),
    _sts(
        {"replicas": 3, "readyReplicas": 3, "updatedReplicas": 2},
        replicas=3,
        updateStrategy={"type": "RollingUpdate", "rollingUpdate": {"partition": 1}},
    ),
    _job({}),
    _job({"startTime": "2026-01-01T00:00:00Z", "active": 1}),
    _job(
        {
            "startTime": "2026-01-01T00:00:00Z",
            "conditions": [{"type": "Complete", "status": "True"}],
            "succeeded": 1,
        }
    ),
    _job({"conditions": [{"type": "Failed", "status": "True"}], "failed": 6}, completions=1),
    _job({}, suspend=True),
    _job({}, parallelism=3),
    _job({"conditions": "none"}),
    {
        **_job({"startTime": "x"}),
        "metadata": {"name": "j", "deletionTimestamp": "2026-01-01T00:00:00Z"},
    },
    {**_job({"startTime": "x"}), "apiVersion": "batch/v1beta1"},
    {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "ds", "generation": 1},
        "status": {
            "observedGeneration": 1,
            "desiredNumberScheduled": 1,
            "currentNumberScheduled": 1,
        },
    },
    {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "ds"}, "status": {}},
    {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "ds", "generation": 1}},
    {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": "rs"},
        "spec": {"replicas": 1},
        "status": {"conditions": [{"type": "ReplicaFailure", "status": "True"}]},
    },
    {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "c"},
        "status": {"phase": "Pending"},
    },
    {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "c"}},
    {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "s"},
        "spec": {"type": "LoadBalancer"},
    },
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}},
    {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "msp"},
        "status": {"phase": "Active"},
    },
    {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "b"}},
    _pod(
        "Running",
        [{"type": "Ready", "status": "False"}],
        containerStatuses=[
            {"name": "app", "state": {"waiting": {"reason": "CrashLoopBackOff"}}},
            {"name": "side", "state": {"running": {}}},
            {"state": {"waiting": {"reason": "CrashLoopBackOff"}}},
        ],
    ),
    _pod("Pending", [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}]),
    _pod("Running", containerStatuses="app"),  # getCrashLoopingContainers' own error
    _pod("Pending"),
    _pod(None),
    _pod("Unknown"),
    _pod("Running", [{"type": "Ready", "status": 1}]),
    _pod("Running", [{"type": "Ready", "status": "True", "reason": 2.5}]),
    _pod("Running", [{"type": "Ready", "status": 2.5}]),
    _pod("Running", ["Ready"]),
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "status": "Running"},
    _custom([{"type": "Ready", "status": "True", "reason": "ReconciliationSucceeded"}]),
    _custom(
        [
            {
                "type": "Ready",
                "status": "False",
                "reason": "HealthCheckFailed",
                "message": "health check failed",
            }
        ]
    ),
    _custom(
        [
            {
                "type": "Ready",
                "status": "Unknown",
                "reason": "Progressing",
                "message": "Reconciliation in progress",
            }
        ]
    ),
    _custom([{"type": "Reconciling", "status": "True", "message": "Running health checks"}]),
    _custom(
        [
            {
                "type": "Stalled",
                "status": "True",
                "reason": "BuildFailed",
                "message": "kustomize build failed",
            }
        ]
    ),
    _custom([]),
    _custom({"type": "Ready"}),
    {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "status": {
            "conditions": [
                {
                    "type": "NamesAccepted",
                    "status": "False",
                    "reason": "Conflict",
                    "message": "taken",
                }
            ]
        },
    },
    {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "status": {
            "conditions": [{"type": "Established", "status": "False", "reason": "Installing"}]
        },
    },
    {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "status": {"conditions": [{"type": "Established", "status": "True"}]},
    },
]


def _argo_objects() -> list[Obj]:
    now = datetime.now(UTC)
    return [
        load_object_file(path.relative_to(DATA).as_posix(), now=now)
        for path in sorted(DATA.rglob("*.yaml"))
    ]


def _world_objects() -> list[Obj]:
    """Every version of every object the world makes of the product's platform and core
    manifests on happy-path (its controllers and kubelet moving them), once each."""
    manifests: list[Obj] = []
    for tier in ("platform", "core"):
        built = subprocess.run(
            [str(KUBECTL), "kustomize", str(ROOT / "appliance" / "manifests" / tier)],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        manifests += [doc for doc in yaml.safe_load_all(built.stdout) if doc]
    world = World.from_scenario(ROOT / "scenarios" / "happy-path.yaml")
    seen: dict[str, Obj] = {}

    def record(event_type: str, obj: Obj) -> None:
        if obj.get("kind") != "Event":
            seen.setdefault(json.dumps(obj, sort_keys=True), obj)

    world.store.changes.subscribe(record)
    world.start()
    for doc in manifests:
        world.objects.apply(doc)
    world.run_until(world.scenario.end)
    return list(seen.values())


def _judge(objects: list[Obj]) -> list[Obj]:
    program = programs(("kstatus-verdicts",))["kstatus-verdicts"]
    done = subprocess.run(
        [str(program)],
        input=json.dumps(objects),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    verdicts: list[Obj] = json.loads(done.stdout)
    return verdicts


@pytest.mark.parametrize("corpus", ["argo", "edge-cases", "world"])
def test_verdicts_are_kustomize_controllers(corpus: str) -> None:
    objects = {"argo": _argo_objects, "edge-cases": lambda: EDGE_CASES, "world": _world_objects}[
        corpus
    ]()
    assert len(objects) >= {"argo": 40, "edge-cases": 60, "world": 100}[corpus]
    real = _judge(objects)
    now = datetime.now(UTC)
    ours = [flux_verdict(obj, now=now)._asdict() for obj in objects]
    differences = [
        f"{obj.get('kind')} {json.dumps(obj.get('status'), sort_keys=True)[:200]}: "
        f"ours {mine}, kustomize-controller {theirs}"
        for obj, mine, theirs in zip(objects, ours, real, strict=True)
        if mine != theirs
    ]
    assert not differences, "\n".join(differences[:15])
    # The corpus reaches every verdict the health check acts on.
    if corpus != "argo":
        assert {v["status"] for v in real} >= {"Current", "InProgress"}
    if corpus == "edge-cases":
        assert {v["status"] for v in real} == {
            "Current",
            "InProgress",
            "Failed",
            "Terminating",
            "Unknown",
        }
