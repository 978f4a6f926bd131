"""The real control plane (etcd, kube-apiserver, kube-controller-manager from Go modules).

One control plane for the module: our manifests applied with strict validation, the status
service's least-privilege token judged by the real RBAC authorizer, and happy-path replayed with
the real workload controllers while the world plays only the node.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from simulator.cli import main
from simulator.controlplane.access import ControlPlaneAccess
from simulator.controlplane.cluster import ControlPlane
from simulator.world.engine import World
from tests.integration.control_plane_support import ROOT, kubectl, running_control_plane

MANIFESTS = ROOT / "appliance" / "manifests"
HAPPY = ROOT / "scenarios" / "happy-path.yaml"


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    yield from running_control_plane(tmp_path_factory.mktemp("control-plane"))


@pytest.fixture(scope="module")
def applied(plane: ControlPlane) -> ControlPlane:
    """The namespaces, Flux CRDs and status service manifests, applied server-side, strictly."""
    kc = plane.kubeconfig
    kubectl(kc, "apply", "--server-side", "--validate=strict", "-k", str(MANIFESTS / "platform"))
    kubectl(kc, "apply", "--server-side", "--validate=strict", "-k", str(MANIFESTS / "flux"))
    kubectl(kc, "wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
    kubectl(kc, "apply", "--server-side", "--validate=strict", "-k", str(MANIFESTS / "status"))
    return plane


def test_the_api_server_is_kubernetes_1_37(plane: ControlPlane) -> None:
    """kubectl reaches a real kube-apiserver over TLS with the admin's client certificate."""
    version = json.loads(kubectl(plane.kubeconfig, "version", "-o", "json").stdout)
    assert version["serverVersion"]["gitVersion"].startswith("v1.37.")
    namespaces = kubectl(plane.kubeconfig, "get", "namespaces", "-o", "name").stdout.split()
    assert "namespace/kube-system" in namespaces


@pytest.mark.parametrize("folder", ["platform", "core", "background", "status"])
def test_our_manifests_pass_strict_server_side_validation(
    applied: ControlPlane, folder: str
) -> None:
    """Every object of each kustomization is accepted by the real API server (dry run, strict)."""
    done = kubectl(
        applied.kubeconfig,
        "apply",
        "--server-side",
        "--dry-run=server",
        "--validate=strict",
        "-k",
        str(MANIFESTS / folder),
    )
    assert "serverside-applied (server dry run)" in done.stdout


def test_strict_validation_rejects_an_unknown_field(applied: ControlPlane, tmp_path: Path) -> None:
    """The judge is strict: a misspelt field is an error, not a silently dropped key."""
    manifest = tmp_path / "typo.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: typo, namespace: default}\n"
        "data: {a: b}\nimutable: true\n"
    )
    done = kubectl(
        applied.kubeconfig, "apply", "--validate=strict", "-f", str(manifest), check=False
    )
    assert done.returncode != 0
    assert 'unknown field "imutable"' in done.stderr


@pytest.fixture(scope="module")
def status_kubeconfig(applied: ControlPlane, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A kubeconfig with a TokenRequest token for the status service's own ServiceAccount."""
    access = ControlPlaneAccess(applied.kubeconfig)
    try:
        token = access.issue_token("appliance-system", "appliance-status")
        path = tmp_path_factory.mktemp("status-sa") / "kubeconfig"
        return access.write_kubeconfig(path, token=token, user="appliance-status")
    finally:
        access.close()


READS = [
    "nodes",
    "pods",
    "persistentvolumeclaims",
    "events",
    "configmaps",
    "deployments.apps",
    "statefulsets.apps",
    "jobs.batch",
    "events.events.k8s.io",
    "gitrepositories.source.toolkit.fluxcd.io",
    "kustomizations.kustomize.toolkit.fluxcd.io",
    "helmreleases.helm.toolkit.fluxcd.io",
]


@pytest.mark.parametrize("resource", READS)
def test_the_status_token_reads_what_the_engine_reads(
    status_kubeconfig: Path, resource: str
) -> None:
    """List and watch are allowed on every kind the status engine reads."""
    kubectl(status_kubeconfig, "get", resource, "-A")
    allowed = kubectl(status_kubeconfig, "auth", "can-i", "watch", resource, "-A")
    assert allowed.stdout.strip() == "yes"


def test_the_status_token_reads_previous_logs_but_cannot_exec(status_kubeconfig: Path) -> None:
    """`get pods/log` (the previous log of a crashed container) is allowed; exec is not."""
    can = kubectl(status_kubeconfig, "auth", "can-i", "get", "pods", "--subresource=log", "-A")
    assert can.stdout.strip() == "yes"
    exec_ = kubectl(
        status_kubeconfig,
        "auth",
        "can-i",
        "create",
        "pods",
        "--subresource=exec",
        "-A",
        check=False,
    )
    assert exec_.stdout.strip() == "no"


@pytest.mark.parametrize(
    "args",
    [
        ("get", "secrets", "-A"),
        ("-n", "appliance-system", "get", "secret", "appliance-status-auth"),
        ("-n", "default", "create", "configmap", "intruder", "--from-literal=a=b"),
        ("-n", "appliance-system", "delete", "serviceaccount", "appliance-status"),
        ("-n", "appliance-system", "scale", "deployment", "appliance-status", "--replicas=0"),
        ("create", "namespace", "intruder"),
    ],
    ids=["list-secrets", "get-secret", "create", "delete", "scale", "namespace"],
)
def test_the_status_token_is_forbidden_secrets_and_every_write(
    status_kubeconfig: Path, args: tuple[str, ...]
) -> None:
    """The real RBAC authorizer answers 403 Forbidden, naming the service account."""
    done = kubectl(status_kubeconfig, *args, check=False)
    assert done.returncode != 0
    assert "forbidden" in done.stderr.lower()
    assert "system:serviceaccount:appliance-system:appliance-status" in done.stderr


def _workloads(kubeconfig: Path) -> dict[tuple[str, str, str], Any]:
    answer = json.loads(
        kubectl(kubeconfig, "get", "deployments,statefulsets,jobs", "-A", "-o", "json").stdout
    )
    return {
        (o["kind"], o["metadata"]["namespace"], o["metadata"]["name"]): _ready(o)
        for o in answer["items"]
    }


def _ready(obj: dict[str, Any]) -> bool:
    status = obj.get("status") or {}
    if obj["kind"] == "Job":
        return any(
            c.get("type") == "Complete" and c.get("status") == "True"
            for c in status.get("conditions") or []
        )
    return bool(status.get("readyReplicas") == (obj.get("spec") or {}).get("replicas", 1))


def test_happy_path_replays_with_the_real_controllers(
    plane: ControlPlane, capsys: pytest.CaptureFixture[str]
) -> None:
    """`appliance-sim replay` sees the controller manager's lease and plays only the node: the
    real Deployment, StatefulSet and Job controllers bring every workload to where the embedded
    world's own controllers bring them."""
    assert main(["replay", str(HAPPY), "--kubeconfig", str(plane.kubeconfig)]) == 0
    assert "onto the cluster" in capsys.readouterr().out
    embedded = World.from_scenario(HAPPY)
    embedded.start()
    embedded.run_until(embedded.scenario.end)
    expected = {
        (o["kind"], o["metadata"]["namespace"], o["metadata"]["name"]): _ready(o)
        for api_version, kind in (("apps/v1", "Deployment"), ("apps/v1", "StatefulSet"))
        for o in embedded.store.list(api_version, kind)
    } | {
        ("Job", o["metadata"]["namespace"], o["metadata"]["name"]): _ready(o)
        for o in embedded.store.list("batch/v1", "Job")
    }
    found = _workloads(plane.kubeconfig)
    assert len(expected) > 5
    assert {k: v for k, v in found.items() if k in expected} == expected
    pods = json.loads(kubectl(plane.kubeconfig, "get", "pods", "-n", "msp", "-o", "json").stdout)
    assert {p["spec"].get("nodeName") for p in pods["items"]} == {embedded.node_name}
    claims = json.loads(kubectl(plane.kubeconfig, "get", "pvc", "-n", "msp", "-o", "json").stdout)
    assert claims["items"]
    assert {c["status"]["phase"] for c in claims["items"]} == {"Bound"}
