"""The waits around a watch cache: its threads' pauses and its callers' waits for a change.

Every wait goes through one `Clock` (appliance/clocking.py) and can be interrupted: a caller's
wait and the heartbeat's pause by a change in the cache or by stop(), a retry's pause by stop()
only. A change must not end a retry: each thread's change would end the others' retries, and
three resources missing at once (the Flux kinds before Flux is installed) then retried each other
in a loop, about 1,400 requests a second. A change does end the heartbeat's pause: the cluster's
time is read again right after each change, so the time a status carries (from a `Date` header,
in whole seconds) comes from a reading at that change on every run, not from whichever reading
came last. With the test clock, a caller's wait also tells
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
        self._waiters: set[Waiter] = set()  # callers' waits and the heartbeat: a change ends them
        self._retries: set[Waiter] = set()  # only stop() ends them

    def until_moved(self, moved: Callable[[], bool], seconds: float, *, acked: int) -> None:
        """Wait until `moved()` (checked first, then on every `notify()`) or `seconds` pass."""
        self._wait(moved, seconds, acked=acked, lazy=False)

    def until_settled(self, moved: Callable[[], bool], *, acked: int) -> bool:
        """A wait of no time: True once every other participant of a test clock waits too
        (at once on the machine's clock); False when `moved()`, a notify or stop() came first."""
        return self._wait(moved, 0.0, acked=acked, lazy=False)

    def heartbeat(self, seconds: float) -> None:
        """The heartbeat's pause: a change or stop() ends it early."""
        self._wait(lambda: False, seconds, acked=None, lazy=True)

    def retry(self, seconds: float) -> None:
        """A pause before a thread asks again: only stop() ends it early."""
        self._wait(lambda: False, seconds, acked=None, lazy=True, group=self._retries)

    def _wait(
        self,
        moved: Callable[[], bool],
        seconds: float,
        *,
        acked: int | None,
        lazy: bool,
        group: set[Waiter] | None = None,
    ) -> bool:
        """True when the wait ran its time; False when it ended early or never began."""
        waiter = self._clock.waiter()
        group = self._waiters if group is None else group
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
        """End every wait in progress but the retries (the cache moved), or every one
        (it stops)."""
        with self._lock:
            waiters = list(self._waiters)
            if self._stopping.is_set():
                waiters.extend(self._retries)
        for waiter in waiters:
            # A test clock that is gone (its world stopped) must not take the mirror down too.
            with contextlib.suppress(Exception):
                waiter.interrupt()
