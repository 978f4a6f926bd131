"""The clock endpoint: how a real process in a warped world says it waits.

The product ships a test switch (`APPLIANCE_TEST_CLOCK`, as stamina ships `STAMINA_TESTING`):
when it names a URL, the process's sleeps and its clock go through it instead of the machine's.
Each process gets its own lease URL, `http://127.0.0.1:PORT/leases/<id>`, and these calls:

    GET  <lease>/now                          -> {"now": cluster time, epoch seconds}
    POST <lease>/hold[?count=N]               one (N) more thread(s) of mine work(s)
    POST <lease>/release                      one thread of mine stopped working
    POST <lease>/sleep?seconds=S&wid=W[&acked=N][&lazy=1]
         release my token until cluster time now+S, then hold it again; answers then.
         `acked`: I have acted on N lines of my watch streams (simulator/warp.py);
         `lazy`: wake me once time passes now+S, but do not move time for me (a heartbeat)
    POST <lease>/cancel?wid=W                 end sleep W early (another thread of mine wakes it)

Every answer is `{"now": ..., "face": PATH}` (and `"woke"` for sleeps). `face` is the clock
face: a file holding the cluster time as 8 bytes (a little-endian double of epoch seconds),
rewritten at every jump before any sleeper wakes, so a process reads the time without a call.
Reading it is safe whenever the process could observe time at all: while any of its threads
works, or a participant waits on its answer, the clock cannot jump. Unknown leases answer 404,
so a process that outlived its world fails loudly instead of sleeping forever.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from simulator.neighbours.serving import LoopbackServer
from simulator.warp import Lease, Warp

__all__ = ["CLOCK_ENV", "ClockEndpoint", "Participant", "Participants"]

# The product's test switch (appliance/clocking.py reads it); the simulator sets it for the
# processes it starts. Its value is the lease URL.
CLOCK_ENV = "APPLIANCE_TEST_CLOCK"


class ClockEndpoint:
    """Serves a warp's leases over HTTP on loopback."""

    def __init__(self, warp: Warp, *, host: str = "127.0.0.1") -> None:
        self.warp = warp
        fd, self.face = tempfile.mkstemp(prefix="appliance-sim-clock-")
        os.close(fd)
        self._write_face(warp.clock.now())
        warp.on_jump(self._write_face)
        self._server = LoopbackServer(_make_handler(warp, self.face), host=host, port=0)

    def _write_face(self, now: datetime) -> None:
        with open(self.face, "r+b" if os.path.getsize(self.face) else "wb") as handle:
            handle.write(struct.pack("<d", now.timestamp()))

    def start(self) -> ClockEndpoint:
        """Listen; returns self."""
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        self._server.stop()
        if os.path.exists(self.face):
            os.unlink(self.face)

    def url_for(self, lease: Lease) -> str:
        """The lease URL a process gets as `APPLIANCE_TEST_CLOCK`."""
        return f"{self._server.url}/leases/{lease.id}"

    def env_for(self, lease: Lease) -> dict[str, str]:
        """The environment that turns a process's sleeps into waits on this lease."""
        return {CLOCK_ENV: self.url_for(lease)}


@dataclass(eq=False)
class Participant:
    """One lease, with the environment a process needs to wait on it (empty in-process)."""

    warp: Warp
    lease: Lease
    env: dict[str, str]

    def hold(self) -> None:
        """One more of its threads works."""
        self.warp.hold(self.lease)

    def release(self) -> None:
        """One of its threads waits on something the books track."""
        self.warp.release(self.lease)

    def sleep(self, seconds: float, *, wall_timeout: float | None = None) -> str:
        """Wait `seconds` of cluster time (in-process participants)."""
        return self.warp.sleep(self.lease, seconds, wall_timeout=wall_timeout)

    def close(self) -> None:
        """It is gone (its process exited): it no longer holds the clock."""
        self.warp.close(self.lease)

    def close_when_done(self, process: subprocess.Popen[Any]) -> None:
        """Close the lease once `process` has exited, whenever that is (a daemon thread)."""

        def wait_then_close() -> None:
            process.wait()
            self.close()

        threading.Thread(target=wait_then_close, name="lease-of-process", daemon=True).start()


class Participants:
    """Hands out leases: to the processes a warped world starts, and to in-process parts."""

    def __init__(self, warp: Warp, endpoint: ClockEndpoint) -> None:
        self.warp = warp
        self._endpoint = endpoint

    def process(self, name: str, *, driver: bool, held: int = 1) -> Participant:
        """A lease for a process about to start: put `env` in its environment."""
        lease = self.warp.lease(name, driver=driver, held=held)
        return Participant(self.warp, lease, self._endpoint.env_for(lease))

    def local(self, name: str, *, driver: bool, held: int = 1) -> Participant:
        """A lease for a part of this process."""
        return Participant(self.warp, self.warp.lease(name, driver=driver, held=held), {})


def _make_handler(warp: Warp, face: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # Kept-alive connections: a process calls hundreds of times (appliance/clocking.py). An
        # idle one is closed after a while (the client reconnects); a sleep in progress is not
        # idle (no read waits meanwhile).
        protocol_version = "HTTP/1.1"
        timeout = 120

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def _handle(self, method: str) -> None:
            parts = urlsplit(self.path)
            segments = [s for s in parts.path.split("/") if s]
            if len(segments) != 3 or segments[0] != "leases":
                self._answer(404, {"error": f"no such path {parts.path}"})
                return
            lease = warp.find(segments[1])
            if lease is None:
                self._answer(404, {"error": f"no lease {segments[1]} (the world stopped?)"})
                return
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            verb = segments[2]
            answer: dict[str, Any] = {}
            if (method, verb) == ("POST", "hold"):
                count = query.get("count", "1")
                if not count.isdigit() or not 1 <= int(count) <= 1024:
                    self._answer(400, {"error": f"count must be 1..1024, not {count!r}"})
                    return
                warp.hold(lease, int(count))
            elif (method, verb) == ("POST", "release"):
                warp.release(lease)
            elif (method, verb) == ("POST", "sleep"):
                acked = query.get("acked")
                answer["woke"] = warp.sleep(
                    lease,
                    float(query.get("seconds", "0")),
                    wid=query.get("wid", ""),
                    acked=int(acked) if acked is not None else None,
                    lazy=query.get("lazy") == "1",
                )
            elif (method, verb) == ("POST", "cancel"):
                warp.cancel(lease, query.get("wid", ""))
            elif (method, verb) != ("GET", "now"):
                self._answer(404, {"error": f"no such call {method} {verb}"})
                return
            answer["now"] = warp.clock.now().timestamp()
            answer["face"] = face
            self._answer(200, answer)

        def _answer(self, code: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            try:
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                return  # the sleeper's process ended (the world stops): nobody to tell

        def log_message(self, format: str, *args: Any) -> None:
            return  # one line per sleep would drown the simulator's output

    return Handler
