"""The waits around a watch cache: its threads' pauses and its callers' waits for a change.

Every wait goes through one `Clock` (appliance/clocking.py) and can be interrupted: a caller's
wait by a change in the cache or by stop(), the cache's own pauses (a heartbeat, a retry) by
stop() only. A change must not end a pause: each thread's change would end the others' pauses,
and three resources missing at once (the Flux kinds before Flux is installed) then retried each
other in a loop, hundreds of requests a second. With the test clock, a caller's wait also tells
the clock which watch lines it has acted on (`Mark.lines`), and the cache's own pauses are lazy:
a heartbeat or a retry never asks a simulated cluster to move its time.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import NamedTuple

from appliance.clocking import Clock, Waiter

__all__ = ["Mark", "Waits"]


class Mark(NamedTuple):
    """Where a watch cache stood: its generation and how many watch lines it had applied."""

    generation: int
    lines: int


class Waits:
    """Every wait in progress on one cache, so that a change or stop() can end them."""

    def __init__(self, clock: Clock, stopping: threading.Event) -> None:
        self._clock = clock
        self._stopping = stopping
        self._lock = threading.Lock()
        self._waiters: set[Waiter] = set()  # callers' waits: a change ends them
        self._pauses: set[Waiter] = set()  # the cache's own: only stop() ends them

    def until_moved(self, moved: Callable[[], bool], seconds: float, *, acked: int) -> None:
        """Wait until `moved()` (checked first, then on every `notify()`) or `seconds` pass."""
        self._wait(moved, seconds, acked=acked, lazy=False)

    def until_settled(self, moved: Callable[[], bool], *, acked: int) -> bool:
        """A wait of no time: True once every other participant of a test clock waits too
        (at once on the machine's clock); False when `moved()`, a notify or stop() came first."""
        return self._wait(moved, 0.0, acked=acked, lazy=False)

    def pause(self, seconds: float) -> None:
        """A routine pause of the cache's own (heartbeat, retry); stop() ends it early."""
        self._wait(lambda: False, seconds, acked=None, lazy=True)

    def _wait(
        self, moved: Callable[[], bool], seconds: float, *, acked: int | None, lazy: bool
    ) -> bool:
        """True when the wait ran its time; False when it ended early or never began."""
        waiter = self._clock.waiter()
        group = self._pauses if lazy else self._waiters
        with self._lock:
            if self._stopping.is_set() or moved():
                return False
            group.add(waiter)
        try:
            return waiter.wait(seconds, acked=acked, lazy=lazy)
        finally:
            with self._lock:
                group.discard(waiter)

    def notify(self) -> None:
        """End every caller's wait in progress (the cache moved, or it stops); once stopping,
        the pauses too."""
        with self._lock:
            waiters = list(self._waiters)
            if self._stopping.is_set():
                waiters.extend(self._pauses)
        for waiter in waiters:
            # A test clock that is gone (its world stopped) must not take the mirror down too.
            with contextlib.suppress(Exception):
                waiter.interrupt()
