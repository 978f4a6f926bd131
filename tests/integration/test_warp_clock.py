"""The product's test switch against the simulator's clock endpoint, over real HTTP."""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler

import pytest

from appliance.clocking import (
    SystemClock,
    TestClock,
    clock_from_env,
    participant_from_env,
)
from appliance.errors import InputError
from simulator.clock import VirtualClock
from simulator.neighbours import loopback_http
from simulator.neighbours.clock_endpoint import CLOCK_ENV, ClockEndpoint, Participants
from simulator.neighbours.serving import LoopbackServer
from simulator.warp import Warp

START = datetime(2026, 6, 20, 14, 0, tzinfo=UTC)


@pytest.fixture
def served() -> Iterator[tuple[Warp, Participants]]:
    warp = Warp(VirtualClock(START))
    endpoint = ClockEndpoint(warp).start()
    try:
        yield warp, Participants(warp, endpoint)
    finally:
        endpoint.stop()


def _eventually(predicate: object) -> None:
    pause = threading.Event()
    for _ in range(500):
        if predicate():  # type: ignore[operator]
            return
        pause.wait(0.01)
    raise AssertionError("not reached")


def test_the_switch_reads_the_cluster_clock_and_its_jumps(
    served: tuple[Warp, Participants],
) -> None:
    """monotonic() is the cluster's time: it moves when the world jumps, not with the wall."""
    warp, participants = served
    process = participants.process("bootstrap", driver=True)
    clock = clock_from_env(process.env)
    assert isinstance(clock, TestClock)
    assert clock.participant == process.lease.id == participant_from_env(process.env)
    assert clock.monotonic() == START.timestamp()
    warp.jump_to(START + timedelta(seconds=90))
    assert clock.monotonic() == START.timestamp() + 90  # read from the clock face, no call


def test_sleep_hold_and_release_keep_the_books(served: tuple[Warp, Participants]) -> None:
    """A sleeping process is waiting; its other threads say when they work."""
    warp, participants = served
    process = participants.process("status service", driver=False)
    clock = TestClock(process.env[CLOCK_ENV])
    clock.hold()
    assert process.lease.held == 2
    clock.hold(3)  # a batch of threads about to start: one call
    assert process.lease.held == 5
    for _ in range(5):
        clock.release()
    assert warp.quiescent()
    sleeper = threading.Thread(target=clock.sleep, args=(30.0,), daemon=True)
    clock.hold()
    sleeper.start()
    _eventually(lambda: process.lease.sleepers)
    assert process.lease.held == 0
    warp.jump_to(START + timedelta(seconds=30))
    sleeper.join(5)
    assert not sleeper.is_alive()
    assert process.lease.held == 1


def test_a_waiter_acknowledges_watch_lines_and_another_thread_can_wake_it(
    served: tuple[Warp, Participants],
) -> None:
    """The collector's wait carries what it acted on; the watch thread interrupts it."""
    warp, participants = served
    process = participants.process("status service", driver=False)
    clock = TestClock(process.env[CLOCK_ENV])
    waiter = clock.waiter()
    done = threading.Event()

    def collector() -> None:
        waiter.wait(300.0, acked=4)
        done.set()

    threading.Thread(target=collector, daemon=True).start()
    _eventually(lambda: process.lease.sleepers)
    assert process.lease.acked == 4
    warp.watch_written(process.lease.id, 5)
    assert not warp.quiescent()  # one line not acted on yet
    waiter.interrupt()
    assert done.wait(5)
    assert process.lease.held == 1  # awake and working
    # An interrupt with no wait in progress ends the next wait at once.
    waiter.interrupt()
    waiter.wait(300.0, acked=5)
    assert process.lease.acked is None or process.lease.acked <= 5


def test_a_lazy_wait_does_not_move_time(served: tuple[Warp, Participants]) -> None:
    """A heartbeat's pause never becomes the next jump's target."""
    warp, participants = served
    process = participants.process("bootstrap", driver=True)
    waiter = TestClock(process.env[CLOCK_ENV]).waiter()
    threading.Thread(target=waiter.wait, args=(1.0,), kwargs={"lazy": True}, daemon=True).start()
    _eventually(lambda: process.lease.sleepers)
    assert warp.next_driver_deadline() is None


def test_a_wrong_switch_is_one_line_of_bad_input() -> None:
    """Not a lease URL, or a lease nobody serves: exit 2 material, never a hang."""
    with pytest.raises(InputError, match="not a clock endpoint"):
        clock_from_env({CLOCK_ENV: "file:///etc/passwd"})
    with pytest.raises(InputError, match="answered now"):
        TestClock("http://127.0.0.1:9/leases/nobody").monotonic()
    assert isinstance(clock_from_env({}), SystemClock)
    assert participant_from_env({}) is None


def test_after_the_world_stops_the_process_winds_down_on_the_machines_clock(
    served: tuple[Warp, Participants],
) -> None:
    """A process outliving its world neither hangs nor fails in every thread."""
    warp, participants = served
    process = participants.process("status service", driver=False)
    clock = TestClock(process.env[CLOCK_ENV])
    before = clock.monotonic()
    warp.close(process.lease)
    clock.sleep(0.01)  # the lease is gone: a short sleep on the machine's clock
    assert clock.monotonic() >= before


def test_the_neighbours_answer_without_nagles_delay() -> None:
    """Every accepted connection has TCP_NODELAY: a handler sends its headers and its body
    apart, and with Nagle on the body waited for a kept-alive client's delayed ACK (40 ms per
    answer of the clock endpoint, hundreds per warped run)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            flag = self.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
            body = str(flag).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = LoopbackServer(Handler, host="127.0.0.1", port=0)
    server.start()
    connection = http.client.HTTPConnection(server.host, server.port, timeout=5)
    try:
        for _ in range(2):  # a kept-alive connection, as the product's clock client keeps one
            connection.request("GET", "/")
            assert connection.getresponse().read() != b"0"
    finally:
        connection.close()
        server.stop()


def test_the_fake_clis_one_request_client_reads_status_reason_and_body() -> None:
    """`loopback_http.request` (what talosctl and the CLIs' clock use instead of importing
    http.client) sends headers and body and reads the answer a stdlib server gives; a peer
    that does not speak HTTP is a ValueError, a closed port an OSError."""

    class Echo(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            answer = self.headers["X-Probe"].encode() + b":" + body
            self.send_response(418, "Short And Stout")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = LoopbackServer(Echo, host="127.0.0.1", port=0)
    server.start()
    try:
        answer = loopback_http.request(
            server.host, server.port, "POST", "/x", body=b"tea", headers={"X-Probe": "p"}
        )
        assert (answer.status, answer.reason, answer.body) == (418, "Short And Stout", b"p:tea")
    finally:
        server.stop()
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]

        def babble() -> None:
            peer, _ = silent.accept()
            with peer:
                peer.recv(1024)
                peer.sendall(b"SSH-2.0-OpenSSH\r\n")

        threading.Thread(target=babble, daemon=True).start()
        with pytest.raises(ValueError, match="not an HTTP answer"):
            loopback_http.request("127.0.0.1", port, "GET", "/", timeout=5)
    with pytest.raises(ConnectionRefusedError):
        loopback_http.request("127.0.0.1", port, "GET", "/", timeout=5)
