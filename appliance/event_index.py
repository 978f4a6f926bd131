"""Events by the object they involve, and the newest Events: the part of an evaluation that reads
every Event (20,000 in the bench's snapshot), so the part that has to be cheap.

Most Events are about objects that are fine (a Ready pod's pulls and starts), and only a few
objects' Events are ever read one by one. So every Event is read only as far as its time and the
object it involves, in passes that run in C (`map` of `dict.get` and of `itemgetter`) when the
Events are well formed (the usual case); a bucket is sorted oldest first only when someone reads
it. Anything odd (an Event that is not a map, a missing time, an `involvedObject` with no
namespace) takes the one-Event-at-a-time path, which gives the same answer: the fast path is only
ever a shortcut.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from itertools import compress, repeat
from operator import ge, itemgetter
from typing import Any

from appliance.snapshot import RawObject, as_dict
from appliance.views import text

__all__ = ["CLUSTER_SCOPED", "EventIndex", "ObjectKey", "event_time_text", "involved_object"]

# (kind, namespace or None, name) of the object an Event involves.
ObjectKey = tuple[str, str | None, str]

CLUSTER_SCOPED = frozenset({"Node", "Namespace", "PersistentVolume"})
_TIME_KEYS = ("lastTimestamp", "eventTime", "deprecatedLastTimestamp", "firstTimestamp")
# `dict.get` unbound: `map` calls it in C, no Python frame per Event.
_get: Any = dict.get
# An `involvedObject`'s fields in one call (KeyError when one is missing: see _fast_buckets).
_RAW_KEY = itemgetter("kind", "namespace", "name")


def event_time_text(event: RawObject) -> str:
    """The newest time an Event was seen, as its RFC 3339 text ('' when none)."""
    series = event.get("series")
    if type(series) is dict:
        found = series.get("lastObservedTime")
        if type(found) is str and found:
            return found
    for key in _TIME_KEYS:
        found = event.get(key)
        if type(found) is str and found:
            return found
    created = as_dict(event.get("metadata")).get("creationTimestamp")
    return created if isinstance(created, str) else ""


def involved_object(event: RawObject) -> ObjectKey:
    """(kind, namespace, name) of the object an Event is about (cluster-scoped: no namespace)."""
    target = event.get("involvedObject")
    if type(target) is not dict:
        target = event.get("regarding")
        if type(target) is not dict:
            target = {}
    kind = target.get("kind")
    if type(kind) is not str or not kind:
        kind = "Unknown"
    name = target.get("name")
    if type(name) is not str or not name:
        name = "?"
    if kind in CLUSTER_SCOPED:
        return kind, None, name
    namespace = target.get("namespace")
    if type(namespace) is not str or not namespace:
        namespace = text(as_dict(event.get("metadata")).get("namespace"))
    return kind, namespace, name


def _target_key(kind: object, namespace: str, name: object) -> ObjectKey:
    """`involved_object` of an Event whose `involvedObject` has these fields and a namespace
    (or is of a cluster-scoped kind)."""
    kind = kind if type(kind) is str and kind else "Unknown"
    name = name if type(name) is str and name else "?"
    return (kind, None, name) if kind in CLUSTER_SCOPED else (kind, namespace, name)


class EventIndex(Mapping[ObjectKey, list[RawObject]]):
    """The Events of a snapshot by the object they involve, each list oldest first (ties in
    the API's order), keys in the order their first Event came."""

    def __init__(self, events: Sequence[object]) -> None:
        kept: Any = events
        if not set(map(type, events)) <= {dict}:
            kept = [e for e in events if type(e) is dict]
        # A snapshot's tuple is kept as it is (`tuple` of a tuple is that tuple), not copied: a
        # copy is a young 20,000-item list that the next collection of young objects must walk.
        self._events: tuple[RawObject, ...] = tuple(kept)
        fast = _fast_stamps(self._events)
        self._stamps, self._distinct = fast or _stamps(self._events)
        self._buckets = _fast_buckets(self._events) or _buckets(self._events)
        self._sorted: set[ObjectKey] = set()

    def __getitem__(self, key: ObjectKey) -> list[RawObject]:
        bucket = self._buckets[key]
        if key not in self._sorted:
            if len(bucket) > 1:
                bucket.sort(key=event_time_text)  # stable: ties keep the API's order
            self._sorted.add(key)
        return bucket

    def __iter__(self) -> Iterator[ObjectKey]:
        return iter(self._buckets)

    def __len__(self) -> int:
        return len(self._buckets)

    def __contains__(self, key: object) -> bool:
        return key in self._buckets

    def newest(self, count: int) -> list[tuple[str, RawObject]]:
        """The `count` newest Events with their times, newest first (ties keep API order)."""
        stamps = self._stamps
        if count <= 0 or not stamps:
            return []
        # The count-th newest of the distinct times, then (in C) every Event at least as new: a
        # short list to sort instead of a heap fed all 20,000 (reverse keeps ties in API order).
        # `operator.ge` over `repeat`, not the bound `oldest_kept.__le__`: no method wrapper to
        # go through for each of 20,000 times (0.26 ms of 1.2).
        oldest_kept = heapq.nlargest(count, self._distinct)[-1]
        chosen = compress(range(len(stamps)), map(ge, stamps, repeat(oldest_kept)))
        ordered = sorted(chosen, key=stamps.__getitem__, reverse=True)[:count]
        return [(stamps[i], self._events[i]) for i in ordered]


def _fast_stamps(events: Sequence[RawObject]) -> tuple[list[str], set[str]] | None:
    """Every Event's `lastTimestamp` and the set of them, when each has one as text and none has
    a `series` (then that is what `event_time_text` reads); None otherwise."""
    count = len(events)
    stamps: list[Any] = list(map(_get, events, repeat("lastTimestamp", count)))
    try:
        distinct = set(stamps)
    except TypeError:  # a list or a map for a time
        return None
    # Checked on the few distinct values (an hour of Events holds at most 3,600 times), not on
    # all 20,000: no text equals anything but text, so no other value hides behind one.
    if set(map(type, distinct)) != {str} or "" in distinct:
        return None
    if any(map(dict.__contains__, events, repeat("series", count))):
        return None
    return stamps, distinct


def _stamps(events: Sequence[RawObject]) -> tuple[list[str], set[str]]:
    """`event_time_text` of every Event, and the set of them (any input)."""
    stamps = list(map(event_time_text, events))
    return stamps, set(stamps)


def _fast_buckets(events: Sequence[RawObject]) -> dict[ObjectKey, list[RawObject]] | None:
    """Events grouped by their `involvedObject`'s raw (kind, namespace, name), each group then
    keyed as `involved_object` would key it; None when that shortcut would not be exact (an
    `involvedObject` that is not a map, a field that is a map or list, no namespace, or two raw
    forms of one key, whose Events would have to be interleaved)."""
    # One lazy chain, Event -> involvedObject -> its three fields -> its group's list, and
    # `list.append` of the Event to it: all in C (`map` of `dict.get`, `itemgetter`, the
    # defaultdict's lookup, `list.append`), no Python frame per Event; `any` drives it to the
    # end (`append` answers None). bench/status_engine.py's evaluation row measures it.
    targets = map(_get, events, repeat("involvedObject"))
    pending = iter(events)
    by_raw: defaultdict[tuple[object, object, object], list[RawObject]] = defaultdict(list)
    try:
        while True:
            try:
                any(map(list.append, map(by_raw.__getitem__, map(_RAW_KEY, targets)), pending))
                break
            except KeyError:
                # A target without one of the fields (a Node's has no namespace). `targets` is
                # past it, `pending` (`map` did not ask it then) stands on its Event: read that
                # one field by field, and go on with the rest.
                event = next(pending)
                target = _get(event, "involvedObject")
                by_raw[
                    _get(target, "kind"), _get(target, "namespace"), _get(target, "name")
                ].append(event)
    except TypeError:  # a target that is no map, or an unhashable field
        return None
    out: dict[ObjectKey, list[RawObject]] = {}
    for (kind, namespace, name), bucket in by_raw.items():
        if type(namespace) is str and namespace:
            key = _target_key(kind, namespace, name)
        elif kind in CLUSTER_SCOPED:  # a Node's Events: no namespace to read
            key = _target_key(kind, "", name)
        else:
            return None  # the Event's own namespace stands in: read one by one
        if key in out:
            return None
        out[key] = bucket
    return out


def _buckets(events: Sequence[RawObject]) -> dict[ObjectKey, list[RawObject]]:
    """The one-Event-at-a-time grouping (any input)."""
    out: dict[ObjectKey, list[RawObject]] = {}
    for event in events:
        key = involved_object(event)
        bucket = out.get(key)
        if bucket is None:
            out[key] = [event]
        else:
            bucket.append(event)
    return out
