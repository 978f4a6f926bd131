"""Server-side apply bookkeeping: the configuration each field manager last applied.

A manager's re-apply removes the fields and list items it applied before and no longer does,
leaving other managers' fields alone. Custom resources merge as JSON (their lists are atomic);
built-ins merge strategically.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from simulator.api.kinds import KindInfo
from simulator.api.patching import (
    PatchError,
    apply_json_patch,
    apply_merge_patch,
    apply_strategic_merge_patch,
    removal_patch,
)
from simulator.api.store.errors import BadRequestError, InvalidError, PatchNotApplicableError
from simulator.api.store.rules import copy_object
from simulator.clock import rfc3339

__all__ = [
    "AppliedConfigurations",
    "applied_object",
    "managed_entry",
    "mutation",
    "without_identity",
]

_PATCHERS: dict[str, Callable[[Any, Any], Any]] = {
    "json": apply_json_patch,
    "merge": apply_merge_patch,
    "strategic": apply_strategic_merge_patch,
}

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


def mutation(
    patch_type: str,
    body: Any,
    *,
    info: KindInfo,
    name: str,
    applied: AppliedConfigurations,
    key: Key,
    record: bool,
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The change a patch makes to the live object (apply: also what its manager now owns)."""

    def mutate(live: dict[str, Any]) -> dict[str, Any]:
        try:
            if patch_type == "apply":
                configuration = copy_object(without_identity(body))
                merged = applied.merge(info, live, configuration, key)
                if record:
                    applied.remember(key, configuration)
                return merged
            if patch_type in _PATCHERS:
                return dict(_PATCHERS[patch_type](live, body))
        except PatchError as exc:
            if patch_type == "json" and isinstance(body, list):
                raise PatchNotApplicableError(str(exc)) from exc
            raise InvalidError(str(exc), name=name, kind=info.plural) from exc
        raise BadRequestError(f"unknown patch type {patch_type!r}")

    return mutate


def applied_object(
    info: KindInfo, namespace: str, name: str, body: dict[str, Any]
) -> dict[str, Any]:
    """The object an apply patch creates when none exists (named by the URL)."""
    obj = {**body, "metadata": {**(body.get("metadata") or {}), "name": name}}
    if info.namespaced:
        obj["metadata"]["namespace"] = namespace
    return obj
