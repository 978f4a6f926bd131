"""Watching the install through the status engine, one phase per readiness tier.

The same canonical status the status page shows drives the phases from Platform to Background
services, so the bootstrapper and the page never disagree: a phase is ready exactly when its tier
is (tier_table.py). Timeouts are measured on the cluster's clock (status timestamps).

Between two readings the run either sleeps `interval` (polling) or, given `wait`, waits for the
cluster to change (a watch) but no longer than its next deadline: the timeout, the end of a
failure's grace, the next pull report, a login re-probe, or a minute at most (ages move).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from appliance.bootstrap.display import Display
from appliance.canonical import ApplianceStatus, RollupState, Tier
from appliance.errors import BootstrapError
from appliance.operations import pull_text
from appliance.tier_table import TIERS, TierSpec, tier_spec
from appliance.words import blocker_title, human_elapsed

__all__ = ["WatchOutcome", "watch_install"]

# A login-blocking failure must hold this long (cluster seconds) before the run gives up: the
# engine's "will not clear by waiting" is trusted, but one odd snapshot must not end an install.
FAILURE_GRACE_SECONDS = 60.0
# How often (cluster seconds) a running image pull is re-announced with its elapsed time: a
# 16-minute pull reads as four lines, not sixteen.
PULL_REPORT_SECONDS = 300.0
# A duration as words.human_elapsed writes it (45s, 17m55s, 1h05m12s).
_DURATION = re.compile(r"\b\d+(?:h\d{2}m\d{2}s|m\d{2}s|s)\b")
# The longest a watching run goes without a fresh reading: ages and elapsed times move.
REREAD_SECONDS = 60.0


@dataclass(frozen=True)
class WatchOutcome:
    """How the watch ended."""

    status: ApplianceStatus
    login_ready: bool
    background_done: bool


def _tier(status: ApplianceStatus, spec: TierSpec) -> Tier:
    tier: Tier = getattr(status.tiers, spec.name)
    return tier


def _background_settled(status: ApplianceStatus) -> bool:
    """Nothing more to wait for: background is ready, or its issues are named (and need a fix)."""
    return status.tiers.background.ready or status.rollup.state in (
        RollupState.READY_WITH_BACKGROUND_ISSUES,
        RollupState.FULLY_HEALTHY,
    )


@dataclass
class _Phases:
    """The phases still open, and when (seconds into the watch) the current one opened."""

    pending: list[TierSpec]
    opened_at: float = 0.0


def _close(phases: _Phases, status: ApplianceStatus, display: Display, waited: float) -> None:
    """Close every phase whose tier is ready, in order; once login answers, the tiers before it
    that are not fully ready (a platform gap, finding-20) stop holding the install back.

    A phase says how long it took itself; one whose tier was ready by the time it opened says
    `already ready` (core services are up while platform finishes), never `ready after 0s`."""
    while phases.pending:
        spec = phases.pending[0]
        tier = _tier(status, spec)
        if tier.ready and waited > phases.opened_at:
            took = human_elapsed(waited - phases.opened_at)
            display.progress(f"{spec.label} ready after {took}")
        elif tier.ready:
            display.progress(f"{spec.label} already ready")
        elif spec.gates_login and status.tiers.login.ready:
            reason = tier.reasons[0] if tier.reasons else "not ready"
            display.progress(f"{spec.label} not fully ready ({reason}); login works")
        else:
            return
        if spec.name == "login":
            display.progress(f"LOGIN READY: {status.urls.login_url or status.login_probe.url}")
        phases.pending.pop(0)
        phases.opened_at = waited
        if phases.pending:
            display.phase(phases.pending[0].label)


def _background_words(status: ApplianceStatus) -> str:
    """The background phase's last line when its tier is not ready but nothing more will come."""
    label = tier_spec("background").label
    issues = [b for b in status.top_blockers if not b.login_blocking]
    if not issues:
        return f"{label}: {status.rollup.message}"
    count = f"{len(issues)} background issue{'s' if len(issues) > 1 else ''}"
    return f"{label} not ready: {count}, none blocks login (see the summary)"


def _lines(status: ApplianceStatus) -> list[str]:
    lines = [f"rollup: {status.rollup.state.value} - {status.rollup.message}"]
    for blocker in status.top_blockers[:3]:
        where = f"[{blocker.layer}] {blocker.component or '-'}"
        lines.append(f"{blocker_title(blocker).lower()} {where}: {blocker.reason}")
    return lines


def _news(line: str) -> str:
    """What makes a line news: its words, not the elapsed times in it (a pull's `3m12s so far`
    ticks at every reading; the pull lines report its progress)."""
    return _DURATION.sub("<t>", line)


def _pull_lines(status: ApplianceStatus, reported: dict[tuple[str, str], float]) -> list[str]:
    """Active pulls: announced once, then again every PULL_REPORT_SECONDS of their elapsed time.

    When one pull is due, the others that were last reported at least half a period ago come
    along, so pulls that started a few seconds apart share one reading per period, not two.
    """
    since = {
        (op.component, op.image): op.elapsed_seconds - reported[(op.component, op.image)]
        for op in status.active_operations
        if (op.component, op.image) in reported
    }
    any_due = any(elapsed >= PULL_REPORT_SECONDS for elapsed in since.values())
    lines = []
    for op in status.active_operations:
        key = (op.component, op.image)
        if key in since and not (any_due and since[key] >= PULL_REPORT_SECONDS / 2):
            continue
        reported[key] = op.elapsed_seconds
        lines.append(f"{op.component}: {pull_text(op)}")
    return lines


def _failing_since(status: ApplianceStatus, since: datetime | None) -> datetime | None:
    """Since when a login-blocking failure holds (None: none); raises once past the grace."""
    top = next((b for b in status.top_blockers if b.login_blocking), None)
    failing = (
        status.rollup.state is RollupState.FAILED_ACTION_REQUIRED
        and top is not None
        and not top.retryable
    )
    if not failing or top is None:
        return None
    since = since or status.timestamp
    if (status.timestamp - since).total_seconds() >= FAILURE_GRACE_SECONDS:
        raise BootstrapError(
            f"{top.component or 'install'}: {top.reason}",
            layer=top.layer,
            next_action=top.next_action,
        )
    return since


def _awaiting_probe(status: ApplianceStatus) -> bool:
    """Everything before login is ready, login is not: the app's answer is what is missing."""
    return status.tiers.bootstrap.ready and not status.tiers.login.ready


def _next_reading(
    status: ApplianceStatus,
    *,
    start: datetime,
    timeout: float,
    failing_since: datetime | None,
    pulls: dict[tuple[str, str], float],
    interval: float,
    probes: int,
) -> float:
    """Cluster seconds until a reading is due even if the cluster does not change.

    `probes`: readings in a row that found only the login probe missing; the re-probe backs
    off from `interval` to REREAD_SECONDS, so an app that takes an hour is not asked 700 times.
    """
    now = status.timestamp
    due = [REREAD_SECONDS, timeout - (now - start).total_seconds()]
    if failing_since is not None:
        due.append(FAILURE_GRACE_SECONDS - (now - failing_since).total_seconds())
    for op in status.active_operations:
        last = pulls.get((op.component, op.image))
        if last is not None:
            due.append(last + PULL_REPORT_SECONDS - op.elapsed_seconds)
    if _awaiting_probe(status):
        # The app may answer without any object changing: probe it again soon.
        due.append(interval * 2 ** min(probes, 16))
    return max(0.0, min(due))


def watch_install(
    collect: Callable[[], ApplianceStatus],
    *,
    display: Display,
    timeout: float,
    interval: float,
    sleep: Callable[[float], None] = time.sleep,
    wait: Callable[[float], None] | None = None,
) -> WatchOutcome:
    """Read the status, announce phases as they complete, stop at login+background or failure.

    Without `wait` it polls every `interval`; with it, `wait(seconds)` returns when the cluster
    changed or `seconds` passed, and `seconds` is the time to the next deadline.
    """
    phases = _Phases(list(TIERS))
    if display.current_phase != phases.pending[0].label:
        display.phase(phases.pending[0].label)
    shown: set[str] = set()
    pulls: dict[tuple[str, str], float] = {}
    start = None
    failing_since = None
    probes = 0
    while True:
        status = collect()
        if start is None:
            start = status.timestamp
        waited = (status.timestamp - start).total_seconds()
        # Phases first: what the rollup says next belongs to the phase now open.
        _close(phases, status, display, waited)
        for line in _lines(status):
            if _news(line) not in shown:
                shown.add(_news(line))
                display.progress(line)
        for line in _pull_lines(status, pulls):
            display.progress(line)
        if status.tiers.login.ready and _background_settled(status):
            if phases.pending:
                display.progress(_background_words(status))
            return WatchOutcome(status, login_ready=True, background_done=True)
        failing_since = _failing_since(status, failing_since)
        if waited >= timeout:
            if status.tiers.login.ready:
                return WatchOutcome(status, login_ready=True, background_done=False)
            top = status.top_blockers[0] if status.top_blockers else None
            raise BootstrapError(
                f"login not ready after {human_elapsed(waited)} (cluster clock): "
                f"{status.rollup.message}",
                layer=top.layer if top else "install timeout",
                next_action=(
                    top.next_action
                    if top
                    else "open the status UI for details, then rerun with --bootstrap-mode recover"
                ),
            )
        if wait is None:
            sleep(interval)
            continue
        wait(
            _next_reading(
                status,
                start=start,
                timeout=timeout,
                failing_since=failing_since,
                pulls=pulls,
                interval=interval,
                probes=probes,
            )
        )
        probes = probes + 1 if _awaiting_probe(status) else 0
