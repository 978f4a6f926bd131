"""Time warp: a served world's clock jumps ahead whenever every participant waits.

A world that real processes talk to cannot jump its clock blindly: a process may be half-way
through reacting to the last change, and a jump would make it see the next one too early. Warp
keeps the books that make a jump safe, and the scheduler (world/scheduling.py) jumps only when
they balance:

- **Leases.** One per participant: a real process we start (a bootstrapper run, a pod's
  process) or an in-process one (the status poller, the process runner, a test). A lease counts
  the tokens its threads *hold* while they work. A spawned process starts holding one; it says it
  waits through the clock endpoint (neighbours/clock_endpoint.py), the test switch the product
  ships as `APPLIANCE_TEST_CLOCK`: `sleep` (wake me at cluster time t+n), `hold`, `release`.
- **Watch delivery.** Lines the fake API wrote to a lease's watch streams (`written`) against
  the lines the lease says it has acted on (`acked`, sent with its sleeps). A stream the server
  ended is owed a new watch request from the same lease before the lease counts as waiting.
- **Probes.** Parts that know they are busy without a lease say so through a callable: the fake
  API (requests in flight, watches behind the store), the scheduler (callbacks due now).

The world is quiescent when no lease holds a token or owes an ack or a watch, and no probe is
busy. Then the clock jumps to the next due callback or the earliest *driver* deadline; the
world's callbacks due then run, the world settles again (their watch lines acted on), and only
then do the sleepers whose deadline came wake, so each sees the same world on every run. A driver
is a participant that wants time to pass (a bootstrapper run, a test waiting for a state); the
others (the status service) are *followers*: their sleeps end when a jump passes their deadline,
but never cause one, so a status service re-evaluating every 5 s does not turn an hour into 720
jumps. A driver's *lazy* sleeps (a heartbeat) behave the same way. With no driver at all the
clock stands still.
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from simulator.clock import VirtualClock

__all__ = ["Lease", "Warp"]

# Wall seconds the scheduler waits for the books to change before looking again; a safety net,
# every change also notifies.
_RECHECK_SECONDS = 0.05


@dataclass(eq=False)
class _Sleeper:
    """One thread's `sleep` on a lease: released until `deadline` or a cancel."""

    lease: Lease
    wid: str
    deadline: datetime
    # A lazy sleep ("every n seconds of whatever time passes", a heartbeat) never causes a jump.
    lazy: bool = False
    woken: threading.Event = field(default_factory=threading.Event)
    reason: str = ""


@dataclass(eq=False)
class Lease:
    """One participant's books (see the module docstring)."""

    id: str
    name: str
    driver: bool
    held: int = 1
    written: int = 0
    acked: int | None = None
    owed_watches: Counter[str] = field(default_factory=Counter)
    sleepers: dict[str, _Sleeper] = field(default_factory=dict)
    cancelled: set[str] = field(default_factory=set)
    closed: bool = False

    def busy_reason(self) -> str:
        """Why this lease keeps the clock still ('' when it waits)."""
        if self.held > 0:
            return f"{self.name}: {self.held} thread(s) working"
        if self.acked is not None and self.acked != self.written:
            return f"{self.name}: acted on {self.acked} of {self.written} watch lines"
        if self.owed_watches:
            return f"{self.name}: owes a watch on {', '.join(sorted(self.owed_watches))}"
        return ""


class Warp:
    """The books of one warped world; thread-safe, every change notifies `changed`."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.changed = threading.Condition()
        self._leases: dict[str, Lease] = {}
        self._probes: dict[str, Callable[[], bool]] = {}
        self._ids = itertools.count(1)
        self.jumps = 0
        # Only leases named through the clock endpoint are reachable by id; the ids are secret
        # enough that a process cannot guess another's.
        self._prefix = secrets.token_hex(4)
        self._last_progress = time.monotonic()
        self._observers: list[Callable[[], None]] = []
        self._jump_hooks: list[Callable[[datetime], None]] = []
        # No jump goes past the horizon (a run's time limit); None: no limit.
        self.horizon: datetime | None = None

    # -- leases ---------------------------------------------------------------------------------

    def lease(self, name: str, *, driver: bool, held: int = 1) -> Lease:
        """A new participant holding `held` tokens."""
        with self.changed:
            lease = Lease(f"{self._prefix}-{next(self._ids)}", name, driver, held=held)
            self._leases[lease.id] = lease
            self.changed.notify_all()
            return lease

    def find(self, lease_id: str) -> Lease | None:
        """The open lease with this id."""
        with self.changed:
            return self._leases.get(lease_id)

    def close(self, lease: Lease) -> None:
        """The participant is gone (its process exited): wake its sleepers, forget its books."""
        with self.changed:
            lease.closed = True
            self._leases.pop(lease.id, None)
            for sleeper in list(lease.sleepers.values()):
                self._wake_locked(sleeper, "closed")
            self.changed.notify_all()

    def hold(self, lease: Lease, count: int = 1) -> None:
        """`count` more threads of the participant work."""
        with self.changed:
            lease.held += max(0, count)
            self.changed.notify_all()

    def release(self, lease: Lease) -> None:
        """One thread of the participant stopped working (it waits on something we track)."""
        with self.changed:
            lease.held = max(0, lease.held - 1)
            self.changed.notify_all()

    def sleep(
        self,
        lease: Lease,
        seconds: float,
        *,
        wid: str = "",
        acked: int | None = None,
        lazy: bool = False,
        wall_timeout: float | None = None,
    ) -> str:
        """Release a token until `seconds` of cluster time passed (or a cancel); hold it again.

        A `lazy` sleep ends when other events move the clock past its deadline, never by itself.
        A sleep of no time ends when the world has settled (every other participant waits).

        Returns why it woke: "time", "cancel" or "closed" (or "timeout" after `wall_timeout`
        wall seconds, for in-process callers that must not hang).
        """
        with self.changed:
            if lease.closed:
                return "closed"
            if acked is not None:
                lease.acked = acked
            if wid and wid in lease.cancelled:
                lease.cancelled.discard(wid)
                self.changed.notify_all()
                return "cancel"
            sleeper = _Sleeper(
                lease,
                wid or f"local-{next(self._ids)}",
                self.clock.now() + timedelta(seconds=max(0.0, seconds)),
                lazy=lazy,
            )
            lease.sleepers[sleeper.wid] = sleeper
            lease.held = max(0, lease.held - 1)
            # A sleep of no time is due at once, and like every due sleeper it wakes once the
            # world has settled: "wake me when everyone else waits" (a settle point).
            self.changed.notify_all()
        if not sleeper.woken.wait(wall_timeout):
            with self.changed:
                if not sleeper.woken.is_set():
                    self._wake_locked(sleeper, "timeout")
        return sleeper.reason

    def cancel(self, lease: Lease, wid: str) -> None:
        """End the sleep `wid` early (it may not have arrived yet: then it ends on arrival)."""
        with self.changed:
            sleeper = lease.sleepers.get(wid)
            if sleeper is None:
                lease.cancelled.add(wid)
            else:
                self._wake_locked(sleeper, "cancel")
            self.changed.notify_all()

    def _wake_locked(self, sleeper: _Sleeper, reason: str) -> None:
        if sleeper.woken.is_set():
            return
        lease = sleeper.lease
        lease.sleepers.pop(sleeper.wid, None)
        if not lease.closed:
            lease.held += 1
        sleeper.reason = reason
        sleeper.woken.set()

    # -- what the fake API reports about watch streams ------------------------------------------

    def watch_written(self, lease_id: str, lines: int) -> None:
        """The fake API is about to write `lines` watch lines to a stream of `lease_id`."""
        with self.changed:
            lease = self._leases.get(lease_id)
            if lease is not None:
                lease.written += lines
                self.changed.notify_all()

    def watch_ended(self, lease_id: str, path: str) -> None:
        """The server ended a stream of `lease_id` on `path`: the lease owes a new watch."""
        with self.changed:
            lease = self._leases.get(lease_id)
            if lease is not None:
                lease.owed_watches[path] += 1
                self.changed.notify_all()

    def watch_requested(self, lease_id: str, path: str) -> None:
        """`lease_id` asked to watch `path` again (whatever the answer)."""
        with self.changed:
            lease = self._leases.get(lease_id)
            if lease is not None and lease.owed_watches[path] > 0:
                lease.owed_watches[path] -= 1
                if lease.owed_watches[path] == 0:
                    del lease.owed_watches[path]
                self.changed.notify_all()

    # -- probes ---------------------------------------------------------------------------------

    def add_probe(self, name: str, busy: Callable[[], bool]) -> Callable[[], None]:
        """Consult `busy()` before every jump; returns a remover."""
        with self.changed:
            self._probes[name] = busy

        def remove() -> None:
            with self.changed:
                self._probes.pop(name, None)

        return remove

    def poke(self) -> None:
        """Something a probe reports may have changed: look again."""
        with self.changed:
            self.changed.notify_all()

    # -- the jump -------------------------------------------------------------------------------

    def busy_reasons(self) -> list[str]:
        """Everything that keeps the clock still now (empty when the world is quiescent)."""
        with self.changed:
            reasons = [r for lease in self._leases.values() if (r := lease.busy_reason())]
            probes = list(self._probes.items())
        reasons += [name for name, busy in probes if busy()]
        return reasons

    def quiescent(self) -> bool:
        """No participant works, every watch line is acted on, no probe is busy."""
        return not self.busy_reasons()

    def has_driver(self) -> bool:
        """Whether some participant wants time to pass."""
        with self.changed:
            return any(lease.driver for lease in self._leases.values())

    def next_driver_deadline(self) -> datetime | None:
        """The earliest instant a driver sleeps until (lazy sleeps aside)."""
        with self.changed:
            deadlines = [
                sleeper.deadline
                for lease in self._leases.values()
                if lease.driver
                for sleeper in lease.sleepers.values()
                if not sleeper.lazy
            ]
        return min(deadlines, default=None)

    def add_observer(self, observe: Callable[[], None]) -> Callable[[], None]:
        """Call `observe()` at every quiescent point, before the jump; returns a remover.

        What an observer reads then (the status service's answer, say) is what the world shows
        at that virtual instant, the same on every run.
        """
        with self.changed:
            self._observers.append(observe)

        def remove() -> None:
            with self.changed:
                if observe in self._observers:
                    self._observers.remove(observe)

        return remove

    def on_jump(self, hook: Callable[[datetime], None]) -> None:
        """Call `hook(now)` after every jump, before any sleeper wakes (under the books' lock)."""
        with self.changed:
            self._jump_hooks.append(hook)

    def observe(self) -> None:
        """Run the observers (the world is quiescent)."""
        with self.changed:
            observers = list(self._observers)
        for observe in observers:
            observe()

    def jump_if_quiescent(self, instant: datetime) -> bool:
        """Jump to `instant` if the world is still quiescent, atomically with the last check.

        The sleepers it reaches are not woken here: the caller runs the world's callbacks due
        at `instant` first, then `wake_due()`, so a process waking at `instant` sees the world
        as it is at `instant` (the app that became ready then, say), on every run.
        """
        with self.changed:
            if any(lease.busy_reason() for lease in self._leases.values()):
                return False
            if any(busy() for busy in self._probes.values()):
                return False
            if self._has_due_sleepers_locked():
                # A sleep due now (a settle point: "wake me when everyone else waits") that
                # arrived after the caller looked: it wakes at this instant, not after the jump.
                # On a loaded machine it came late in the gate's runs, and the status service's
                # evaluation then landed 18 virtual seconds later than on a quiet one.
                return False
            self._jump_locked(instant)
            return True

    def jump_to(self, instant: datetime) -> None:
        """Move the clock to `instant` and wake every sleeper whose deadline it reached."""
        with self.changed:
            self._jump_locked(instant)
            self._wake_due_locked()

    def _jump_locked(self, instant: datetime) -> None:
        self.clock.advance_to(instant)
        now = self.clock.now()
        for hook in self._jump_hooks:
            hook(now)
        self.jumps += 1
        self._last_progress = time.monotonic()
        self.changed.notify_all()

    def has_due_sleepers(self) -> bool:
        """Whether a sleeper's deadline has come (a jump reached it) and it still sleeps."""
        with self.changed:
            return self._has_due_sleepers_locked()

    def _has_due_sleepers_locked(self) -> bool:
        now = self.clock.now()
        return any(
            sleeper.deadline <= now
            for lease in self._leases.values()
            for sleeper in lease.sleepers.values()
        )

    def wake_due(self) -> bool:
        """Wake sleepers whose deadline already passed (a jump reached it, a zero sleep)."""
        with self.changed:
            return self._wake_due_locked()

    def _wake_due_locked(self) -> bool:
        now = self.clock.now()
        woke = False
        for lease in list(self._leases.values()):
            for sleeper in list(lease.sleepers.values()):
                if sleeper.deadline <= now:
                    self._wake_locked(sleeper, "time")
                    woke = True
        if woke:
            self.changed.notify_all()
        return woke

    def wait_for_change(self, timeout: float = _RECHECK_SECONDS) -> None:
        """Block until the books change (or `timeout` wall seconds)."""
        with self.changed:
            self.changed.wait(timeout)

    def stalled_for(self) -> float:
        """Wall seconds since the last jump (for a diagnosis when nothing moves)."""
        return time.monotonic() - self._last_progress
