"""What kube-apiserver checks in an Event, by the API it was written through.

A port of pkg/apis/core/validation/events.go (v1.37): every Event passes the legacy checks (an
Event with an `eventTime` must say who reported it and what it did); one written through
events.k8s.io/v1 also gets the strict ones (a time, a Normal or Warning type, none of the
deprecated fields) and, on an update, may change almost nothing. Go validates the internal
(core) form, so the fields are named as core/v1 names them, except `reportingController`,
which is `reportingComponent` to a core/v1 writer. Field errors, in Go's order and words.
"""

from __future__ import annotations

from typing import Any

from simulator.api.kinds import KindInfo
from simulator.api.names import label_key_errors
from simulator.api.store.event_views import is_event, is_view, storage_form

__all__ = ["event_errors", "event_update_errors"]

_REPORTING_INSTANCE_LIMIT = 128
_ACTION_LIMIT = 128
_REASON_LIMIT = 128
_NOTE_LIMIT = 1024
_NOT_ITS_NAMESPACE = "does not match event.namespace"


def event_errors(info: KindInfo, obj: dict[str, Any]) -> list[str]:
    """ValidateEventCreate: the legacy checks, then, through events.k8s.io, the strict ones."""
    if not is_event(info):
        return []
    event = storage_form(info, obj)
    errors = _legacy_errors(info, event)
    if not is_view(info):
        return errors
    errors += _series_errors(event)
    if not event.get("eventTime"):
        errors.append("eventTime: Required value")
    if event.get("type") not in ("Normal", "Warning"):
        errors.append(f'type: Invalid value: "": has invalid value: {event.get("type") or ""}')
    for path in ("firstTimestamp", "lastTimestamp", "count"):
        if event.get(path):
            errors.append(f'{path}: Invalid value: "": needs to be unset')
    source = event.get("source") or {}
    if source.get("component") or source.get("host"):
        errors.append('source: Invalid value: "": needs to be unset')
    return errors


def event_update_errors(info: KindInfo, live: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """ValidateEventUpdate: the legacy checks of the new Event, then, through events.k8s.io,
    a changed series checked and every other field but the metadata immutable."""
    if not is_event(info):
        return []
    event, old = storage_form(info, new), storage_form(info, live)
    errors = _legacy_errors(info, event)
    if not is_view(info):
        return errors
    if event.get("series") != old.get("series"):
        errors += _series_errors(event)
    for path in _IMMUTABLE:
        value, was = event.get(path), old.get(path)
        if _value(path, value) != _value(path, was):
            errors.append(f"{path}: Invalid value: {_shown(path, value)}: field is immutable")
    return errors


# In ValidateEventUpdate's order (`reason` twice, as Go checks it twice).
_IMMUTABLE = (
    "involvedObject",
    "reason",
    "message",
    "source",
    "firstTimestamp",
    "lastTimestamp",
    "count",
    "reason",
    "type",
    "eventTime",
    "action",
    "related",
    "reportingComponent",
    "reportingInstance",
)
_REFERENCE = ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")
_GO_NAMES = {"uid": "UID", "apiVersion": "APIVersion"}
_TIMES = ("firstTimestamp", "lastTimestamp", "eventTime")


def _value(path: str, value: Any) -> Any:
    """A field's value as Go compares it: a missing struct is its zero value."""
    if path in ("involvedObject", "source"):
        return {k: v for k, v in (value or {}).items() if v}
    return value or None


def _shown(path: str, value: Any) -> str:
    """The bad value as field.Invalid prints it: a string quoted, a number as it is, a time by
    its String(), a struct as Go syntax (`%#v` of the internal type)."""
    if path in ("involvedObject", "related") and (value or path == "involvedObject"):
        ref = value or {}
        fields = ", ".join(f'{_go_name(k)}:"{ref.get(k, "")}"' for k in _REFERENCE)
        return f"core.ObjectReference{{{fields}}}"
    if path == "related":
        return "null"
    if path == "source":
        component, host = (value or {}).get("component", ""), (value or {}).get("host", "")
        return f'core.EventSource{{Component:"{component}", Host:"{host}"}}'
    if path == "count":
        return str(value or 0)
    if path in _TIMES:
        return _time_string(value)
    return f'"{value or ""}"'


def _go_name(key: str) -> str:
    return _GO_NAMES.get(key, key[:1].upper() + key[1:])


def _time_string(value: Any) -> str:
    """time.Time's String() of an RFC 3339 text (`2024-01-01 00:00:00 +0000 UTC`)."""
    if not value:
        return "0001-01-01 00:00:00 +0000 UTC"
    text = str(value).replace("T", " ").rstrip("Z")
    return f"{text} +0000 UTC"


def _series_errors(event: dict[str, Any]) -> list[str]:
    series = event.get("series")
    if not isinstance(series, dict):
        return []
    errors = []
    if int(series.get("count") or 0) < 2:
        errors.append('series.count: Invalid value: "": should be at least 2')
    if not series.get("lastObservedTime"):
        errors.append("series.lastObservedTime: Required value")
    return errors


def _legacy_errors(info: KindInfo, event: dict[str, Any]) -> list[str]:
    """legacyValidateEvent: the involved object's namespace, and what a new-style Event (one
    with an `eventTime`) must say."""
    namespace = str(event.get("metadata", {}).get("namespace") or "")
    involved = str((event.get("involvedObject") or {}).get("namespace") or "")
    mismatch = f'involvedObject.namespace: Invalid value: "{involved}": {_NOT_ITS_NAMESPACE}'
    if not event.get("eventTime"):
        elsewhere = namespace != involved if involved else namespace not in ("", "default")
        return [mismatch] if elsewhere else []
    errors = []
    if not involved and namespace not in ("default", "kube-system"):
        errors.append(mismatch)
    controller = str(event.get("reportingComponent") or "")
    named = "reportingController" if is_view(info) else "reportingComponent"
    if not controller:
        errors.append(f"{named}: Required value")
    errors += [f'{named}: Invalid value: "{controller}": {e}' for e in label_key_errors(controller)]
    errors += _required_and_limited(event, "reportingInstance", _REPORTING_INSTANCE_LIMIT)
    errors += _required_and_limited(event, "action", _ACTION_LIMIT)
    errors += _required_and_limited(event, "reason", _REASON_LIMIT)
    if len(str(event.get("message") or "").encode()) > _NOTE_LIMIT:  # Go's len: bytes
        errors.append(f'message: Invalid value: "": can have at most {_NOTE_LIMIT} characters')
    return errors


def _required_and_limited(event: dict[str, Any], path: str, limit: int) -> list[str]:
    value = str(event.get(path) or "")
    if not value:
        return [f"{path}: Required value"]
    if len(value.encode()) > limit:
        return [f'{path}: Invalid value: "": can have at most {limit} characters']
    return []
