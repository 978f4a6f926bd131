"""Server-side `Table` rendering (what `kubectl get` asks for) in virtual time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from simulator.api.kinds import KindInfo

__all__ = ["human_age", "table"]

Column = tuple[str, str, Callable[[dict[str, Any], datetime], Any], int]


def _parse(ts: str | None) -> datetime | None:
    if not ts:
        return None
    try:
        return datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return None


def human_age(ts: str | None, now: datetime) -> str:  # noqa: PLR0911 - kubectl's steps
    """kubectl's short human duration (`45s`, `5m12s`, `3h`, `2d`) since `ts`; `<unknown>`."""
    then = _parse(ts)
    if then is None:
        return "<unknown>"
    seconds = int((now - then).total_seconds())
    if seconds < 0:
        return "0s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if seconds < 120:
        return f"{seconds}s"
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s" if seconds % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if days < 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    return f"{days}d"


def _age(obj: dict[str, Any], now: datetime) -> str:
    return human_age((obj.get("metadata") or {}).get("creationTimestamp"), now)


def _name(obj: dict[str, Any], _now: datetime) -> str:
    return str((obj.get("metadata") or {}).get("name", ""))


def _pod_ready(obj: dict[str, Any], _now: datetime) -> str:
    containers = (obj.get("spec") or {}).get("containers") or []
    statuses = (obj.get("status") or {}).get("containerStatuses") or []
    return f"{sum(1 for s in statuses if s.get('ready'))}/{len(containers)}"


def _pod_status(obj: dict[str, Any], _now: datetime) -> str:
    status = obj.get("status") or {}
    if (obj.get("metadata") or {}).get("deletionTimestamp"):
        return "Terminating"
    for key in ("initContainerStatuses", "containerStatuses"):
        for cs in status.get(key) or []:
            state = cs.get("state") or {}
            reason = (state.get("waiting") or {}).get("reason") or (
                state.get("terminated") or {}
            ).get("reason")
            if reason and reason != "Completed":
                return f"Init:{reason}" if key.startswith("init") else str(reason)
    return str(status.get("reason") or status.get("phase") or "Unknown")


def _pod_restarts(obj: dict[str, Any], _now: datetime) -> int:
    statuses = (obj.get("status") or {}).get("containerStatuses") or []
    return sum(int(s.get("restartCount") or 0) for s in statuses)


def _get(path: str) -> Callable[[dict[str, Any], datetime], Any]:
    def read(obj: dict[str, Any], _now: datetime) -> Any:
        node: Any = obj
        for part in path.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        return "<none>" if node is None else node

    return read


def _ready_of(total: str, ready: str) -> Callable[[dict[str, Any], datetime], str]:
    def read(obj: dict[str, Any], _now: datetime) -> str:
        spec_total = (obj.get("spec") or {}).get(total, 1) if total else 1
        return f"{(obj.get('status') or {}).get(ready) or 0}/{spec_total}"

    return read


def _event_object(obj: dict[str, Any], _now: datetime) -> str:
    ref = obj.get("involvedObject") or {}
    return f"{str(ref.get('kind', '')).lower()}/{ref.get('name', '')}"


def _event_last_seen(obj: dict[str, Any], now: datetime) -> str:
    return human_age(obj.get("lastTimestamp") or obj.get("eventTime"), now)


def _condition(kind: str) -> Callable[[dict[str, Any], datetime], str]:
    def read(obj: dict[str, Any], _now: datetime) -> str:
        for c in (obj.get("status") or {}).get("conditions") or []:
            if c.get("type") == kind:
                return str(c.get("status", "Unknown"))
        return "Unknown"

    return read


def _condition_message(obj: dict[str, Any], _now: datetime) -> str:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return str(c.get("message", ""))
    return ""


_NAME: Column = ("Name", "string", _name, 0)
_AGE: Column = ("Age", "string", _age, 0)

_COLUMNS: dict[tuple[str, str], list[Column]] = {
    ("", "pods"): [
        _NAME,
        ("Ready", "string", _pod_ready, 0),
        ("Status", "string", _pod_status, 0),
        ("Restarts", "integer", _pod_restarts, 0),
        _AGE,
        ("IP", "string", _get("status.podIP"), 1),
        ("Node", "string", _get("spec.nodeName"), 1),
    ],
    ("", "events"): [
        ("Last Seen", "string", _event_last_seen, 0),
        ("Type", "string", _get("type"), 0),
        ("Reason", "string", _get("reason"), 0),
        ("Object", "string", _event_object, 0),
        ("Message", "string", _get("message"), 0),
    ],
    ("", "namespaces"): [_NAME, ("Status", "string", _get("status.phase"), 0), _AGE],
    ("", "nodes"): [_NAME, ("Status", "string", _condition("Ready"), 0), _AGE],
    ("", "services"): [
        _NAME,
        ("Type", "string", _get("spec.type"), 0),
        ("Cluster-IP", "string", _get("spec.clusterIP"), 0),
        _AGE,
    ],
    ("", "persistentvolumeclaims"): [_NAME, ("Status", "string", _get("status.phase"), 0), _AGE],
    ("apps", "deployments"): [
        _NAME,
        ("Ready", "string", _ready_of("replicas", "readyReplicas"), 0),
        ("Up-to-date", "integer", _get("status.updatedReplicas"), 0),
        ("Available", "integer", _get("status.availableReplicas"), 0),
        _AGE,
    ],
    ("apps", "statefulsets"): [
        _NAME,
        ("Ready", "string", _ready_of("replicas", "readyReplicas"), 0),
        _AGE,
    ],
    ("batch", "jobs"): [
        _NAME,
        ("Completions", "string", _ready_of("completions", "succeeded"), 0),
        _AGE,
    ],
}
_FLUX: list[Column] = [
    _NAME,
    _AGE,
    ("Ready", "string", _condition("Ready"), 0),
    ("Status", "string", _condition_message, 0),
]


def _columns(info: KindInfo) -> list[Column]:
    if info.group.endswith("toolkit.fluxcd.io"):
        return _FLUX
    return _COLUMNS.get((info.group, info.plural), [_NAME, _AGE])


def table(
    info: KindInfo, items: list[dict[str, Any]], now: datetime, resource_version: str
) -> dict[str, Any]:
    """A `meta.k8s.io/v1` Table of `items` with per-kind columns (kubectl prints it as is)."""
    columns = _columns(info)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": [
            {
                "name": name,
                "type": kind,
                "format": "name" if name == "Name" else "",
                "description": "",
                "priority": priority,
            }
            for name, kind, _, priority in columns
        ],
        "rows": [
            {
                "cells": [read(obj, now) for _, _, read, _ in columns],
                "object": {
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": obj.get("metadata") or {},
                },
            }
            for obj in items
        ],
    }
