"""Virtual time for the simulated world.

Every simulated component (the fake API's `Date` header and object timestamps, the scenario
scheduler, the registry and Talos models) reads this one clock, so a compressed replay stays
truthful to the production code that measures elapsed time against the cluster's clock.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

__all__ = ["VirtualClock", "rfc3339"]


def rfc3339(instant: datetime, *, micro: bool = False) -> str:
    """A Kubernetes timestamp in UTC (`2026-06-20T14:00:00Z`; MicroTime with micro=True)."""
    t = instant if instant.tzinfo is UTC else instant.astimezone(UTC)  # the clock's are UTC
    # f-strings: several times faster than strftime on the fake API's create path.
    base = f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
    return f"{base}.{t.microsecond:06d}Z" if micro else f"{base}Z"


class _Pinned(threading.local):
    """The instant a thread is pinned at, None when it is not (see `VirtualClock.pinned_at`).

    A class default rather than a missing attribute: `now()` reads it on every call, and a
    lookup that fails (AttributeError caught by getattr) costs more than the rest of `now()`.
    """

    at: datetime | None = None


class VirtualClock:
    """A clock that runs `speed` times faster than the wall clock and can be advanced by hand.

    `speed=0` freezes it: only `advance()` moves time, which is what unit tests want.
    """

    def __init__(
        self,
        start: datetime,
        *,
        speed: float = 0.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if start.tzinfo is None:
            raise ValueError("VirtualClock start must be timezone-aware")
        if speed < 0:
            raise ValueError(f"VirtualClock speed must be >= 0, got {speed}")
        self._lock = threading.Lock()
        self._monotonic = monotonic
        self._anchor_virtual = start.astimezone(UTC)
        self._anchor_wall = monotonic()
        self._speed = float(speed)
        self._start = self._anchor_virtual
        # A thread running a scheduled callback sees the instant it was due (pinned_at()).
        self._pinned = _Pinned()

    @property
    def start(self) -> datetime:
        """The virtual instant the clock started at (scenario time zero)."""
        return self._start

    @property
    def speed(self) -> float:
        """Virtual seconds per wall second (0 = frozen)."""
        return self._speed

    def now(self) -> datetime:
        """The current virtual instant (UTC); in a pinned thread, the instant it is pinned at."""
        pinned = self._pinned.at
        if pinned is not None:
            return pinned
        with self._lock:
            return self._now_locked()

    @contextlib.contextmanager
    def pinned_at(self, instant: datetime) -> Iterator[None]:
        """In this thread, `now()` is `instant` (never later than the running clock).

        A running clock moves on while a callback that was due at `instant` runs late on a
        loaded machine; what the callback stamps (an Event's time, a pod created in reaction)
        is then the instant it was due, as in a replay with a frozen clock, not whenever the
        machine got to it.
        """
        previous = self._pinned.at
        self._pinned.at = min(instant, self.now())
        try:
            yield
        finally:
            self._pinned.at = previous

    def elapsed(self) -> float:
        """Virtual seconds since the start."""
        return (self.now() - self._start).total_seconds()

    def advance(self, seconds: float) -> datetime:
        """Jump forward by `seconds` of virtual time; returns the new instant."""
        if seconds < 0:
            raise ValueError(f"time only moves forward, got {seconds}")
        with self._lock:
            self._anchor_virtual = self._now_locked() + timedelta(seconds=seconds)
            self._anchor_wall = self._monotonic()
            return self._anchor_virtual

    def advance_to(self, instant: datetime) -> datetime:
        """Jump forward to `instant` (no-op when it is already past)."""
        with self._lock:
            now = self._now_locked()
            if instant > now:
                self._anchor_virtual = instant
                self._anchor_wall = self._monotonic()
            return max(now, instant)

    def set_speed(self, speed: float) -> None:
        """Change the rate without a jump in virtual time."""
        if speed < 0:
            raise ValueError(f"VirtualClock speed must be >= 0, got {speed}")
        with self._lock:
            self._anchor_virtual = self._now_locked()
            self._anchor_wall = self._monotonic()
            self._speed = float(speed)

    def wall_seconds_until(self, instant: datetime) -> float | None:
        """Wall seconds until `instant` arrives at the current speed (None when frozen)."""
        with self._lock:
            remaining = (instant - self._now_locked()).total_seconds()
            if remaining <= 0:
                return 0.0
            if self._speed == 0:
                return None
            return remaining / self._speed

    def _now_locked(self) -> datetime:
        if not self._speed:
            # Frozen (unit tests, benches, a warped world between jumps): the anchor, without
            # reading the wall clock or adding a zero timedelta on every read.
            return self._anchor_virtual
        wall = self._monotonic() - self._anchor_wall
        return self._anchor_virtual + timedelta(seconds=wall * self._speed)
