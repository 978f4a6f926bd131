"""`appliance status --kubeconfig` against a tiny loopback API: one list per kind, cluster clock.

The real fake Kubernetes API is the simulator's; this stand-in serves canned lists so the
reading layer is tested on its own (including the Date header and missing Flux CRDs).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from appliance.cli import main
from appliance.cluster.connecting import ClusterError, connect
from appliance.cluster.reading import count_seeded_users, read_snapshot, server_time
from appliance.collecting import collect_live
from tests.fixtures import NOW, Appliance
from tests.fixtures.loopback import serve_on_loopback

SERVER_DATE = "Wed, 29 Apr 2026 15:00:00 GMT"
CONFIG_PATH = "/api/v1/namespaces/appliance-system/configmaps/appliance-status-config"

PATHS = {
    "/api/v1/nodes": "Node",
    "/api/v1/pods": "Pod",
    "/api/v1/events": "Event",
    "/api/v1/persistentvolumeclaims": "PersistentVolumeClaim",
    "/apis/apps/v1/deployments": "Deployment",
    "/apis/apps/v1/statefulsets": "StatefulSet",
    "/apis/batch/v1/jobs": "Job",
    "/apis/source.toolkit.fluxcd.io/v1/gitrepositories": "GitRepository",
    "/apis/kustomize.toolkit.fluxcd.io/v1/kustomizations": "Kustomization",
    # HelmRelease only at an older version: the reader must fall back.
    "/apis/helm.toolkit.fluxcd.io/v2beta2/helmreleases": "HelmRelease",
}


@dataclass
class FakeApi:
    """Canned list responses, a request log, and switches for failures."""

    objects: list[dict[str, Any]]
    requests: list[str] = field(default_factory=list)
    missing: set[str] = field(default_factory=set)
    url: str = ""
    # The ConfigMap the bootstrapper writes (appliance-system/appliance-status-config), if any.
    status_config: dict[str, str] | None = None

    def handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def date_time_string(self, timestamp: float | None = None) -> str:
                return SERVER_DATE  # the cluster's clock, not ours

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                api.requests.append(path)
                if path == "/version":
                    return self._send(200, {"major": "1", "minor": "31", "gitVersion": "v1.31.4"})
                if path == CONFIG_PATH and api.status_config is not None:
                    return self._send(200, {"kind": "ConfigMap", "data": api.status_config})
                kind = PATHS.get(path)
                if kind is None or kind in api.missing:
                    return self._send(404, {"kind": "Status", "status": "Failure", "code": 404})
                if "exec" in path:
                    return self._send(403, {"kind": "Status", "code": 403})
                items = []
                for obj in api.objects:
                    if obj["kind"] == kind:
                        # API list items carry no kind/apiVersion; kubectl (and we) add them.
                        items.append(
                            {k: v for k, v in obj.items() if k not in {"kind", "apiVersion"}}
                        )
                return self._send(
                    200, {"kind": f"{kind}List", "apiVersion": "v1", "metadata": {}, "items": items}
                )

            def _send(self, code: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


@pytest.fixture
def fake_api() -> Iterator[FakeApi]:
    """A loopback API serving the healthy world."""
    api = FakeApi(objects=Appliance.healthy().all())
    server = ThreadingHTTPServer(("127.0.0.1", 0), api.handler())
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _kubeconfig(tmp_path: Path, server: str) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: appliance\n"
        f"clusters:\n- name: appliance\n  cluster:\n    server: {server}\n"
        "users:\n- name: admin\n  user:\n    token: secret-token\n"
        "contexts:\n- name: appliance\n  context:\n    cluster: appliance\n    user: admin\n"
    )
    return path


def test_read_snapshot_one_list_per_kind(fake_api: FakeApi, tmp_path: Path) -> None:
    """Every kind is listed once, across all namespaces; missing Flux versions fall back."""
    with connect(_kubeconfig(tmp_path, fake_api.url)) as cluster:
        snap = read_snapshot(cluster)
    assert snap.api_error is None
    assert len(snap.nodes) == 1
    assert {p["metadata"]["name"] for p in snap.pods} >= {"db-0", "redis-0"}
    assert snap.helm_releases
    assert snap.helm_releases[0]["kind"] == "HelmRelease"
    assert snap.pods[0]["kind"] == "Pod"
    listed = [p for p in fake_api.requests if p in PATHS]
    assert sorted(listed) == sorted(set(listed))  # never more than one call per kind
    assert len(listed) == len(PATHS)


def test_server_time_comes_from_date_header(fake_api: FakeApi, tmp_path: Path) -> None:
    """Elapsed times use the API server's clock (its Date header), not the local one."""
    with connect(_kubeconfig(tmp_path, fake_api.url)) as cluster:
        assert server_time(cluster) == NOW
        assert read_snapshot(cluster).server_time == NOW


def test_missing_flux_crds_are_not_an_error(fake_api: FakeApi, tmp_path: Path) -> None:
    """No Kustomization CRD (404): empty list, recorded as missing, no api_error."""
    fake_api.missing.add("Kustomization")
    with connect(_kubeconfig(tmp_path, fake_api.url)) as cluster:
        snap = read_snapshot(cluster)
    assert snap.api_error is None
    assert snap.kustomizations == ()
    assert "Kustomization" in snap.missing_kinds


def test_seeded_users_unmeasurable_is_none(fake_api: FakeApi, tmp_path: Path) -> None:
    """An exec the API refuses yields None (not measured), never an exception."""
    with connect(_kubeconfig(tmp_path, fake_api.url)) as cluster:
        assert count_seeded_users(cluster) is None


def test_collect_live_without_probe_is_not_login_ready(fake_api: FakeApi, tmp_path: Path) -> None:
    """Live: everything Ready but no app URL probed -> installing (LOGIN_READY needs the probe)."""
    with connect(_kubeconfig(tmp_path, fake_api.url)) as cluster:
        status = collect_live(cluster, site_id="s", app_url=None, measure_users=True)
    assert status.cluster.source == "live"
    assert status.timestamp == NOW
    assert status.tiers.core.ready
    assert status.tiers.bootstrap.ready  # completed Job; users unmeasurable -> noted
    assert not status.bootstrap.seed.verified
    assert not status.tiers.login.ready
    assert status.rollup.state.value == "installing"


def test_status_command_live_json(
    fake_api: FakeApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`appliance status --kubeconfig K --json` prints the canonical JSON of the live cluster."""
    code = main(["status", "--kubeconfig", str(_kubeconfig(tmp_path, fake_api.url)), "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 3
    assert data["cluster"]["reachable"] is True
    assert data["release"]["gitRevision"].startswith("release/1.0-rc5")


@pytest.fixture
def app_endpoint() -> Iterator[str]:
    """The app as finding-11 saw it: 307 to /msp/dashboard."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(307)
            self.send_header("Location", "/msp/dashboard")
            self.send_header("Content-Length", "0")
            self.end_headers()

    with serve_on_loopback(Handler) as url:
        yield url


def test_status_command_probes_the_app_url_the_bootstrapper_recorded(
    fake_api: FakeApi, app_endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 10: without --app-url, the URL in appliance-status-config is probed: a ready
    appliance reads ready, not 'waiting for the login tier (the app URL was not probed)'."""
    fake_api.status_config = {"appUrl": app_endpoint, "siteId": "appliance-single-node"}
    kubeconfig = _kubeconfig(tmp_path, fake_api.url)
    code = main(["status", "--kubeconfig", str(kubeconfig), "--json", "--no-seed-check"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0, data["rollup"]
    assert data["loginProbe"]["url"] == app_endpoint
    assert data["loginProbe"]["statusCode"] == 307
    assert data["tiers"]["login"]["ready"] is True
    assert CONFIG_PATH in fake_api.requests


def test_connect_rejects_bad_kubeconfig(tmp_path: Path) -> None:
    """An unreadable kubeconfig raises ClusterError naming the path."""
    path = tmp_path / "kubeconfig"
    path.write_text(": : :\n\t-")
    with pytest.raises(ClusterError, match=str(path)):
        connect(path)
