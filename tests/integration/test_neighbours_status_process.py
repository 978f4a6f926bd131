"""The real status service runs as a process when its Deployment is applied to the fake API."""

from __future__ import annotations

import base64
import sys
import time
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


def _manifest_deployment() -> dict[str, Any]:
    """The status Deployment exactly as the bootstrapper applies it (token as a mounted file)."""
    from appliance.bootstrap.manifests import build, manifest_dir

    objects = build(manifest_dir("status"))
    return next(o for o in objects if o["kind"] == "Deployment")


def _token_secret(token: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "appliance-status-auth", "namespace": NS},
        "data": {"token": base64.b64encode(token.encode()).decode()},
    }


def _eventually(check: Any, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


def test_rotating_the_secret_takes_effect_without_a_restart(
    world: tuple[ObjectStore, ProcessRunner, str],
) -> None:
    """Issue 9 item 1: the Secret changes -> within seconds the new token works, the old token
    and the session cookie signed with it are refused, and the process was not restarted."""
    store, runner, node_ip = world
    base = f"http://{node_ip}:8080"
    store.create(_token_secret("first-token"))
    store.create(_manifest_deployment())
    assert runner.wait_for(_ready, namespace=NS, name=NAME, timeout=60)
    pod = runner.pod(NS, NAME)
    assert pod is not None
    first_pid = pod.pid
    login = httpx.post(
        f"{base}/login", data={"token": "first-token", "next": "/"}, follow_redirects=False
    )
    assert login.status_code == 303
    cookies = login.cookies
    assert httpx.get(f"{base}/api/overview", cookies=cookies).status_code in (200, 503)

    store.replace(_token_secret("second-token"))

    def new_token_works() -> bool:
        answer = httpx.get(f"{base}/api/overview", headers={"Authorization": "Bearer second-token"})
        return answer.status_code in (200, 503)

    assert _eventually(new_token_works), pod.log_path.read_text()
    old = httpx.get(f"{base}/api/overview", headers={"Authorization": "Bearer first-token"})
    assert old.status_code == 401
    assert httpx.get(f"{base}/api/overview", cookies=cookies).status_code == 401
    after = runner.pod(NS, NAME)
    assert after is not None
    assert after.pid == first_pid
    assert after.restarts == 0
