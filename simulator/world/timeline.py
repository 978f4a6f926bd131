"""What happened in a world, in virtual time: every Event, as `kubectl get events` would list it."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from simulator.clock import VirtualClock

__all__ = ["Timeline", "TimelineEntry", "format_duration", "format_elapsed"]


@dataclass(frozen=True)
class TimelineEntry:
    """One Event (or a repeat of it) at `at` virtual seconds from the scenario start."""

    at: float
    type: str
    reason: str
    kind: str
    namespace: str
    name: str
    message: str
    count: int


def format_elapsed(seconds: float) -> str:
    """`+1h02m03s`-style offset from the scenario start."""
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"+{hours}h{minutes:02d}m{secs:02d}s" if hours else f"+{minutes:02d}m{secs:02d}s"


def format_duration(seconds: float) -> str:
    """`45s`, `17m55s`, `1h05m12s`: a length of time, as the production CLIs print one."""
    hours, rest = divmod(int(max(seconds, 0)), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{secs:02d}s"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class Timeline:
    """Collects Events from the store's change feed (subscribe `record`)."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self.entries: list[TimelineEntry] = []

    def record(self, event_type: str, obj: dict[str, Any]) -> None:
        """Store subscriber: keep Events as they are created or repeated."""
        if obj.get("kind") != "Event" or event_type == "DELETED":
            return
        involved = obj.get("involvedObject") or {}
        entry = TimelineEntry(
            at=self.clock.elapsed(),
            type=str(obj.get("type", "Normal")),
            reason=str(obj.get("reason", "")),
            kind=str(involved.get("kind", "")),
            namespace=str(involved.get("namespace", "")),
            name=str(involved.get("name", "")),
            message=str(obj.get("message", "")),
            count=int(obj.get("count") or 1),
        )
        with self._lock:
            self.entries.append(entry)

    def find(
        self, *, reason: str | None = None, contains: str = "", name: str = ""
    ) -> list[TimelineEntry]:
        """Entries with `reason` whose message contains `contains`, name starting with `name`."""
        with self._lock:
            return [
                e
                for e in self.entries
                if (reason is None or e.reason == reason)
                and contains in e.message
                and e.name.startswith(name)
            ]

    def lines(self) -> list[str]:
        """Human-readable lines, one per entry."""
        with self._lock:
            return [
                f"{format_elapsed(e.at):>10}  {e.type:<7} {e.reason:<18} "
                f"{e.kind.lower()}/{e.name}  {e.message}"
                for e in self.entries
            ]
