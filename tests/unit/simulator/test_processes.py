"""Our own pods as real processes: ProcessRunner with a tiny stand-in for the status service."""

from __future__ import annotations

import base64
import stat
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from simulator.api.store import Subscriptions
from simulator.neighbours.addresses import choose_node_address
from simulator.neighbours.pod_specs import ProcessImage
from simulator.neighbours.processes import PodProcess, ProcessRunner

STAND_IN = """
import argparse, http.server, json, os, pathlib
parser = argparse.ArgumentParser()
for flag in ("--host", "--port", "--token-file", "--kubeconfig"):
    parser.add_argument(flag)
args = parser.parse_args()
class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        token = pathlib.Path(args.token_file).read_text()
        mode = oct(os.stat(args.token_file).st_mode & 0o777)
        body = json.dumps({"token": token, "mode": mode, "kubeconfig": args.kubeconfig,
                           "appUrl": os.environ.get("APPLIANCE_APP_URL"),
                           "hostIp": os.environ.get("HOST_IP")}).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
http.server.HTTPServer((args.host, int(args.port)), Handler).serve_forever()
"""


class FakeStore:
    """The slice of a store the runner uses, over a dict."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.changes = Subscriptions()

    def get(
        self, api_version: str, kind: str, name: str, namespace: str | None = None
    ) -> dict[str, Any] | None:
        return self.objects.get((kind, namespace or "", name))

    def list(self, api_version: str, kind: str, namespace: str | None = None) -> list[Any]:
        return [o for (k, _, _), o in self.objects.items() if k == kind]

    def put(self, obj: dict[str, Any], event: str = "ADDED") -> None:
        meta = obj["metadata"]
        key = (obj["kind"], meta["namespace"], meta["name"])
        if event == "DELETED":
            self.objects.pop(key, None)
        else:
            self.objects[key] = obj
        self.changes.publish(event, obj)


def _deployment(image: str = "ghcr.io/nine-minds/appliance-status:1.0-rc5") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "appliance-status", "namespace": "appliance-system"},
        "spec": {
            "replicas": 1,
            "template": {
                "spec": {
                    "serviceAccountName": "appliance-status",
                    "containers": [
                        {
                            "name": "status",
                            "image": image,
                            "ports": [{"containerPort": 8080}],
                            "env": [
                                {"name": "APPLIANCE_APP_URL", "value": "http://node:3000"},
                                {
                                    "name": "HOST_IP",
                                    "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}},
                                },
                                {
                                    "name": "APPLIANCE_STATUS_TOKEN",
                                    "valueFrom": {
                                        "secretKeyRef": {
                                            "name": "appliance-status-auth",
                                            "key": "token",
                                        }
                                    },
                                },
                            ],
                        }
                    ],
                }
            },
        },
    }


def _secret(token: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "appliance-status-auth", "namespace": "appliance-system"},
        "data": {"token": base64.b64encode(token.encode()).decode()},
    }


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[ProcessRunner, FakeStore, str, list[tuple[str, str]]]]:
    script = tmp_path / "bin" / "fake-status"
    script.parent.mkdir()
    script.write_text(f"#!{sys.executable}\n{STAND_IN}")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    node_ip = choose_node_address(ports=(8080,))
    issued: list[tuple[str, str]] = []
    lock = threading.Lock()

    def kubeconfig_for(namespace: str, service_account: str, path: Path) -> Path:
        with lock:
            issued.append((namespace, service_account))
        path.write_text("apiVersion: v1\nkind: Config\n")
        return path

    image = ProcessImage(
        image_prefix="ghcr.io/nine-minds/appliance-status",
        argv=(
            "fake-status",
            "--host",
            "{node_ip}",
            "--port",
            "{port}",
            "--token-file",
            "{token_file}",
            "--kubeconfig",
            "{sa_kubeconfig}",
        ),
    )
    store = FakeStore()
    runner = ProcessRunner(
        node_ip=node_ip,
        kubeconfig_for=kubeconfig_for,
        images=[image],
        workdir=tmp_path / "pods",
        executable_dirs=[script.parent],
        probe_interval=0.05,
    )
    runner.attach(store)
    try:
        yield runner, store, node_ip, issued
    finally:
        runner.stop()


def _ready(pod: PodProcess | None) -> bool:
    return pod is not None and pod.ready


def test_deployment_starts_a_process_that_becomes_ready(
    setup: tuple[ProcessRunner, FakeStore, str, list[tuple[str, str]]],
) -> None:
    """The status Deployment starts the executable on node_ip:8080; /healthz makes it ready."""
    runner, store, node_ip, issued = setup
    store.put(_secret("s3cret"))
    store.put(_deployment())
    assert runner.wait_for(_ready, namespace="appliance-system", name="appliance-status")
    answer = httpx.get(f"http://{node_ip}:8080/").json()
    assert answer["token"] == "s3cret"
    assert answer["mode"] == "0o600"
    assert answer["appUrl"] == "http://node:3000"
    assert answer["hostIp"] == node_ip
    assert issued == [("appliance-system", "appliance-status")]


def test_process_waits_for_its_secret(
    setup: tuple[ProcessRunner, FakeStore, str, list[tuple[str, str]]],
) -> None:
    """Without the token Secret nothing starts; the Secret arriving starts the process."""
    runner, store, _, _ = setup
    store.put(_deployment())
    assert runner.settle()
    assert runner.pod("appliance-system", "appliance-status") is None
    store.put(_secret("later"))
    assert runner.wait_for(_ready, namespace="appliance-system", name="appliance-status")


def test_deleting_the_deployment_stops_the_process(
    setup: tuple[ProcessRunner, FakeStore, str, list[tuple[str, str]]],
) -> None:
    """Deleting the Deployment stops the process, and the port refuses connections again."""
    runner, store, node_ip, _ = setup
    store.put(_secret("s3cret"))
    deployment = _deployment()
    store.put(deployment)
    assert runner.wait_for(_ready, namespace="appliance-system", name="appliance-status")
    store.put(deployment, "DELETED")
    assert runner.wait_for(
        lambda p: p is None, namespace="appliance-system", name="appliance-status"
    )
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://{node_ip}:8080/")


def test_status_updates_do_not_restart_the_process(
    setup: tuple[ProcessRunner, FakeStore, str, list[tuple[str, str]]],
) -> None:
    """A MODIFIED event that changes only status keeps the same process."""
    runner, store, _, issued = setup
    store.put(_secret("s3cret"))
    deployment = _deployment()
    store.put(deployment)
    assert runner.wait_for(_ready, namespace="appliance-system", name="appliance-status")
    before = runner.pod("appliance-system", "appliance-status")
    store.put({**deployment, "status": {"readyReplicas": 1}}, "MODIFIED")
    store.put(_secret("s3cret"), "MODIFIED")
    assert runner.settle()
    after = runner.pod("appliance-system", "appliance-status")
    assert before is not None
    assert after is not None
    assert after.pid == before.pid
    assert len(issued) == 1


def test_a_secret_change_rewrites_the_token_file_without_a_restart(
    setup: tuple[ProcessRunner, FakeStore, str, list[tuple[str, str]]],
) -> None:
    """Like a kubelet's mounted Secret: the token file follows the Secret, atomically and
    still 0600, and the process is not restarted (a pod template change would restart it)."""
    runner, store, node_ip, _ = setup
    store.put(_secret("s3cret"))
    store.put(_deployment())
    assert runner.wait_for(_ready, namespace="appliance-system", name="appliance-status")
    before = runner.pod("appliance-system", "appliance-status")
    store.put(_secret("rotated"), "MODIFIED")
    assert runner.settle()
    answer = httpx.get(f"http://{node_ip}:8080/").json()
    assert answer["token"] == "rotated"
    assert answer["mode"] == "0o600"
    after = runner.pod("appliance-system", "appliance-status")
    assert before is not None
    assert after is not None
    assert after.pid == before.pid


def test_unknown_images_are_left_alone(
    setup: tuple[ProcessRunner, FakeStore, str, list[tuple[str, str]]],
) -> None:
    """A Deployment of an image not in the table does not start anything."""
    runner, store, _, _ = setup
    store.put(_secret("s3cret"))
    store.put(_deployment(image="ghcr.io/nine-minds/alga-psa-ee:94446747"))
    assert runner.settle()
    assert runner.pod("appliance-system", "appliance-status") is None


def test_a_crashing_process_is_restarted_and_counted(tmp_path: Path) -> None:
    """A process that exits is reported with its exit code and restarted with a back-off."""
    script = tmp_path / "bin" / "crasher"
    script.parent.mkdir()
    script.write_text(f"#!{sys.executable}\nimport sys\nsys.exit(3)\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)

    def kubeconfig_for(namespace: str, service_account: str, path: Path) -> Path:
        path.write_text("apiVersion: v1\nkind: Config\n")
        return path

    store = FakeStore()
    runner = ProcessRunner(
        node_ip="127.0.0.1",
        kubeconfig_for=kubeconfig_for,
        images=[
            ProcessImage(image_prefix="ghcr.io/nine-minds/appliance-status", argv=("crasher",))
        ],
        workdir=tmp_path / "pods",
        executable_dirs=[script.parent],
        probe_interval=0.05,
    )
    runner.attach(store)
    try:
        store.put(_secret("s3cret"))
        store.put(_deployment())
        assert runner.wait_for(
            lambda p: p is not None and p.restarts >= 1,
            namespace="appliance-system",
            name="appliance-status",
        )
        assert runner.wait_for(
            lambda p: p is not None and p.exit_code == 3,
            namespace="appliance-system",
            name="appliance-status",
        )
    finally:
        runner.stop()


def test_missing_executable_is_reported_as_run_container_error(tmp_path: Path) -> None:
    """An image whose executable is not installed is reported waiting with RunContainerError."""
    seen: list[PodProcess] = []
    store = FakeStore()
    runner = ProcessRunner(
        node_ip="127.0.0.1",
        kubeconfig_for=lambda ns, sa, path: path,
        images=[
            ProcessImage(image_prefix="ghcr.io/nine-minds/appliance-status", argv=("no-such-exe",))
        ],
        workdir=tmp_path / "pods",
        executable_dirs=[tmp_path],
        on_change=seen.append,
    )
    runner.attach(store)
    try:
        store.put(_secret("s3cret"))
        store.put(_deployment())
        assert runner.settle()
    finally:
        runner.stop()
    assert [p.waiting_reason for p in seen] == ["RunContainerError"]
    assert "no-such-exe" in seen[0].waiting_message


def test_missing_secret_is_reported_like_the_kubelet(tmp_path: Path) -> None:
    """Without its Secret the pod waits with CreateContainerConfigError naming the Secret."""
    seen: list[PodProcess] = []
    store = FakeStore()
    runner = ProcessRunner(
        node_ip="127.0.0.1",
        kubeconfig_for=lambda ns, sa, path: path,
        workdir=tmp_path / "pods",
        on_change=seen.append,
    )
    runner.attach(store)
    try:
        store.put(_deployment())
        assert runner.settle()
    finally:
        runner.stop()
    assert seen[0].waiting_reason == "CreateContainerConfigError"
    assert seen[0].waiting_message == 'secret "appliance-status-auth" not found'
