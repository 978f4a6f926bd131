"""The background collector: watch cache -> status engine, on change and on a cadence.

It evaluates whenever the cache reports a change (so a fault reaches `/api/status` within
tens of milliseconds), at least every `interval` seconds (so ages and elapsed pull times move),
and probes the login URL on its own slower cadence in its own thread, so a slow app never holds
back a status. An event storm must not turn into back-to-back evaluations on a 2-core node:
after each evaluation the collector rests as long as that evaluation took (at most
`max_gap_seconds`), so evaluating takes at most half a core however fast changes come, while a
change on a quiet cluster is shown at once (a fixed 0.2 s rest delayed the second half of a
fault, which arrives as several watch lines, by that much). The in-cluster service has no exec
right: users are never counted here.

When the API stops answering after a good reading, the collector keeps the last good status and
marks it stale with the error and its age, instead of replacing it by an "everything unknown"
status: the admin still sees where the install was.

Waits go through a `Clock` (appliance/clocking.py): with the test clock, the collector's sleep
acknowledges the watch lines its last evaluation covered, so a simulated cluster that jumps its
clock waits until every change it sent has been evaluated.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from appliance.canonical import ApplianceStatus, LoginProbe, Release
from appliance.clocking import Clock, SystemClock, Waiter
from appliance.engine import evaluate
from appliance.probing import probe_login
from appliance.snapshot import Snapshot
from status_web.history import History
from status_web.observations import Observation

if TYPE_CHECKING:  # the cache (and the kubernetes client) load only where the service runs
    from appliance.cluster.watching import Mark

__all__ = ["Collector", "SnapshotSource"]

log = logging.getLogger("status_web.collecting")

Evaluate = Callable[..., ApplianceStatus]
Probe = Callable[..., LoginProbe]


class SnapshotSource(Protocol):
    """What the collector reads: the watch cache (or a test double)."""

    @property
    def synced(self) -> bool:
        """True once every kind was listed."""
        ...

    def snapshot(self) -> Snapshot:
        """The cached objects now; never blocks on the API."""
        ...

    def mark(self) -> Mark:
        """Where the cache stands (its generation increases on every change)."""
        ...

    def wait_for_change(self, after: Mark, *, timeout: float) -> Mark:
        """Block until the cache moves past `after`, `timeout` elapses or `wake()` is called."""
        ...

    def settle(self, after: Mark) -> Mark:
        """Once the change after `after` is complete, the mark to read at."""
        ...

    def wake(self) -> None:
        """End the current `wait_for_change`, or the next one when none is waiting (something
        outside the cache changed)."""
        ...

    def with_previous_logs(self, snapshot: Snapshot) -> Snapshot:
        """`snapshot` plus the previous logs of its crashed containers (may call the API)."""
        ...


def _same_substance(before: ApplianceStatus, after: ApplianceStatus) -> bool:
    """Whether two statuses differ at most in their clock readings (`timestamp`, the cluster's
    `server_time`), which move every evaluation: only a change of substance is a new version.

    Model equality on `after` with `before`'s readings (shallow copies), not two JSON dumps:
    the dumps were 8% of the status service's CPU in the README job (a warped install evaluates
    at nearly every jump of the clock).
    """
    if after.timestamp != before.timestamp or after.cluster != before.cluster:
        cluster = after.cluster.model_copy(update={"server_time": before.cluster.server_time})
        after = after.model_copy(update={"timestamp": before.timestamp, "cluster": cluster})
    return after == before


class Collector:
    """Keeps the latest observation current; `latest()` is what the web app reads."""

    def __init__(
        self,
        source: SnapshotSource,
        *,
        site_id: str,
        app_url: str | None = None,
        status_url: str | None = None,
        release: Release | None = None,
        interval: float = 5.0,
        probe_interval: float = 10.0,
        probe_timeout: float = 3.0,
        first_read_grace: float = 10.0,
        wake_seconds: float = 0.5,
        max_gap_seconds: float = 0.2,
        evaluate_fn: Evaluate = evaluate,
        probe_fn: Probe = probe_login,
        monotonic: Callable[[], float] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._source = source
        self._site_id = site_id
        self._app_url = app_url
        self._status_url = status_url
        self._release = release
        self._interval = interval
        self._probe_interval = probe_interval
        self._probe_timeout = probe_timeout
        self._first_read_grace = first_read_grace
        self._wake = wake_seconds
        self._max_gap = max_gap_seconds
        self._evaluate = evaluate_fn
        self._probe_fn = probe_fn
        self._clock = clock or SystemClock()
        self._monotonic = monotonic or self._clock.monotonic
        self._lock = threading.Lock()
        self._observation: Observation | None = None
        self._good: tuple[ApplianceStatus, float] | None = None
        self._probe: LoginProbe | None = None
        self._probe_changed = False
        self._version = 0
        self._history = History()
        self._started_at = self._monotonic()
        self._stopping = threading.Event()
        self._probe_waiter: Waiter = self._clock.waiter()
        self._threads: list[threading.Thread] = []

    # --- what the app reads ------------------------------------------------------------------

    def latest(self) -> Observation | None:
        """The newest observation, its age brought up to now."""
        with self._lock:
            observation = self._observation
            good = self._good
        if observation is None:
            return None
        if good is None:
            return observation
        age = max(0.0, self._monotonic() - good[1])
        return Observation(
            status=observation.status,
            age_seconds=age,
            stale=observation.stale,
            api_error=observation.api_error,
            version=observation.version,
        )

    # --- one step, callable from tests without threads ---------------------------------------

    def collect_once(self) -> Observation | None:
        """Evaluate the cache's snapshot now; None while the first read is still incomplete."""
        snapshot = self._source.snapshot()
        now = self._monotonic()
        if (
            not self._source.synced
            and self._good is None
            and now - self._started_at < self._first_read_grace
        ):
            return None
        with self._lock:
            probe = self._probe
            self._probe_changed = False
        if snapshot.api_error is not None and self._good is not None:
            # Keep the last good status; the pages show it as stale with its age.
            status, _ = self._good
            return self._publish(status, stale=True, api_error=snapshot.api_error)
        if snapshot.api_error is None:
            # Crash explanations (Temporal schema, service links) live only in previous logs.
            snapshot = self._source.with_previous_logs(snapshot)
        try:
            status = self._evaluate(
                snapshot,
                site_id=self._site_id,
                login_probe=probe,
                users_count=None,
                users_count_measurable=False,
                status_url=self._status_url,
                login_url=self._app_url,
                release=self._release,
            )
        except Exception:
            # The engine is meant to be total; if it is not, keep serving what we had.
            log.exception("status engine failed on a snapshot; keeping the previous status")
            return self._observation
        if snapshot.api_error is None:
            self._good = (status, now)
        return self._publish(status, stale=False, api_error=snapshot.api_error)

    def probe_once(self) -> LoginProbe | None:
        """Probe the login URL once (no-op without an app URL); remembers the result."""
        if not self._app_url:
            return None
        try:
            when: datetime = self._source.snapshot().server_time
            result = self._probe_fn(self._app_url, timeout=self._probe_timeout, now=when)
        except Exception as exc:  # a probe must never stop the collector
            result = LoginProbe(url=self._app_url, attempted=True, ok=False, error=str(exc))
        with self._lock:
            before = self._probe
            self._probe = result
            if before is None or before.ok != result.ok or before.status_code != result.status_code:
                self._probe_changed = True
        return result

    def _publish(
        self, status: ApplianceStatus, *, stale: bool, api_error: str | None
    ) -> Observation:
        with self._lock:
            # A fresh status joins the history; a stale one is the last good status, already in.
            status = self._history.apply(status) if stale else self._history.observe(status)
            previous = self._observation
            changed = (
                previous is None
                or previous.stale != stale
                or previous.api_error != api_error
                or not _same_substance(previous.status, status)
            )
            if changed:
                self._version += 1
            good_at = self._good[1] if self._good is not None else self._monotonic()
            observation = Observation(
                status=status,
                age_seconds=max(0.0, self._monotonic() - good_at),
                stale=stale,
                api_error=api_error,
                version=self._version,
            )
            self._observation = observation
        return observation

    # --- threads -----------------------------------------------------------------------------

    def start(self) -> None:
        """Run the evaluation loop and the probe loop in daemon threads."""
        if self._threads:
            return
        self._threads = [
            threading.Thread(target=self._evaluate_loop, name="status-collector", daemon=True),
            threading.Thread(target=self._probe_loop, name="status-login-probe", daemon=True),
        ]
        self._clock.hold(len(self._threads))  # their tokens, taken before they run (clocking.py)
        for thread in self._threads:
            thread.start()

    def stop(self, *, timeout: float = 5.0) -> None:
        """Stop both loops."""
        self._stopping.set()
        for wake in (self._source.wake, self._probe_waiter.interrupt):
            try:
                wake()
            except Exception:  # a test clock gone with its world must not block the stop
                log.debug("waking a loop to stop it failed", exc_info=True)
        for thread in self._threads:
            thread.join(timeout)

    def _evaluate_loop(self) -> None:
        try:
            self._evaluate_rounds()
        finally:
            self._give_back_token()

    def _evaluate_rounds(self) -> None:
        seen: Mark | None = None
        last_run = float("-inf")
        while not self._stopping.is_set():
            if seen is None:
                current = self._source.mark()
            else:
                due_in = last_run + self._interval - self._monotonic()
                current = self._source.wait_for_change(
                    seen, timeout=max(0.0, min(self._wake, due_in))
                )
            if self._stopping.is_set():
                return
            with self._lock:
                probe_changed = self._probe_changed
            due = self._monotonic() - last_run >= self._interval
            quiet = seen is not None and current.generation == seen.generation
            if quiet and not probe_changed and not due:
                # Only lines that change nothing (bookmarks) arrived: acknowledge them.
                seen = current
                continue
            # A change settles first: one evaluation covers all of it (a no-op on the
            # machine's clock; on a test clock, until every other process waits too).
            current = self._source.settle(current)
            # Read before the snapshot: this evaluation covers at least what the mark says.
            covered = self._source.mark()
            began = self._monotonic()
            try:
                self.collect_once()
            except Exception:  # the loop must outlive any one bad snapshot
                log.exception("collecting a status failed; retrying")
            seen = covered
            last_run = self._monotonic()
            if self._clock.participant is None:
                # Rest as long as the evaluation took: at most half a core in a storm (module
                # doc). A test clock's cluster holds still until this evaluation is done.
                self._stopping.wait(min(self._max_gap, last_run - began))

    def _probe_loop(self) -> None:
        try:
            while not self._stopping.is_set():
                self.probe_once()
                with self._lock:
                    changed = self._probe_changed
                if changed:
                    self._source.wake()  # the collector re-evaluates with the new answer
                self._probe_waiter.wait(self._probe_interval)
        finally:
            self._give_back_token()

    def _give_back_token(self) -> None:
        try:
            self._clock.release()
        except Exception:  # the test clock may be gone with its world
            log.debug("releasing the clock token failed", exc_info=True)
