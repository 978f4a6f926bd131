"""events.k8s.io/v1 Events: another view of core/v1's Event storage, as kube-apiserver has it.

kube-apiserver keeps one Event storage and serves it at both versions, converting on the way in
and out (pkg/apis/events/v1/conversion.go): `regarding` is `involvedObject`, `note` is
`message`, `reportingController` is `reportingComponent`, and `deprecatedSource`,
`deprecatedFirstTimestamp`, `deprecatedLastTimestamp` and `deprecatedCount` are `source`,
`firstTimestamp`, `lastTimestamp` and `count`. So an Event written through either API is read,
listed, watched and deleted through both (`kubectl events` reads core/v1 Events, the scheduler
writes events.k8s.io/v1 ones), and each API's field labels select it (events.k8s.io's are
converted to core's, AddFieldLabelConversionsForEvent).

The store keeps the core/v1 form; `to_view` and `to_storage` write each form as Go's JSON
encoder writes the type: a struct field without omitempty, or a struct, is always there (a
zero time as null), an omitempty string or number only when set.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from simulator.api.kinds import KindInfo
from simulator.api.selectors import FieldSelector
from simulator.clock import rfc3339

__all__ = [
    "is_event",
    "is_view",
    "storage_form",
    "storage_key",
    "stored_selector",
    "to_storage",
    "to_view",
]

_VIEW = ("events.k8s.io", "events")
_STORAGE = ("", "events")
_VIEW_VERSION = "events.k8s.io/v1"

# events.k8s.io field label -> the core/v1 field it selects on (AddFieldLabelConversionsForEvent).
_FIELD_LABELS = {
    **{f"regarding.{part}": f"involvedObject.{part}" for part in (
        "kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"
    )},
    "reportingController": "reportingComponent",
}  # fmt: skip


def storage_key(group: str, plural: str) -> tuple[str, str]:
    """Where a resource's objects are kept: events.k8s.io's Events are core/v1's."""
    return _STORAGE if (group, plural) == _VIEW else (group, plural)


def is_event(info: KindInfo) -> bool:
    """Whether `info` is Event, of either API."""
    return (info.group, info.plural) == _STORAGE or is_view(info)


def is_view(info: KindInfo) -> bool:
    """Whether `info` is served from another resource's storage (events.k8s.io/v1 Events)."""
    return (info.group, info.plural) == _VIEW


def stored_selector(info: KindInfo, fields: FieldSelector | None) -> FieldSelector | None:
    """`fields`, a field selector in `info`'s labels, over the stored object's fields."""
    if fields is None or not is_view(info):
        return fields
    return FieldSelector(tuple((_FIELD_LABELS.get(p, p), eq, v) for p, eq, v in fields.terms))


# Each events.k8s.io/v1 field and the core/v1 field it is, in events.k8s.io's struct order.
_FIELDS = (
    ("eventTime", "eventTime"),
    ("series", "series"),
    ("reportingController", "reportingComponent"),
    ("reportingInstance", "reportingInstance"),
    ("action", "action"),
    ("reason", "reason"),
    ("regarding", "involvedObject"),
    ("related", "related"),
    ("note", "message"),
    ("type", "type"),
    ("deprecatedSource", "source"),
    ("deprecatedFirstTimestamp", "firstTimestamp"),
    ("deprecatedLastTimestamp", "lastTimestamp"),
    ("deprecatedCount", "count"),
)
# What each type writes for a field that is not set and not omitempty (a struct, a time as null,
# a string without omitempty); the other fields are left out.
_VIEW_ZEROS: dict[str, Any] = {
    "eventTime": None,
    "regarding": {},
    "deprecatedSource": {},
    "deprecatedFirstTimestamp": None,
    "deprecatedLastTimestamp": None,
}
_CORE_ZEROS: dict[str, Any] = {
    "involvedObject": {},
    "source": {},
    "firstTimestamp": None,
    "lastTimestamp": None,
    "eventTime": None,
    "reportingComponent": "",
    "reportingInstance": "",
}


def _converted(
    obj: dict[str, Any], api_version: str, pairs: Iterable[tuple[str, str]], zeros: dict[str, Any]
) -> dict[str, Any]:
    out: dict[str, Any] = {"apiVersion": api_version, "kind": "Event"}
    if "metadata" in obj:
        out["metadata"] = obj["metadata"]
    for source, target in pairs:
        if value := obj.get(source):
            out[target] = value
        elif target in zeros:
            out[target] = dict(zeros[target]) if isinstance(zeros[target], dict) else zeros[target]
    return out


def to_view(stored: dict[str, Any]) -> dict[str, Any]:
    """A stored (core/v1) Event as events.k8s.io/v1 answers it (a new dict; values shared);
    one in that form already as it is."""
    if stored.get("apiVersion") == _VIEW_VERSION:
        return stored
    return _converted(stored, _VIEW_VERSION, ((c, v) for v, c in _FIELDS), _VIEW_ZEROS)


def to_storage(view: dict[str, Any]) -> dict[str, Any]:
    """An events.k8s.io/v1 Event as core/v1 keeps it (a new dict; values shared), its times as
    Go writes them back."""
    out = _converted(view, "v1", _FIELDS, _CORE_ZEROS)
    for key in ("firstTimestamp", "lastTimestamp", "eventTime"):
        out[key] = _go_time(out[key], micro=key == "eventTime")
    if isinstance(series := out.get("series"), dict) and "lastObservedTime" in series:
        out["series"] = {**series, "lastObservedTime": _go_time(series["lastObservedTime"])}
    return out


def storage_form(info: KindInfo, obj: dict[str, Any]) -> dict[str, Any]:
    """`obj`, written or answered at `info`'s version, as the store keeps it: an Event of
    either API as Go's core/v1 type holds it (events.k8s.io's converted), anything else as it
    is."""
    if (info.group, info.plural) == _STORAGE:
        return to_storage(to_view(obj))  # Go's zero values: `source: {}`, `eventTime: null`
    if is_view(info) and obj.get("apiVersion") == _VIEW_VERSION:
        return to_storage(obj)
    return obj


def _go_time(value: Any, *, micro: bool = True) -> Any:
    """A time as Go writes it back (metav1.Time to the second, MicroTime to the microsecond,
    both in UTC); anything that is no RFC 3339 time as it is."""
    if not isinstance(value, str):
        return value
    try:
        instant = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return value
    return rfc3339(instant, micro=micro) if instant.tzinfo is not None else value
