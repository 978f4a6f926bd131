"""A served world for the fake API's fidelity tests: a small scenario on a ServedWorld, with the
real kubectl and the official client pointed at it (see docs/simulator-api.md)."""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import httpx

from simulator.neighbours.addresses import choose_node_address
from simulator.world.scenario import parse_scenario
from simulator.world.served import ServedWorld
from tests.integration.fake_api_harness import Harness

__all__ = ["OBSERVED", "WEB", "raw_http", "served_observed", "served_world", "wait_for"]

T = TypeVar("T")

# A namespace with a running two-replica Deployment behind a Service: what most gaps need.
WEB = """
name: web
speed: 60
registry:
  images:
    docker.io/library/nginx:1.27: {sizeBytes: 70000000, pullSeconds: 3}
    docker.io/library/nginx:no-such-tag: {present: false, tagsListed: ["1.27"]}
objects:
  - {apiVersion: v1, kind: Namespace, metadata: {name: shop}}
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web, namespace: shop, labels: {app: web}}
    spec:
      replicas: 2
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers:
            - {name: web, image: "nginx:1.27", ports: [{containerPort: 80}]}
  - apiVersion: v1
    kind: Service
    metadata: {name: web, namespace: shop}
    spec: {selector: {app: web}, ports: [{port: 80, targetPort: 80}]}
"""


OBSERVED = Path(__file__).resolve().parents[2] / "scenarios" / "utm-rc5-observed.yaml"


@contextmanager
def served_observed(tmp: Path) -> Iterator[tuple[ServedWorld, Path]]:
    """The observed rc5 install on a loopback node address, its clock frozen until the test
    moves it (`run_until`); yields the world and its kubeconfig."""
    world = ServedWorld.from_scenario(OBSERVED, speed=0, node_ip=choose_node_address())
    world.start(kubeconfig_out=tmp / "kubeconfig")
    try:
        yield world, tmp / "kubeconfig"
    finally:
        world.stop()


@contextmanager
def served_world(tmp: Path, scenario: str = WEB) -> Iterator[tuple[ServedWorld, Harness]]:
    """Serve `scenario`; yields the world and a harness (kubectl, official client) for it."""
    world = ServedWorld(parse_scenario(scenario, source="test.yaml"))
    world.start(kubeconfig_out=tmp / "kubeconfig")
    assert world.api is not None
    assert world.kubeconfig_path is not None
    harness = Harness(
        store=world.store, server=world.api, kubeconfig=world.kubeconfig_path, workdir=tmp
    )
    try:
        yield world, harness
    finally:
        harness.close_clients()
        world.stop()


def wait_for(probe: Callable[[], T | None], *, timeout: float = 20.0, what: str = "") -> T:
    """Poll `probe` until it answers something truthy (wall time: the world runs at 60x)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = probe()
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or probe}")
        time.sleep(0.05)


def raw_http(api: Harness) -> httpx.Client:
    """A plain HTTPS client with the admin token, for byte-level checks of the answers."""
    context = ssl.create_default_context(cafile=str(api.server.ca_file))
    return httpx.Client(
        base_url=api.server.url,
        verify=context,
        headers={"Authorization": f"Bearer {api.server.admin_token}"},
    )
