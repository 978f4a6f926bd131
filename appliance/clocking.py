"""The clock the product waits on: the machine's, or a test clock named by APPLIANCE_TEST_CLOCK.

In production every wait is the ordinary kind: `time.monotonic()` and sleeping. A simulated
cluster that jumps its clock ahead when everyone waits (the simulator's time warp) must know
when a process waits and for how much *cluster* time, so the product ships a test switch, as
stamina ships `STAMINA_TESTING`: when `APPLIANCE_TEST_CLOCK` names a clock endpoint
(`http://127.0.0.1:PORT/leases/ID`), `monotonic()` reads the cluster's clock there and
`sleep(n)` becomes "wake me at cluster time t+n". The endpoint also learns how many of the
process's threads are working (`hold`/`release`) and, from the watch cache, how many watch lines
the process has acted on (`acked`), so it knows when the process is idle. Kubernetes requests
carry the lease id in `PARTICIPANT_HEADER`, so the fake API can tell whose watch streams it
writes to; a real API server ignores the header.

Nothing else changes with the switch: the same code paths run, timeouts are the same numbers.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import struct
import threading
import time
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit

from appliance.errors import InputError

__all__ = [
    "PARTICIPANT_HEADER",
    "TEST_CLOCK_ENV",
    "Clock",
    "SystemClock",
    "TestClock",
    "Waiter",
    "clock_from_env",
    "participant_from_env",
]

TEST_CLOCK_ENV = "APPLIANCE_TEST_CLOCK"
PARTICIPANT_HEADER = "X-Appliance-Test-Clock"


class Waiter(Protocol):
    """One thread's interruptible wait."""

    def wait(self, seconds: float, *, acked: int | None = None, lazy: bool = False) -> bool:
        """Return after `seconds` (True), or earlier once `interrupt()` is called, now or
        before (False).

        `acked`: the watch lines this process has acted on, for a test clock's books.
        `lazy`: a routine pause (a heartbeat, a retry) that a test clock need not hurry to end;
        it ends once the cluster's time has passed it for other reasons.
        A wait of no time on a test clock ends when every other participant waits too.
        """
        ...

    def interrupt(self) -> None:
        """End the current wait, or the next one if none is in progress."""
        ...


class Clock(Protocol):
    """Time as the product's waits see it."""

    @property
    def participant(self) -> str | None:
        """The test clock's lease id (None for the machine's clock)."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait `seconds`."""
        ...

    def hold(self, count: int = 1) -> None:
        """`count` more threads of this process are about to work (call before starting them)."""
        ...

    def release(self) -> None:
        """This thread stops working for good (it ends, or it only serves requests now)."""
        ...

    def waiter(self) -> Waiter:
        """A new interruptible wait, for one thread."""
        ...


class _EventWaiter:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._fired = False

    def wait(self, seconds: float, *, acked: int | None = None, lazy: bool = False) -> bool:
        with self._cond:
            if not self._fired:
                self._cond.wait(max(0.0, seconds))
            interrupted, self._fired = self._fired, False
            return not interrupted

    def interrupt(self) -> None:
        with self._cond:
            self._fired = True
            self._cond.notify_all()


class SystemClock:
    """The machine's clock: what production uses."""

    participant: str | None = None

    def monotonic(self) -> float:
        """`time.monotonic()`."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """`time.sleep()`."""
        time.sleep(max(0.0, seconds))

    def hold(self, count: int = 1) -> None:
        """Nothing to tell anyone."""

    def release(self) -> None:
        """Nothing to tell anyone."""

    def waiter(self) -> Waiter:
        """A condition-variable wait."""
        return _EventWaiter()


class TestClock:
    """The test switch: waits and the clock go through a clock endpoint (see module doc)."""

    __test__ = False  # not a pytest class, whatever its name says

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        segments = [s for s in parts.path.split("/") if s]
        if parts.scheme != "http" or not parts.hostname or len(segments) < 2:
            raise InputError(
                f"{TEST_CLOCK_ENV}={url!r} is not a clock endpoint "
                "(http://HOST:PORT/leases/ID); unset it outside the simulator"
            )
        self._host = parts.hostname
        self._port = parts.port or 80
        self._path = parts.path.rstrip("/")
        self._participant = segments[-1]
        self._wids = itertools.count(1)
        self._prefix = f"{os.getpid()}-{id(self):x}"
        # Once the endpoint answered, its going away means the simulated world stopped: the
        # process winds down on the machine's clock instead of failing in every thread.
        self._reached = False
        self._gone_at: tuple[float, float] | None = None
        self._last_now = 0.0
        # The endpoint's clock face (a file with the cluster time), once it named one.
        self._face: int | None = None
        # One kept-alive connection per thread (a sleep holds its thread's connection).
        self._local = threading.local()

    @property
    def participant(self) -> str | None:
        """The lease id the endpoint knows this process by."""
        return self._participant

    def call(self, method: str, verb: str, **query: Any) -> dict[str, Any]:
        """One call to the endpoint (a sleep blocks until it ends)."""
        if self._gone_at is not None:
            return self._after_the_world(verb, query)
        target = f"{self._path}/{verb}"
        if query:
            target += "?" + urlencode({k: v for k, v in query.items() if v is not None})
        status, body = self._request(method, target)
        if status != 200:
            if not self._reached:
                raise InputError(
                    f"{TEST_CLOCK_ENV} names {self._host}:{self._port}{self._path}, which "
                    f"answered {verb} with {status or 'no connection'}: {body[:200]!r}"
                )
            self._gone_at = (self._last_now, time.monotonic())
            return self._after_the_world(verb, query)
        self._reached = True
        answer: dict[str, Any] = json.loads(body)
        self._last_now = max(self._last_now, float(answer.get("now", 0.0)))
        if self._face is None and isinstance(answer.get("face"), str):
            self._open_face(answer["face"])
        return answer

    def _request(self, method: str, target: str) -> tuple[int, bytes]:
        """One request on this thread's kept-alive connection (status 0: no connection).

        A process makes hundreds of these calls; a connection (and a server thread) per call
        cost more than the calls. A kept connection the endpoint has closed since fails before
        anything was read: that one is retried once on a fresh connection.
        """
        for attempt in (1, 2):
            kept: _KeptConnection | None = getattr(self._local, "kept", None)
            reused = kept is not None
            if kept is None:
                kept = self._local.kept = _KeptConnection(self._host, self._port)
            try:
                kept.connection.request(method, target)
                response = kept.connection.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
                self._local.kept = None
                kept.close()
                if not reused or attempt == 2:
                    return 0, str(exc).encode()
            except (OSError, http.client.HTTPException) as exc:
                self._local.kept = None
                kept.close()
                return 0, str(exc).encode()
        return 0, b"unreachable"  # pragma: no cover - the loop always returns

    def _open_face(self, path: str) -> None:
        try:
            self._face = os.open(path, os.O_RDONLY)
        except OSError:
            self._face = -1  # no face to read: every reading is a call

    def _after_the_world(self, verb: str, query: dict[str, Any]) -> dict[str, Any]:
        assert self._gone_at is not None
        if verb == "sleep":
            time.sleep(min(float(query.get("seconds", 0.0)), 1.0))
        last, wall = self._gone_at
        return {"now": last + time.monotonic() - wall, "woke": "gone"}

    def new_wid(self) -> str:
        """A sleep id unique to this process."""
        return f"{self._prefix}-{next(self._wids)}"

    def monotonic(self) -> float:
        """The cluster's clock, in epoch seconds (it only moves forward)."""
        if self._face is not None and self._face >= 0 and self._gone_at is None:
            try:
                (now,) = struct.unpack("<d", os.pread(self._face, 8, 0))
                return float(now)
            except (OSError, struct.error):
                pass  # gone with its world: ask, and learn that it is gone
        return float(self.call("GET", "now")["now"])

    def sleep(self, seconds: float) -> None:
        """Wait until cluster time now+seconds."""
        self.call("POST", "sleep", seconds=max(0.0, seconds), wid=self.new_wid())

    def hold(self, count: int = 1) -> None:
        """Tell the endpoint `count` more threads work (one call for a batch of threads)."""
        self.call("POST", "hold", count=count if count != 1 else None)

    def release(self) -> None:
        """Tell the endpoint one thread stopped working."""
        self.call("POST", "release")

    def waiter(self) -> Waiter:
        """An endpoint sleep that another thread can cancel."""
        return _RemoteWaiter(self)


class _KeptConnection:
    """A thread's connection to the endpoint, closed when the thread (or the clock) is gone."""

    def __init__(self, host: str, port: int) -> None:
        self.connection = http.client.HTTPConnection(host, port, timeout=None)

    def close(self) -> None:
        self.connection.close()

    def __del__(self) -> None:
        # A thread's locals go when the thread ends: close the socket, do not leak it.
        self.connection.close()


class _RemoteWaiter:
    def __init__(self, clock: TestClock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._current: str | None = None
        self._fired = False

    def wait(self, seconds: float, *, acked: int | None = None, lazy: bool = False) -> bool:
        with self._lock:
            if self._fired:
                self._fired = False
                return False
            wid = self._current = self._clock.new_wid()
        try:
            answer = self._clock.call(
                "POST",
                "sleep",
                seconds=max(0.0, seconds),
                wid=wid,
                acked=acked,
                lazy=1 if lazy else None,
            )
        finally:
            with self._lock:
                self._current = None
                self._fired = False
        # "gone": the world stopped and the wait ran on the machine's clock.
        return answer.get("woke") in ("time", "gone")

    def interrupt(self) -> None:
        with self._lock:
            wid = self._current
            self._fired = True  # absorbed by the wait in progress, else ends the next one
            if wid is None:
                return
            self._current = None  # one cancel per wait is enough
        # The endpoint ends the sleep (or refuses it on arrival) and counts the thread as working.
        self._clock.call("POST", "cancel", wid=wid)


def clock_from_env(environ: Mapping[str, str] | None = None) -> Clock:
    """The test clock when `APPLIANCE_TEST_CLOCK` is set, else the machine's."""
    url = (os.environ if environ is None else environ).get(TEST_CLOCK_ENV, "").strip()
    return TestClock(url) if url else SystemClock()


def participant_from_env(environ: Mapping[str, str] | None = None) -> str | None:
    """The lease id of the test clock, if the switch is set (for the API request header)."""
    url = (os.environ if environ is None else environ).get(TEST_CLOCK_ENV, "").strip()
    segments = [s for s in urlsplit(url).path.split("/") if s]
    return segments[-1] if url and segments else None
