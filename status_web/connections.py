"""Bounding slow and numerous clients below the application (slowloris).

Uvicorn times out idle keep-alive connections but not a request that arrives slowly: a client
that sends one header byte every few seconds holds a connection forever, and 500 of them hold 500.
`guarded_protocol` wraps uvicorn's HTTP protocol class so that
- a request (its line, headers and body) must arrive within `request_seconds` of its first byte,
  or the connection is closed;
- one client address holds at most `per_address` open connections, and the server at most
  `total` (a new connection past either bound is closed at once), so a flood from one address
  cannot take the slots that `/healthz` and the admin need.
- a request's line and headers hold at most `HEAD_LIMIT` bytes and `HEAD_LINES` lines, or it is
  answered 431 and closed: httptools buffers a header of any size, so one 100 MB header from
  anyone on the network would take 100 MB of the service's 256 MiB;
- the protocol's own refusals (a malformed request: 400; too big a head: 431) carry the
  security headers every response of the app carries.
A response being streamed (the event stream) is not a slow request: its request is complete.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from status_web.access import SECURITY_HEADERS

__all__ = ["HEAD_LIMIT", "HEAD_LINES", "ConnectionGuard", "guarded_protocol"]

log = logging.getLogger("status_web")

_LOG_EVERY_SECONDS = 60.0
# A browser's request head is 1-4 KiB; nginx's default bound is 8 KiB per line, 32 KiB in all.
HEAD_LIMIT = 64 * 1024
HEAD_LINES = 200
_LOGGED_ADDRESSES = 1024


@dataclass
class ConnectionGuard:
    """Counts open connections per client address; shared by every connection of one server."""

    request_seconds: float = 10.0
    per_address: int = 32
    total: int = 1024
    _open: Counter[str] = field(default_factory=Counter, init=False, repr=False)
    _logged: dict[str, float] = field(default_factory=dict, init=False, repr=False)
    _log_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def admit(self, address: str) -> bool:
        """Count a new connection from `address`; False (and not counted) when over a bound."""
        with self._lock:
            if self._open[address] >= self.per_address or self._open.total() >= self.total:
                self.note(
                    address,
                    f"refusing connections from {address}: {self.per_address} already open "
                    f"from that address, or {self.total} in all",
                )
                return False
            self._open[address] += 1
            return True

    def note(self, address: str, message: str) -> None:
        """Log `message` about `address`, at most once a minute per address: a flood of
        connections must not become a flood of log lines."""
        now = time.monotonic()
        with self._log_lock:
            if now - self._logged.get(address, -math.inf) < _LOG_EVERY_SECONDS:
                return
            if len(self._logged) >= _LOGGED_ADDRESSES:
                self._logged.clear()
            self._logged[address] = now
        log.warning("%s (said once a minute per address)", message)

    def release(self, address: str) -> None:
        """Forget one connection from `address`."""
        with self._lock:
            self._open[address] -= 1
            if self._open[address] <= 0:
                del self._open[address]

    def open_connections(self, address: str | None = None) -> int:
        """Connections now open from `address`, or in all."""
        with self._lock:
            return self._open.total() if address is None else self._open[address]


def guarded_protocol(base: type[asyncio.Protocol], guard: ConnectionGuard) -> type[Any]:
    """`base` (a uvicorn HTTP protocol class) with `guard`'s bounds applied."""

    class Guarded(base):  # type: ignore[valid-type,misc]
        _guard = guard

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self._head_bytes = self._head_lines = 0
            peer = transport.get_extra_info("peername")
            self._guard_address: str | None = str(peer[0]) if peer else "unknown"
            self._request_timer: asyncio.TimerHandle | None = None
            self._cycle_at_start: Any = None
            super().connection_made(transport)
            if not self._guard.admit(self._guard_address):
                self._guard_address = None  # not counted, so not released
                transport.close()
                return
            self._start_request_timer()

        def data_received(self, data: bytes) -> None:
            cycle = getattr(self, "cycle", None)
            if self._request_timer is None and (cycle is None or cycle.response_complete):
                self._start_request_timer()  # the first bytes of a new request on this connection
                self._head_bytes = self._head_lines = 0
            if cycle is self._cycle_at_start:  # the head is not parsed yet: count it
                end = data.find(b"\r\n\r\n")
                head = data if end < 0 else data[: end + 4]  # not the body after it
                self._head_bytes += len(head)
                self._head_lines += head.count(b"\n")
                if self._head_bytes > HEAD_LIMIT or self._head_lines > HEAD_LINES:
                    self._refuse(431, b"Request Header Fields Too Large", "request head too large")
                    return
            super().data_received(data)
            self._check_request_complete()

        def send_400_response(self, msg: str) -> None:
            """Uvicorn's answer to a request it cannot parse, with the app's headers."""
            self._refuse(400, b"Bad Request", msg)

        def _refuse(self, status: int, reason: bytes, message: str) -> None:
            transport = getattr(self, "transport", None)
            if transport is None or transport.is_closing():
                return
            body = message.encode("ascii", "replace")
            head = [
                b"HTTP/1.1 %d %s" % (status, reason),
                b"content-type: text/plain; charset=utf-8",
                b"content-length: %d" % len(body),
                b"connection: close",
                *(f"{name}: {value}".encode() for name, value in SECURITY_HEADERS.items()),
            ]
            transport.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
            transport.close()

        def connection_lost(self, exc: Exception | None) -> None:
            self._stop_request_timer()
            if self._guard_address is not None:
                self._guard.release(self._guard_address)
                self._guard_address = None
            super().connection_lost(exc)

        # -- the per-request deadline -------------------------------------------------------
        def _start_request_timer(self) -> None:
            self._cycle_at_start = getattr(self, "cycle", None)
            loop = asyncio.get_running_loop()
            self._request_timer = loop.call_later(
                self._guard.request_seconds, self._request_too_slow
            )

        def _stop_request_timer(self) -> None:
            if self._request_timer is not None:
                self._request_timer.cancel()
                self._request_timer = None

        def _check_request_complete(self) -> None:
            cycle = getattr(self, "cycle", None)
            if self._request_timer is None or cycle is None or cycle is self._cycle_at_start:
                return
            if not cycle.more_body:  # line, headers and body are in: the app has it all
                self._stop_request_timer()

        def _request_too_slow(self) -> None:
            self._request_timer = None
            transport = getattr(self, "transport", None)
            if transport is not None and not transport.is_closing():
                address = self._guard_address or "unknown"
                self._guard.note(
                    address,
                    f"closing slow connections from {address}: a request did not arrive "
                    f"within {self._guard.request_seconds:g}s",
                )
                transport.close()

    Guarded.__name__ = Guarded.__qualname__ = f"Guarded{base.__name__}"
    return Guarded
