"""core/v1 Events the way the kubelet and controllers write them: a repeat bumps `count`."""

from __future__ import annotations

import threading
from typing import Any, Protocol

from simulator.api.store.errors import AlreadyExistsError
from simulator.clock import VirtualClock, rfc3339

__all__ = ["EventRecorder"]

_NAME_ATTEMPTS = 16


class _EventWriter(Protocol):
    """The part of a `Store` events are written through."""

    clock: VirtualClock

    def get(
        self, api_version: str, kind: str, name: str, namespace: str | None = None
    ) -> dict[str, Any] | None: ...

    def create(self, obj: dict[str, Any]) -> dict[str, Any]: ...

    def patch(  # noqa: PLR0917 - the Store's positional order
        self,
        api_version: str,
        kind: str,
        name: str,
        patch: Any,
        patch_type: Any = "merge",
        namespace: str | None = None,
    ) -> dict[str, Any]: ...


class EventRecorder:
    """Emits Events through any `Store`, remembering which Event each repeat belongs to."""

    def __init__(self, store: _EventWriter) -> None:
        self._store = store
        # A writer's own reaction to its Event may emit another one: the lock is re-entrant.
        self._lock = threading.RLock()
        self._index: dict[tuple[str, str, str, str, str], str] = {}

    def emit(
        self,
        involved_object: dict[str, Any],
        reason: str,
        message: str,
        type: str = "Normal",
        source_component: str = "kubelet",
        *,
        source_host: str | None = None,
    ) -> dict[str, Any]:
        """Record a core/v1 Event about `involved_object`; a repeat bumps `count` like kubelet."""
        meta = involved_object.get("metadata") or {}
        ref = {
            "apiVersion": involved_object.get("apiVersion", "v1"),
            "kind": involved_object.get("kind", ""),
            "name": meta.get("name", ""),
            "namespace": meta.get("namespace", ""),
            "uid": meta.get("uid", ""),
            "resourceVersion": meta.get("resourceVersion", ""),
        }
        ref = {k: v for k, v in ref.items() if v}
        namespace = str(meta.get("namespace") or "default")
        now = self._store.clock.now()
        key = (namespace, str(ref.get("kind", "")), str(ref.get("name", "")), reason, message)
        with self._lock:
            existing_name = self._index.get(key)
            existing = (
                self._store.get("v1", "Event", existing_name, namespace) if existing_name else None
            )
            if existing_name and existing is not None:
                patch = {
                    "count": int(existing.get("count") or 1) + 1,
                    "lastTimestamp": rfc3339(now),
                }
                return self._store.patch("v1", "Event", existing_name, patch, "merge", namespace)
            suffix = f"{int(now.timestamp() * 1e9):x}"[-16:]
            event: dict[str, Any] = {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {
                    "name": f"{ref.get('name', 'event')}.{suffix}",
                    "namespace": namespace,
                },
                "involvedObject": ref,
                "reason": reason,
                "message": message,
                "type": type,
                "count": 1,
                "firstTimestamp": rfc3339(now),
                "lastTimestamp": rfc3339(now),
                # No eventTime: the kubelet's (legacy core/v1) recorder leaves it null, and
                # kube-apiserver requires `action` and `reportingInstance` of an Event that has one.
                "eventTime": None,
                "source": {"component": source_component}
                | ({"host": source_host} if source_host else {}),
                "reportingComponent": source_component,
                "reportingInstance": source_host or "",
            }
            for _ in range(_NAME_ATTEMPTS):
                try:
                    created = self._store.create(event)
                except AlreadyExistsError:
                    event["metadata"]["name"] += "x"
                    continue
                self._index[key] = created["metadata"]["name"]
                return created
        raise AlreadyExistsError(f"cannot name an Event for {ref.get('name')}: all names taken")
