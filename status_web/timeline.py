"""The install as a picture: each tier's start and ready time on one axis, the rollup as a strip,
and the current moment at the right edge.

Everything comes from the status the service serves (`history`, `tiers.*.since`,
`install_started`, `timestamp`), on the cluster's clock. A tier starts when the one before it is
ready (the install order of tier_table.py); a tier already ready when the service first looked is
drawn ready "by" that moment, since the service cannot know better.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from appliance.canonical import ApplianceStatus, RollupState, Tier
from appliance.tier_table import TIERS
from appliance.words import STATE_WORDS, human_elapsed

__all__ = ["Bar", "Segment", "Tick", "TierMode", "Timeline", "build_timeline", "tier_modes"]

# How an unready tier reads: the one the install is on (active, or failed when action is
# required), one with background issues, or one waiting its turn.
TierMode = str
_MIN_SPAN_SECONDS = 60.0


@dataclass(frozen=True)
class Bar:
    """One tier's row: where its bar sits (percent of the axis) and what it says."""

    name: str
    label: str
    mode: TierMode
    left: float
    width: float
    text: str
    summary: str


@dataclass(frozen=True)
class Segment:
    """A stretch of the rollup strip in one state."""

    state: str
    words: str
    left: float
    width: float


@dataclass(frozen=True)
class Tick:
    """An axis label at `left` percent."""

    left: float
    text: str


@dataclass(frozen=True)
class Timeline:
    """The whole picture; `summary` says it in one sentence for people who cannot see it."""

    bars: list[Bar]
    strip: list[Segment]
    ticks: list[Tick]
    elapsed_text: str
    summary: str


def tier_modes(status: ApplianceStatus, phase: str) -> dict[str, TierMode]:
    """ok, active, failed, issue or waiting for every tier (the checklist and the timeline)."""
    state = status.rollup.state
    modes: dict[str, TierMode] = {}
    for spec in TIERS:
        tier: Tier = getattr(status.tiers, spec.name)
        if tier.ready:
            modes[spec.name] = "ok"
        elif not spec.gates_login:
            # Background never gates login: in progress, or has issues once login works.
            if state is RollupState.READY_WITH_BACKGROUND_ISSUES:
                modes[spec.name] = "issue"
            else:
                modes[spec.name] = "active" if state.login_ready else "waiting"
        elif state.login_ready:
            modes[spec.name] = "issue"  # not fully ready, yet login works (finding-20)
        elif spec.name == phase:
            modes[spec.name] = "failed" if state is RollupState.FAILED_ACTION_REQUIRED else "active"
        else:
            modes[spec.name] = "waiting"  # behind the current tier: waiting its turn
    return modes


def _ready_since(status: ApplianceStatus, name: str, first: datetime) -> datetime | None:
    tier: Tier = getattr(status.tiers, name)
    if not tier.ready:
        return None
    return tier.since or first


def build_timeline(status: ApplianceStatus, phase: str) -> Timeline:
    """The timeline of `status` (empty strip and bars from `now` when there is no history)."""
    now = status.timestamp
    first = status.history[0].at if status.history else now
    origin = min(first, status.install_started) if status.install_started else first
    span = max((now - origin).total_seconds(), _MIN_SPAN_SECONDS)

    def at(when: datetime) -> float:
        return min(100.0, max(0.0, (when - origin).total_seconds() / span * 100))

    def offset(when: datetime) -> str:
        return "+" + human_elapsed((when - origin).total_seconds())

    modes = tier_modes(status, phase)
    bars: list[Bar] = []
    start: datetime | None = origin
    for spec in TIERS:
        mode = modes[spec.name]
        ready_at = _ready_since(status, spec.name, first)
        if ready_at is not None:
            begin = min(start or ready_at, ready_at)
            # Ready when the service first looked: it knows only "by then".
            text = f"ready {'by' if ready_at == first else 'at'} {offset(ready_at)}"
            left, right = at(begin), at(ready_at)
        elif start is not None and mode != "waiting":
            text = f"{human_elapsed((now - start).total_seconds())} so far"
            left, right = at(start), 100.0
        else:
            text = "not started"
            left = right = at(start) if start is not None else 100.0
        bars.append(
            Bar(
                name=spec.name,
                label=spec.label,
                mode=mode,
                left=round(left, 2),
                width=round(max(right - left, 0.8), 2),
                text=text,
                summary=f"{spec.label}: {text}",
            )
        )
        start = ready_at
    strip = _strip(status, at, now)
    ticks = [
        Tick(0.0, origin.strftime("%H:%M UTC")),
        Tick(50.0, offset(origin + (now - origin) / 2)),
        Tick(100.0, f"now {offset(now)}"),
    ]
    what = "since the node joined Kubernetes" if status.install_started else "watched so far"
    elapsed_text = f"{human_elapsed((now - origin).total_seconds())} {what}"
    summary = f"Install timeline, {elapsed_text}: " + "; ".join(bar.summary for bar in bars) + "."
    return Timeline(bars=bars, strip=strip, ticks=ticks, elapsed_text=elapsed_text, summary=summary)


def _strip(
    status: ApplianceStatus, position: Callable[[datetime], float], now: datetime
) -> list[Segment]:
    """The rollup's states side by side, from the first change the service saw until now."""
    segments: list[Segment] = []
    for index, change in enumerate(status.history):
        end = status.history[index + 1].at if index + 1 < len(status.history) else now
        left, right = position(change.at), position(end)
        segments.append(
            Segment(
                state=change.state.value,
                words=STATE_WORDS[change.state],
                left=round(left, 2),
                width=round(max(right - left, 0.5), 2),
            )
        )
    return segments
