"""What every detector needs to turn signals into a Blocker: evidence, since, tier, wording."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from appliance.canonical import Evidence, TierName
from appliance.components import FLUX_TIER, tier_of
from appliance.indexing import Signal
from appliance.tier_table import LOGIN_GATING

__all__ = [
    "MAX_EVIDENCE",
    "PERSISTENT",
    "by_component",
    "earliest",
    "evidence",
    "first_pod",
    "login_critical",
    "namespace_of",
    "newest_first",
    "short",
    "signal_tier",
]

# A warning nobody recognises counts as stuck (not "will clear by waiting") after this long.
PERSISTENT = timedelta(minutes=10)
MAX_EVIDENCE = 5


def login_critical(tier: TierName) -> bool:
    """Tiers that gate login (background never does)."""
    return tier in LOGIN_GATING


def signal_tier(component: str | None, namespace: str | None) -> TierName:
    """The tier a blocker about this component (or Flux object) belongs to."""
    if component in FLUX_TIER:
        return FLUX_TIER[component]
    return tier_of(component, namespace=namespace)


def newest_first(signal: Signal) -> tuple[int, float]:
    """Sort key: container statuses describe the present, so they sort as newest."""
    if signal.since is None:
        return (0, 0.0)
    return (1, -signal.since.timestamp())


def evidence(signals: Iterable[Signal]) -> list[Evidence]:
    """Up to MAX_EVIDENCE distinct (object, message) pairs, newest first."""
    out: list[Evidence] = []
    seen: set[tuple[str, str]] = set()
    for s in sorted(signals, key=newest_first):
        key = (s.object, s.message)
        if key in seen:
            continue
        seen.add(key)
        out.append(Evidence(object=s.object, message=s.message, since=s.first_seen or s.since))
        if len(out) >= MAX_EVIDENCE:
            break
    return out


def earliest(signals: Iterable[Signal]) -> datetime | None:
    """When the oldest of the signals was first seen."""
    times = [t for s in signals for t in (s.first_seen or s.since,) if t is not None]
    return min(times) if times else None


def by_component(signals: Iterable[Signal]) -> dict[str | None, list[Signal]]:
    """Signals grouped by the component they concern."""
    groups: dict[str | None, list[Signal]] = {}
    for s in signals:
        groups.setdefault(s.component, []).append(s)
    return groups


def namespace_of(signals: list[Signal]) -> str | None:
    """The first namespace the signals name."""
    return next((s.namespace for s in signals if s.namespace), None)


def first_pod(signals: list[Signal]) -> Signal | None:
    """The first signal read from a pod."""
    return next((s for s in signals if s.kind == "Pod"), None)


def short(message: str, limit: int = 400) -> str:
    """One line, at most `limit` characters."""
    text = " ".join(message.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
