"""Slow and numerous clients against the real server (issue 9 item 7), with real sockets.

500 slowloris sockets (a request line and half the headers, then silence) are held open while
`/healthz` is asked from another address; then the server must have closed every one of them.
One address opening more than its share has the rest closed at once. A long event stream is not a
slow request and stays open.
"""

from __future__ import annotations

import resource
import selectors
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from status_web.app import create_app
from status_web.connections import ConnectionGuard
from status_web.observations import MutableProvider
from status_web.serving import BackgroundServer
from tests.unit.status_web.samples import installing

TOKEN = "slow-client-token"
REQUEST_SECONDS = 1.0
PER_ADDRESS = 32


@pytest.fixture(autouse=True)
def enough_descriptors() -> None:
    """Both ends of 500 sockets live in this process: lift a 1024 soft limit up to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 4096 if hard == resource.RLIM_INFINITY else min(hard, 4096)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


@pytest.fixture
def served() -> Iterator[tuple[str, int, ConnectionGuard]]:
    guard = ConnectionGuard(request_seconds=REQUEST_SECONDS, per_address=PER_ADDRESS, total=2048)
    app = create_app(
        provider=MutableProvider(installing()),
        token=TOKEN,
        events_poll_seconds=0.05,
        events_tick_seconds=0.2,
        events_lifetime_seconds=30.0,
    )
    with BackgroundServer(app, token=TOKEN, log_level="warning", guard=guard) as server:
        host, port = server.url.removeprefix("http://").rsplit(":", 1)
        yield host, int(port), guard


def slow_socket(source: str, host: str, port: int) -> socket.socket:
    """A connection that sent a request line and one header, and will send nothing more."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((source, 0))
    sock.settimeout(5)
    sock.connect((host, port))
    sock.sendall(b"GET /api/status HTTP/1.1\r\nHost: appliance\r\nX-Slow: ")
    return sock


def closed_by_server(sock: socket.socket, deadline: float) -> bool:
    """True once the server closed `sock` (EOF or reset) by `deadline` (looked at least once)."""
    # A selector, not select.select: with 500 sockets and the server's own ends in this process,
    # descriptors pass FD_SETSIZE (1024) on machines with a high open-files limit.
    with selectors.DefaultSelector() as selector:
        selector.register(sock, selectors.EVENT_READ)
        while True:
            remaining = max(0.0, deadline - time.monotonic())
            if not selector.select(remaining):
                if remaining == 0:
                    return False
                continue
            try:
                if sock.recv(4096) == b"":
                    return True
            except (ConnectionResetError, TimeoutError):
                return True


def healthz_from(source: str, host: str, port: int) -> int:
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(transport=transport, timeout=10) as client:
        return client.get(f"http://{host}:{port}/healthz").status_code


def test_500_slowloris_sockets_are_timed_out_and_healthz_stays_up(
    served: tuple[str, int, ConnectionGuard],
) -> None:
    """Spread over 20 addresses (under the per-address bound), 500 slow requests are all closed
    after the request timeout; meanwhile /healthz from another address answers."""
    host, port, guard = served
    sockets = [slow_socket(f"127.0.9.{1 + i % 20}", host, port) for i in range(500)]
    try:
        assert healthz_from("127.0.10.1", host, port) == 200
        deadline = time.monotonic() + REQUEST_SECONDS + 10
        still_open = [s for s in sockets if not closed_by_server(s, deadline)]
        assert still_open == []
        assert healthz_from("127.0.10.1", host, port) == 200
        assert _eventually(lambda: guard.open_connections() == 0)
    finally:
        for sock in sockets:
            sock.close()


def test_one_address_cannot_hold_more_than_its_share(
    served: tuple[str, int, ConnectionGuard],
) -> None:
    """From one address only PER_ADDRESS connections stay; the rest are closed at once, and
    another address is served meanwhile."""
    host, port, guard = served
    sockets = [slow_socket("127.0.11.1", host, port) for _ in range(PER_ADDRESS + 40)]
    try:
        assert healthz_from("127.0.11.2", host, port) == 200
        soon = time.monotonic() + REQUEST_SECONDS / 2
        closed_at_once = sum(closed_by_server(s, soon) for s in sockets)
        assert closed_at_once >= 40
        assert guard.open_connections("127.0.11.1") <= PER_ADDRESS
    finally:
        for sock in sockets:
            sock.close()


def test_a_long_event_stream_is_not_a_slow_request(
    served: tuple[str, int, ConnectionGuard],
) -> None:
    """The request of an event stream is complete; its response may run far past the timeout."""
    host, port, _ = served
    started = time.monotonic()
    events = 0
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with (
        httpx.Client(timeout=10) as client,
        client.stream("GET", f"http://{host}:{port}/api/events", headers=headers) as stream,
    ):
        assert stream.status_code == 200
        for line in stream.iter_lines():
            if line.startswith("event: status"):
                events += 1
            if time.monotonic() - started > REQUEST_SECONDS * 3:
                break
    assert events >= 3


def _eventually(check: object, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def _answer(host: str, port: int, request: bytes, *, more: bytes = b"", repeat: int = 0) -> bytes:
    """What the server answers to `request` (then `more` sent `repeat` times, as long as the
    server reads), up to its closing the connection."""
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(request)
        try:
            for _ in range(repeat):
                sock.sendall(more)
        except OSError:
            pass  # closed on us mid-send: the answer is waiting
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_a_huge_request_head_is_refused_with_the_apps_headers(
    served: tuple[str, int, ConnectionGuard],
) -> None:
    """One 97 MB header took 143 MB of the service's 256 MiB before (an adversary's find): the
    head is bounded, and what uvicorn itself refuses carries the security headers too."""
    host, port, _ = served
    huge = _answer(
        host, port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: ", more=b"a" * 65536, repeat=200
    )
    assert huge.startswith(b"HTTP/1.1 431 ")
    many = b"".join(b"X-%d: y\r\n" % n for n in range(1000))
    assert _answer(host, port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + many).startswith(
        b"HTTP/1.1 431 "
    )
    malformed = _answer(host, port, b"BREW / HTTP/9.9\r\nHost: x\r\n\r\n")
    assert malformed.startswith(b"HTTP/1.1 400 ")
    for answer in (huge, malformed):
        head = answer.split(b"\r\n\r\n")[0].lower()
        assert b"content-security-policy: default-src 'self'" in head
        assert b"x-content-type-options: nosniff" in head
    ordinary = httpx.get(f"http://{host}:{port}/healthz", headers={"X-Big": "b" * 8000})
    assert ordinary.status_code == 200
