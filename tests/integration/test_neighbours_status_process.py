"""The real status service runs as a process when its Deployment is applied to the fake API."""

from __future__ import annotations

import base64
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from simulator.api import ApiServer
from simulator.api.store import ObjectStore
from simulator.clock import VirtualClock
from simulator.neighbours.addresses import choose_node_address
from simulator.neighbours.processes import PodProcess, ProcessRunner

STATUS_EXE = Path(sys.executable).parent / "appliance-status"
NS, NAME = "appliance-system", "appliance-status"

pytestmark = pytest.mark.skipif(
    not STATUS_EXE.exists(), reason="appliance-status is not installed (pip install -e .)"
)


def _deployment() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": NAME, "namespace": NS},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": NAME}},
            "template": {
                "metadata": {"labels": {"app": NAME}},
                "spec": {
                    "serviceAccountName": NAME,
                    "containers": [
                        {
                            "name": "status",
                            "image": "ghcr.io/nine-minds/appliance-status:1.0-rc5",
                            "ports": [{"containerPort": 8080}],
                            "env": [{"name": "APPLIANCE_SITE_ID", "value": "sim-site"}],
                        }
                    ],
                },
            },
        },
    }


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[ObjectStore, ProcessRunner, str]]:
    store = ObjectStore(VirtualClock(datetime(2026, 4, 30, tzinfo=UTC), speed=1.0))
    api = ApiServer(store, host="127.0.0.1", port=0)
    api.start()
    node_ip = choose_node_address(ports=(8080,))

    def kubeconfig_for(namespace: str, service_account: str, path: Path) -> Path:
        return api.write_kubeconfig(path, token=api.issue_token(namespace, service_account))

    runner = ProcessRunner(node_ip=node_ip, kubeconfig_for=kubeconfig_for, workdir=tmp_path)
    runner.attach(store)
    try:
        yield store, runner, node_ip
    finally:
        runner.stop()
        api.stop()


def _ready(pod: PodProcess | None) -> bool:
    return pod is not None and pod.ready


def test_status_service_process_follows_its_deployment(
    world: tuple[ObjectStore, ProcessRunner, str],
) -> None:
    """Deployment applied -> appliance-status answers on node_ip:8080; deleted -> it is gone."""
    store, runner, node_ip = world
    token = "status-token-123"
    store.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "appliance-status-auth", "namespace": NS},
            "data": {"token": base64.b64encode(token.encode()).decode()},
        }
    )
    store.create(_deployment())
    ready = runner.wait_for(_ready, namespace=NS, name=NAME, timeout=60)
    pod = runner.pod(NS, NAME)
    log = pod.log_path.read_text() if pod else ""
    assert ready, log
    assert httpx.get(f"http://{node_ip}:8080/api/status").status_code == 401
    store.delete("apps/v1", "Deployment", NAME, NS)
    assert runner.wait_for(lambda p: p is None, namespace=NS, name=NAME, timeout=30)
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://{node_ip}:8080/healthz")
