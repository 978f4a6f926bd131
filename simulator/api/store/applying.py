"""Server-side apply bookkeeping: the configuration each field manager last applied.

A manager's re-apply removes the fields and list items it applied before and no longer does,
leaving other managers' fields alone. Custom resources merge as JSON (their lists are atomic);
built-ins merge strategically.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from simulator.api.kinds import KindInfo
from simulator.api.patching import apply_merge_patch, apply_strategic_merge_patch, removal_patch
from simulator.clock import rfc3339

__all__ = ["AppliedConfigurations", "managed_entry", "without_identity"]

Key = tuple[str, str, str, str, str]


def without_identity(body: Any) -> Any:
    """The applied configuration less the identity fields server-side apply ignores."""
    if not isinstance(body, dict):
        return body
    body = dict(body)
    meta = dict(body.get("metadata") or {})
    for key in ("resourceVersion", "uid", "creationTimestamp", "managedFields"):
        meta.pop(key, None)
    body["metadata"] = meta
    return body


def managed_entry(manager: str, operation: str, api_version: str, now: datetime) -> dict[str, Any]:
    """One `metadata.managedFields` entry."""
    return {
        "manager": manager,
        "operation": operation,
        "apiVersion": api_version,
        "time": rfc3339(now),
        "fieldsType": "FieldsV1",
        "fieldsV1": {},
    }


class AppliedConfigurations:
    """(group, plural, namespace, name, manager) -> the last applied configuration.

    Not thread-safe by itself: the store calls it under its lock.
    """

    def __init__(self) -> None:
        self._applied: dict[Key, dict[str, Any]] = {}

    @staticmethod
    def key(info: KindInfo, namespace: str, name: str, manager: str | None) -> Key:
        """Where one manager's configuration of one object is kept."""
        return (info.group, info.plural, namespace, name, manager or "")

    def remember(self, key: Key, applied: dict[str, Any]) -> None:
        """Record what a manager applied."""
        self._applied[key] = applied

    def merge(
        self, info: KindInfo, live: dict[str, Any], applied: dict[str, Any], key: Key
    ) -> dict[str, Any]:
        """`live` with `applied` merged in and this manager's abandoned fields removed."""
        strategic = not info.crd_name
        removal = removal_patch(self._applied.get(key), applied, strategic=strategic)
        merge = apply_strategic_merge_patch if strategic else apply_merge_patch
        return dict(merge(merge(live, removal) if removal else live, applied))

    def forget(self, info: KindInfo, namespace: str, name: str) -> None:
        """Drop every manager's record of a deleted object."""
        if not self._applied:
            return
        prefix = (info.group, info.plural, namespace, name)
        for key in [k for k in self._applied if k[:4] == prefix]:
            del self._applied[key]
