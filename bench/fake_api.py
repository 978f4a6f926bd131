#!/usr/bin/env python3
"""Fake Kubernetes API throughput and list latency, against baselines measured in the same run.

- creates/s: ConfigMap creates (POST, JSON body, bearer token, RBAC check, managedFields,
  request log) against a bare uvicorn hello-world ASGI app's GET rate, same uvicorn settings,
  same keep-alive client. Goal >= 0.9x. A second row puts the same creates against the HTTP
  floor: an app that reads the same request and sends the same answer bytes and does nothing
  else. The floor's own rate against the hello-world (a POST with a body and a 500-byte answer
  cost more HTTP than a GET answered with 5 bytes) is the most any fake API could reach.
- the least a server costs: a raw asyncio protocol with httptools answering hello, against the
  uvicorn hello-world (informational: how much of a round trip is the server at all; the rest
  is the client and the kernel).
- RBAC's share: the same creates as a ServiceAccount bound to `edit` in its namespace (RBAC
  decides each request, with kube-apiserver's bootstrap policy stored) against the admin's
  (system:masters: RBAC is not asked), same server, same run. Goal >= 0.9x.
- list latency: GET /api/v1/pods of 10,000 pods (HTTP, over loopback, read to the end) against
  `json.dumps` of the same pods in-process. Goal <= 3x.
- start: `ApiServer.start()` on a new store (it stores kube-apiserver's bootstrap RBAC policy
  and PriorityClasses, aggregates the ClusterRoles, publishes the per-namespace objects and the
  controllers' ServiceAccounts) against
  starting the bare uvicorn hello-world; the suite starts the fake API hundreds of times.

Both servers speak plain http (tls=False): TLS would cost the same for both sides of the ratio
and only add noise. Loopback only, bounded loops.

    .venv/bin/python bench/fake_api.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httptools
import uvicorn

from simulator.api import ApiServer
from simulator.api.store import ObjectStore
from simulator.clock import VirtualClock

CREATE_GOAL = ">= 0.9x"
# Informational: how much of a create's round trip is the fake API's own work (the rest is
# HTTP on this uvicorn, which caps the hello-world ratio at this row's baseline / hello-world).
FLOOR_GOAL = "-"
LIST_GOAL = "<= 3x"
START_GOAL = "<= 3x"
RBAC_GOAL = ">= 0.9x"
# The ServiceAccount whose creates RBAC decides: bound to `edit` where it creates.
WRITER_NAMESPACE, WRITER = "default", "writer"


async def hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The baseline: the least an ASGI app on uvicorn can do per request."""
    if scope["type"] != "http":
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", b"5")],
        }
    )
    await send({"type": "http.response.body", "body": b"hello"})


class _RawHello(asyncio.Protocol):
    """The least any server here can do: httptools parses, the answer is written at once, no
    ASGI and no task per request. What a server without a framework would cost."""

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.parser = httptools.HttpRequestParser(self)

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_message_complete(self) -> None:
        self.transport.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 5\r\n\r\nhello"
        )


class _RawServer:
    """`_RawHello` on its own event loop in a thread."""

    def __enter__(self) -> int:
        self.loop = asyncio.new_event_loop()
        server = self.loop.run_until_complete(self.loop.create_server(_RawHello, "127.0.0.1", 0))
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        return int(server.sockets[0].getsockname()[1])

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


class _Uvicorn:
    """A uvicorn server in a thread with the fake API's settings."""

    def __init__(self, app: Any) -> None:
        config = uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", access_log=False
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> int:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)
        return int(self.server.servers[0].sockets[0].getsockname()[1])

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def _client_loop(
    port: int, method: str, path: str, *, count: int, body: bytes, headers: str
) -> float:
    """Requests per second over one keep-alive connection (runs in the client process)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    header_map = json.loads(headers)
    try:
        started = time.perf_counter()
        for _ in range(count):
            conn.request(method, path, body=body or None, headers=header_map)
            response = conn.getresponse()
            response.read()
            if response.status >= 300:
                raise RuntimeError(f"{method} {path} answered {response.status}")
        return count / (time.perf_counter() - started)
    finally:
        conn.close()


def _rate(
    port: int, method: str, path: str, *, count: int, body: bytes, headers: dict[str, str]
) -> float:
    """Run the client loop in its own process, as real clients are (no shared GIL)."""
    result = subprocess.run(
        [
            sys.executable,
            __file__,
            "--client",
            json.dumps([port, method, path, count, body.decode(), json.dumps(headers)]),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return float(result.stdout.strip())


def _floor_app(answer: bytes) -> Any:
    """The HTTP floor of a create: read the request body, answer `answer` (a real create's
    bytes and headers), do nothing else. What no app on this uvicorn can beat."""

    async def floor(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(answer)).encode()),
            (b"date", b"Thu, 01 Jan 2026 00:00:00 GMT"),
            (b"cache-control", b"no-cache, private"),
        ]
        await send({"type": "http.response.start", "status": 201, "headers": headers})
        await send({"type": "http.response.body", "body": answer})

    return floor


class CreateRates(NamedTuple):
    """Median creates/s and the median per-round ratios to the baselines."""

    creates: float
    hello: float
    floor: float
    # The raw server's GET rate and its median ratio to the hello-world's.
    raw: float
    raw_to_hello: float
    to_hello: float
    to_floor: float
    # The same creates by a ServiceAccount RBAC decides for, and its ratio to the admin's.
    rbac_creates: float
    rbac_to_admin: float


def _bind_writer(store: ObjectStore) -> None:
    """Bind WRITER to the aggregated ClusterRole `edit` in its namespace (a RoleBinding)."""
    store.create(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": f"{WRITER}-edit", "namespace": WRITER_NAMESPACE},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "edit",
            },
            "subjects": [{"kind": "ServiceAccount", "name": WRITER, "namespace": WRITER_NAMESPACE}],
        }
    )


def _creates_per_second(count: int, rounds: int) -> CreateRates:
    """Rates of the servers and callers, one after another in each round, so that a change in
    the machine's load hits all alike; the ratios are the medians of each round's ratios
    (a loaded 2-core machine moves the hello-world's rate by 2x between rounds)."""
    store = ObjectStore(
        VirtualClock(datetime(2026, 1, 1, tzinfo=UTC)), history_limit=(2 * count + 400) * rounds
    )
    server = ApiServer(store, tls=False)
    server.start()
    _bind_writer(store)
    headers = {"Authorization": f"Bearer {server.admin_token}", "Content-Type": "application/json"}
    writer = {**headers, "Authorization": f"Bearer {server.issue_token(WRITER_NAMESPACE, WRITER)}"}
    path = f"/api/v1/namespaces/{WRITER_NAMESPACE}/configmaps"
    body = json.dumps({"metadata": {"generateName": "cm-"}, "data": {"k": "v"}}).encode()
    answer = _one_answer(server.port, path, body, headers)
    created, by_writer, hellos, floors, raws = [], [], [], [], []
    try:
        with (
            _Uvicorn(hello) as hello_port,
            _Uvicorn(_floor_app(answer)) as floor_port,
            _RawServer() as raw_port,
        ):
            _rate(hello_port, "GET", "/", count=200, body=b"", headers={})  # warm-up
            _rate(raw_port, "GET", "/", count=200, body=b"", headers={})
            _rate(floor_port, "POST", path, count=200, body=body, headers=headers)
            _rate(server.port, "POST", path, count=200, body=body, headers=headers)
            _rate(server.port, "POST", path, count=200, body=body, headers=writer)
            for round_ in range(rounds):
                hellos.append(_rate(hello_port, "GET", "/", count=count, body=b"", headers={}))
                raws.append(_rate(raw_port, "GET", "/", count=count, body=b"", headers={}))
                floors.append(
                    _rate(floor_port, "POST", path, count=count, body=body, headers=headers)
                )
                # The callers take turns going first, so that what drifts within a round (the
                # store grows with each create) does not count against whoever goes second.
                callers = [(created, headers), (by_writer, writer)]
                for rates, caller in callers if round_ % 2 == 0 else callers[::-1]:
                    rates.append(
                        _rate(server.port, "POST", path, count=count, body=body, headers=caller)
                    )
    finally:
        server.stop()
    return CreateRates(
        creates=statistics.median(created),
        hello=statistics.median(hellos),
        floor=statistics.median(floors),
        raw=statistics.median(raws),
        raw_to_hello=statistics.median(r / h for r, h in zip(raws, hellos, strict=True)),
        to_hello=statistics.median(c / h for c, h in zip(created, hellos, strict=True)),
        to_floor=statistics.median(c / f for c, f in zip(created, floors, strict=True)),
        rbac_creates=statistics.median(by_writer),
        rbac_to_admin=statistics.median(w / c for w, c in zip(by_writer, created, strict=True)),
    )


def _one_answer(port: int, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    """The bytes the fake API answers a create with (the floor answers the same)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        answer = response.read()
        if response.status != 201:
            raise RuntimeError(f"POST {path} answered {response.status}")
        return answer
    finally:
        conn.close()


def _pod(i: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"pod-{i:05d}",
            "namespace": f"ns-{i % 20}",
            "labels": {"app.kubernetes.io/name": f"app-{i % 50}", "tier": "core"},
        },
        "spec": {
            "nodeName": "talos-appliance",
            "containers": [
                {
                    "name": "main",
                    "image": f"ghcr.io/example/app-{i % 50}:1.0.{i % 7}",
                    "env": [{"name": "MODE", "value": "prod"}],
                    "ports": [{"containerPort": 8080}],
                }
            ],
        },
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [
                {"name": "main", "ready": True, "restartCount": 0, "image": "x", "imageID": "y"}
            ],
        },
    }


def _best(fn: Any, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def _list_latency(pods: int, repeats: int) -> tuple[float, float]:
    store = ObjectStore(VirtualClock(datetime(2026, 1, 1, tzinfo=UTC)), history_limit=pods * 2)
    for i in range(pods):
        store.create(_pod(i))
    items = store.list("v1", "Pod")
    assert len(items) == pods
    baseline = _best(lambda: json.dumps(items), repeats)
    server = ApiServer(store, tls=False)
    server.start()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    headers = {"Authorization": f"Bearer {server.admin_token}", "Accept": "application/json"}

    def fetch() -> None:
        conn.request("GET", "/api/v1/pods", headers=headers)
        response = conn.getresponse()
        data = response.read()
        if response.status != 200 or len(data) < pods * 100:
            raise RuntimeError(f"list answered {response.status} with {len(data)} bytes")

    try:
        fetch()  # warm-up
        value = _best(fetch, repeats)
    finally:
        conn.close()
        server.stop()
    return value, baseline


def _start_times(repeats: int) -> tuple[float, float]:
    """Median seconds to start the fake API (new store each time) and the bare hello-world."""

    def fake_api() -> float:
        server = ApiServer(ObjectStore(VirtualClock(datetime(2026, 1, 1, tzinfo=UTC))), tls=False)
        started = time.perf_counter()
        server.start()
        elapsed = time.perf_counter() - started
        server.stop()
        return elapsed

    def bare() -> float:
        started = time.perf_counter()
        with _Uvicorn(hello):
            return time.perf_counter() - started

    fake_api(), bare()  # warm-up: imports, the policy's one read per process
    return (
        statistics.median(fake_api() for _ in range(repeats)),
        statistics.median(bare() for _ in range(repeats)),
    )


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Rows {name, value, baseline, ratio, goal} for bench/run."""
    count = 500 if quick else 2000
    rounds = 2 if quick else 5
    pods = 1000 if quick else 10_000
    repeats = 3 if quick else 7
    rates = _creates_per_second(count, rounds)
    list_s, dumps_s = _list_latency(pods, repeats)
    start_s, bare_s = _start_times(5 if quick else 25)
    label = f"median of {rounds} rounds x {count} requests"
    return [
        {
            "name": f"fake API ConfigMap creates/s vs uvicorn hello-world GET/s ({label})",
            "value": rates.creates,
            "baseline": rates.hello,
            "ratio": rates.to_hello,
            "goal": CREATE_GOAL,
        },
        {
            "name": (
                "fake API ConfigMap creates/s vs the HTTP floor: an app that reads the same "
                f"request and sends the same answer, doing nothing else ({label})"
            ),
            "value": rates.creates,
            "baseline": rates.floor,
            "ratio": rates.to_floor,
            "goal": FLOOR_GOAL,
        },
        {
            "name": (
                "raw asyncio + httptools hello-world GET/s (no ASGI, no task per request: the "
                f"most any server here could gain) vs uvicorn hello-world GET/s ({label})"
            ),
            "value": rates.raw,
            "baseline": rates.hello,
            "ratio": rates.raw_to_hello,
            "goal": FLOOR_GOAL,
        },
        {
            "name": (
                f"fake API ConfigMap creates/s as a ServiceAccount bound to edit (RBAC decides) "
                f"vs as the admin (RBAC not asked) ({label})"
            ),
            "value": rates.rbac_creates,
            "baseline": rates.creates,
            "ratio": rates.rbac_to_admin,
            "goal": RBAC_GOAL,
        },
        {
            "name": f"list {pods:,} pods over HTTP (ms) vs json.dumps of the same pods (ms)",
            "value": list_s * 1000,
            "baseline": dumps_s * 1000,
            "ratio": list_s / dumps_s,
            "goal": LIST_GOAL,
        },
        {
            "name": "fake API start, bootstrap objects included (ms) vs bare uvicorn start (ms)",
            "value": start_s * 1000,
            "baseline": bare_s * 1000,
            "ratio": start_s / bare_s,
            "goal": START_GOAL,
        },
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("--client", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        port, method, path, count, body, headers = json.loads(args.client)
        print(_client_loop(port, method, path, count=count, body=body.encode(), headers=headers))
        return
    rows = run(quick=args.quick)
    width = max(len(r["name"]) for r in rows)
    print(f"{'measure'.ljust(width)}  {'value':>10}  {'baseline':>10}  {'ratio':>6}  goal")
    for r in rows:
        print(
            f"{r['name'].ljust(width)}  {r['value']:>10,.1f}  {r['baseline']:>10,.1f}  "
            f"{r['ratio']:>6.2f}  {r['goal']}"
        )


if __name__ == "__main__":
    main()
