"""The fake `flux` CLI as a subprocess against the fake Kubernetes API, through a kubeconfig."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from simulator.api import ApiServer
from simulator.api.store import ObjectStore
from simulator.clock import VirtualClock


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[ObjectStore, Path]]:
    store = ObjectStore(VirtualClock(datetime(2026, 4, 30, tzinfo=UTC), speed=1.0))
    api = ApiServer(store, host="127.0.0.1", port=0)
    api.start()
    kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig")
    try:
        yield store, kubeconfig
    finally:
        api.stop()


def flux(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simulator.neighbours.fluxctl", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _mark_flux_controllers_ready(store: ObjectStore) -> None:
    """Stand in for the kubelet: flux-system Deployments report a ready replica."""

    def on_event(event: str, obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        if obj["kind"] == "Deployment" and event == "ADDED" and meta["namespace"] == "flux-system":
            threading.Thread(
                target=store.patch_status,
                args=("apps/v1", "Deployment", meta["name"], {"status": {"readyReplicas": 1}}),
                kwargs={"namespace": "flux-system"},
                daemon=True,
            ).start()

    store.changes.subscribe(on_event)


def test_install_serves_the_flux_kinds_and_waits_for_controllers(
    cluster: tuple[ObjectStore, Path],
) -> None:
    """`flux install` applies CRDs and controllers; HelmRelease becomes a served kind."""
    store, kubeconfig = cluster
    _mark_flux_controllers_ready(store)
    result = flux("install", "--kubeconfig", str(kubeconfig), "--timeout", "30s")
    assert result.returncode == 0, result.stderr
    assert "✔ install finished" in result.stdout
    assert store.get("v1", "Namespace", "flux-system") is not None
    assert store.registry.by_kind("helm.toolkit.fluxcd.io/v2", "HelmRelease") is not None


def test_install_times_out_when_controllers_never_get_ready(
    cluster: tuple[ObjectStore, Path],
) -> None:
    """Without ready controllers, install fails after --timeout naming the Deployment."""
    _, kubeconfig = cluster
    result = flux("install", "--kubeconfig", str(kubeconfig), "--timeout", "1s")
    assert result.returncode == 1
    assert "timeout waiting for: [Deployment/flux-system/source-controller" in result.stderr


def test_reconcile_helmrelease_annotates_and_waits(cluster: tuple[ObjectStore, Path]) -> None:
    """`reconcile helmrelease --force` sets requestedAt/forceAt and waits for the controller."""
    store, kubeconfig = cluster
    _mark_flux_controllers_ready(store)
    assert flux("install", "--kubeconfig", str(kubeconfig)).returncode == 0
    store.create(
        {
            "apiVersion": "helm.toolkit.fluxcd.io/v2",
            "kind": "HelmRelease",
            "metadata": {"name": "alga-core", "namespace": "msp"},
            "spec": {"chart": {"spec": {"chart": "alga-core"}}},
        }
    )

    def controller(event: str, obj: dict[str, Any]) -> None:
        annotations = obj["metadata"].get("annotations") or {}
        requested = annotations.get("reconcile.fluxcd.io/requestedAt")
        status = obj.get("status") or {}
        if (
            obj["kind"] == "HelmRelease"
            and requested
            and status.get("lastHandledReconcileAt") != requested
        ):
            patch = {
                "status": {
                    "lastHandledReconcileAt": requested,
                    "history": [{"chartVersion": "0.2.0"}],
                }
            }
            threading.Thread(
                target=store.patch_status,
                args=("helm.toolkit.fluxcd.io/v2", "HelmRelease", "alga-core", patch),
                kwargs={"namespace": "msp"},
                daemon=True,
            ).start()

    store.changes.subscribe(controller)
    result = flux(
        "reconcile",
        "helmrelease",
        "alga-core",
        "-n",
        "msp",
        "--force",
        "--kubeconfig",
        str(kubeconfig),
        "--timeout",
        "30s",
    )
    assert result.returncode == 0, result.stderr
    assert "✔ applied revision 0.2.0" in result.stdout
    annotations = store.get("helm.toolkit.fluxcd.io/v2", "HelmRelease", "alga-core", "msp")
    assert annotations is not None
    meta = annotations["metadata"]["annotations"]
    assert meta["reconcile.fluxcd.io/forceAt"] == meta["reconcile.fluxcd.io/requestedAt"]


def test_version_names_the_cli_and_controllers(cluster: tuple[ObjectStore, Path]) -> None:
    """`flux version` prints the client version and, after install, the controller versions."""
    store, kubeconfig = cluster
    _mark_flux_controllers_ready(store)
    assert flux("install", "--kubeconfig", str(kubeconfig)).returncode == 0
    result = flux("version", "--kubeconfig", str(kubeconfig))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "flux: v2.4.0"
    assert "helm-controller: v1.1.0" in result.stdout
