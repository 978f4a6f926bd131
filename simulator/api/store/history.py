"""The cluster-wide resourceVersion and the bounded history of changes that watches replay from.

Asking for a resourceVersion older than the retained history is a 410 Expired, as against a
compacted etcd.
"""

from __future__ import annotations

import collections
import itertools
import threading
from typing import Any, NamedTuple

from simulator.api.store.errors import ExpiredError

__all__ = ["WatchEvent", "WatchHistory"]


class WatchEvent(NamedTuple):
    """One change in the history: its resourceVersion, type, resource key and object.

    A NamedTuple, immutable as a frozen dataclass is, built at half the cost (every write).
    """

    rv: int
    type: str
    group: str
    plural: str
    namespace: str
    obj: dict[str, Any]
    # The object before a MODIFIED, so a selector watch can turn it into ADDED/DELETED.
    previous: dict[str, Any] | None = None


class WatchHistory:
    """resourceVersions and the changes they name.

    The store hands out versions and records changes under its own lock; readers (watches)
    call `since` from the API's event loop, so the history also guards itself.
    """

    def __init__(self, limit: int) -> None:
        self.rv = 0
        self._lock = threading.Lock()
        self._events: collections.deque[WatchEvent] = collections.deque(maxlen=limit)

    def next_rv(self) -> int:
        """Hand out the next resourceVersion."""
        self.rv += 1
        return self.rv

    def record(  # noqa: PLR0917 - one call site, in the order of WatchEvent
        self,
        group: str,
        plural: str,
        rv: int,
        event_type: str,
        obj: dict[str, Any],
        previous: dict[str, Any] | None = None,
    ) -> None:
        """Remember a change (the oldest falls off past the limit)."""
        namespace = obj["metadata"].get("namespace", "")
        with self._lock:
            self._events.append(WatchEvent(rv, event_type, group, plural, namespace, obj, previous))

    def since(self, rv: int) -> list[WatchEvent]:
        """Entries with resourceVersion > rv; ExpiredError when rv is already compacted."""
        with self._lock:
            return self._since(rv)

    def _since(self, rv: int) -> list[WatchEvent]:
        if rv >= self.rv:
            return []
        if not self._events or self._events[0].rv > rv + 1:
            # The number is the oldest resourceVersion a watch may start from, as
            # kube-apiserver's watch cache names it (its oldest event's version less one).
            oldest = self._events[0].rv - 1 if self._events else self.rv
            raise ExpiredError(f"too old resource version: {rv} ({oldest})")
        # History rvs are consecutive, so the start index is an offset. Every open watch asks
        # after every change, and what is new is the history's tail: read it from the right end
        # instead of copying the whole history (up to its limit) for each watch.
        start = rv + 1 - self._events[0].rv
        newer = len(self._events) - max(start, 0)
        return list(itertools.islice(reversed(self._events), newer))[::-1]

    def compact(self) -> None:
        """Forget the history (like etcd compaction): older resourceVersions become 410."""
        with self._lock:
            self._events.clear()
