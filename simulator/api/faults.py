"""Fault injection for the fake API: latency, 5xx, 429 and dropped watches, scriptable at runtime.

A scenario (or a test) adds faults while the server runs; each fault matches requests by a path
regex and optional verbs, and lasts for `count` requests and/or until a virtual instant.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["Fault", "FaultPlan"]


@dataclass
class Fault:
    """One injected misbehaviour. `status` 0 means latency only."""

    path: str = ".*"
    verbs: frozenset[str] | None = None
    status: int = 0
    latency_seconds: float = 0.0
    count: int | None = None
    until: datetime | None = None
    message: str = ""
    retry_after_seconds: int | None = None
    _pattern: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._pattern = re.compile(self.path)

    def matches(self, verb: str, path: str, now: datetime) -> bool:
        """True when this fault applies to a request with `verb` at `path` at virtual `now`."""
        if self.count is not None and self.count <= 0:
            return False
        if self.until is not None and now >= self.until:
            return False
        if self.verbs is not None and verb not in self.verbs:
            return False
        return self._pattern.search(path) is not None


class FaultPlan:
    """The live set of faults; thread-safe, shared by the server and the world engine."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._drop_listeners: list[Callable[[], None]] = []

    @property
    def active(self) -> bool:
        """True when any fault is registered (a lock-free fast path for the server)."""
        return bool(self._faults)

    def add(self, fault: Fault) -> Fault:
        """Activate `fault` (returned so it can be removed later)."""
        with self._lock:
            self._faults.append(fault)
        return fault

    def add_latency(
        self,
        seconds: float,
        *,
        path: str = ".*",
        verbs: set[str] | None = None,
        count: int | None = None,
        until: datetime | None = None,
    ) -> Fault:
        """Delay matching requests by `seconds` of wall time."""
        return self.add(
            Fault(
                path=path,
                verbs=frozenset(verbs) if verbs else None,
                latency_seconds=seconds,
                count=count,
                until=until,
            )
        )

    def add_error(
        self,
        status: int = 503,
        *,
        path: str = ".*",
        verbs: set[str] | None = None,
        count: int | None = None,
        until: datetime | None = None,
        message: str = "",
        retry_after_seconds: int | None = None,
    ) -> Fault:
        """Answer matching requests with `status` (5xx, or 429 for throttling) instead."""
        return self.add(
            Fault(
                path=path,
                verbs=frozenset(verbs) if verbs else None,
                status=status,
                count=count,
                until=until,
                message=message,
                retry_after_seconds=retry_after_seconds,
            )
        )

    def add_throttle(
        self,
        *,
        path: str = ".*",
        verbs: set[str] | None = None,
        count: int | None = None,
        until: datetime | None = None,
        retry_after_seconds: int = 1,
    ) -> Fault:
        """429 Too Many Requests with a Retry-After header, as API priority and fairness does."""
        return self.add_error(
            429,
            path=path,
            verbs=verbs,
            count=count,
            until=until,
            message="Too many requests, please try again later.",
            retry_after_seconds=retry_after_seconds,
        )

    def remove(self, fault: Fault) -> None:
        """Deactivate one fault."""
        with self._lock:
            if fault in self._faults:
                self._faults.remove(fault)

    def clear(self) -> None:
        """Remove every fault."""
        with self._lock:
            self._faults.clear()

    def take(self, verb: str, path: str, now: datetime) -> list[Fault]:
        """The faults that apply to this request, consuming one use of each counted fault."""
        with self._lock:
            hits = [f for f in self._faults if f.matches(verb, path, now)]
            for f in hits:
                if f.count is not None:
                    f.count -= 1
            return hits

    def drop_watches(self) -> None:
        """Close every open watch stream now (clients must re-list or resume)."""
        with self._lock:
            listeners = list(self._drop_listeners)
        for listener in listeners:
            listener()

    def on_drop_watches(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Register the server's hook for `drop_watches`; returns its remover."""
        with self._lock:
            self._drop_listeners.append(listener)

        def remove() -> None:
            with self._lock:
                if listener in self._drop_listeners:
                    self._drop_listeners.remove(listener)

        return remove
