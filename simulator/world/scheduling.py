"""The world's scheduler: callbacks at virtual instants on the VirtualClock.

Three ways to drive it. `run_until(t)` jumps the (frozen) clock from one due callback to the
next, which is how scripted replays run "as fast as correctness allows". `start()` runs a thread
that waits in wall time for the next callback at the clock's speed, for worlds that real
processes (the bootstrapper, the status service) talk to. `start_warped(warp)` runs a thread
that jumps the frozen clock like `run_until`, but only when the warp's books say every real
process waits (simulator/warp.py).

Store callbacks never act inside the store: they `call_soon` here, so reactions run on the
scheduler's thread (or inside `run_until`) and never re-enter the store's lock.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from simulator.clock import VirtualClock
from simulator.warp import Warp

__all__ = ["Scheduler"]

_log = logging.getLogger(__name__)


@dataclass(order=True)
class _Entry:
    when: datetime
    seq: int
    callback: Callable[[], None] = field(compare=False)
    label: str = field(compare=False, default="")
    cancelled: bool = field(compare=False, default=False)


class Scheduler:
    """Callbacks ordered by virtual time (ties in the order they were scheduled)."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self._heap: list[_Entry] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._warp: Warp | None = None
        self._warned_at = 0.0
        self.errors: list[BaseException] = []

    def call_at(self, when: datetime, callback: Callable[[], None], *, label: str = "") -> _Entry:
        """Run `callback` at virtual instant `when` (at once when already past)."""
        entry = _Entry(when, next(self._seq), callback, label)
        with self._cond:
            heapq.heappush(self._heap, entry)
            self._cond.notify_all()
        if self._warp is not None:
            self._warp.poke()  # outside our lock: the warp's probes take it
        return entry

    def call_later(
        self, seconds: float, callback: Callable[[], None], *, label: str = ""
    ) -> _Entry:
        """Run `callback` `seconds` of virtual time from now."""
        return self.call_at(self.clock.now() + timedelta(seconds=seconds), callback, label=label)

    def call_soon(self, callback: Callable[[], None], *, label: str = "") -> _Entry:
        """Run `callback` as soon as the scheduler gets to it."""
        return self.call_at(self.clock.now(), callback, label=label)

    def pending(self) -> int:
        """How many callbacks wait."""
        with self._cond:
            return sum(1 for entry in self._heap if not entry.cancelled)

    def next_due(self) -> datetime | None:
        """The instant of the next callback, if any."""
        with self._cond:
            self._drop_cancelled()
            return self._heap[0].when if self._heap else None

    def run_until(self, instant: datetime) -> int:
        """Run every callback due up to `instant`, jumping the clock; returns how many ran."""
        ran = 0
        while True:
            with self._cond:
                self._drop_cancelled()
                if not self._heap or self._heap[0].when > instant:
                    break
                entry = heapq.heappop(self._heap)
            self.clock.advance_to(entry.when)
            self._run(entry)
            ran += 1
        self.clock.advance_to(instant)
        return ran

    def run_due(self) -> int:
        """Run the callbacks already due at the clock's current time."""
        return self.run_until(self.clock.now())

    def start(self) -> None:
        """Run callbacks in a thread as the clock reaches them (the clock must be running)."""
        if self._thread is not None:
            return
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name="world-scheduler", daemon=True)
        self._thread.start()

    def start_warped(self, warp: Warp) -> None:
        """Run callbacks in a thread, jumping the frozen clock whenever `warp` says it is safe."""
        if self._thread is not None:
            return
        self._warp = warp
        warp.add_probe("world callbacks due now", self._due_now)
        self._stopping = False
        self._thread = threading.Thread(target=self._warp_loop, name="world-warp", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread (pending callbacks stay queued)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._warp is not None:
            self._warp.poke()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _loop(self) -> None:
        while True:
            with self._cond:
                if self._stopping:
                    return
                self._drop_cancelled()
                if not self._heap:
                    self._cond.wait(timeout=1.0)
                    continue
                wait = self.clock.wall_seconds_until(self._heap[0].when)
                if wait is None or wait > 0:
                    self._cond.wait(timeout=min(wait if wait is not None else 0.5, 0.5))
                    continue
                entry = heapq.heappop(self._heap)
            # Late (a loaded machine), it still happens at the instant it was due: what it
            # stamps and schedules does not depend on how busy the machine was.
            with self.clock.pinned_at(entry.when):
                self._run(entry)

    def _due_now(self) -> bool:
        with self._cond:
            self._drop_cancelled()
            return bool(self._heap) and self._heap[0].when <= self.clock.now()

    def _warp_loop(self) -> None:
        warp = self._warp
        assert warp is not None
        self._warned_at = 0.0
        while not self._stopping:
            if self.run_due():
                continue
            if warp.has_due_sleepers():
                # This instant's callbacks ran; the world's reactions to them (watch lines acted
                # on, requests answered) come next, and only then do the processes whose time
                # came wake: each sees the world as it is at this instant, on every run.
                if warp.quiescent():
                    warp.wake_due()
                else:
                    self._wait_for_change(warp, stuck=True)
                continue
            target = self._warp_target(warp)
            if target is None or not warp.quiescent():
                self._wait_for_change(warp, stuck=target is not None)
                continue
            self._warned_at = 0.0
            # What observers read now is the world at this instant, before time moves on.
            warp.observe()
            if self._warp_target(warp) != target:
                continue  # an observer ended a wait (or began one): choose again
            warp.jump_if_quiescent(target)

    def _wait_for_change(self, warp: Warp, *, stuck: bool) -> None:
        """Wait for the books to change; say what holds the clock when nothing moves for long."""
        warp.wait_for_change()
        stalled = warp.stalled_for()
        if stuck and stalled > 30.0 and stalled - self._warned_at > 30.0:
            self._warned_at = stalled
            _log.warning(
                "warp: no jump for %.0fs wall; busy: %s",
                stalled,
                "; ".join(warp.busy_reasons()) or "nothing",
            )

    def _warp_target(self, warp: Warp) -> datetime | None:
        """Where the next jump goes: the next callback or driver deadline, within the horizon."""
        if not warp.has_driver():
            return None
        candidates = [t for t in (self.next_due(), warp.next_driver_deadline()) if t is not None]
        if not candidates:
            return None
        target = min(candidates)
        if warp.horizon is not None and target > warp.horizon:
            if self.clock.now() >= warp.horizon:
                return None
            target = warp.horizon
        return target

    def _run(self, entry: _Entry) -> None:
        try:
            entry.callback()
        except Exception as exc:  # a broken reaction must not stop the world; tests read errors
            _log.exception("world callback %s failed", entry.label or entry.callback)
            self.errors.append(exc)

    def _drop_cancelled(self) -> None:
        while self._heap and self._heap[0].cancelled:
            heapq.heappop(self._heap)
