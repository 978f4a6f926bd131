"""Where the store keeps its objects: by (group, plural), then by (namespace, name).

Versions of one group share storage. Not thread-safe by itself: the store's lock guards it
(`encoded` takes it while it keeps what it encoded).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from simulator.api.kind_registry import KindRegistry
from simulator.api.kinds import KindInfo
from simulator.api.selectors import FieldSelector, LabelSelector
from simulator.api.store.encodings import Encodings
from simulator.api.store.event_views import storage_key, stored_selector

__all__ = ["Buckets"]

Obj = dict[str, Any]
Bucket = dict[tuple[str, str], Obj]


class Buckets:
    """The stored objects; each stored dict is read-only (copy-on-write)."""

    def __init__(self, lock: threading.RLock) -> None:
        self._by_resource: dict[tuple[str, str], Bucket] = {}
        self._encodings = Encodings(lock)

    def of(self, info: KindInfo) -> Bucket:
        """The objects of one resource, by (namespace, name); read-only: `put` and `pop` write.
        A resource served from another's storage (events.k8s.io's Events) reads that one."""
        return self._by_resource.setdefault(storage_key(info.group, info.plural), {})

    def put(self, info: KindInfo, obj: Obj) -> Obj | None:
        """Store `obj` (new or replacing); returns the object it replaced."""
        meta = obj["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        bucket = self.of(info)
        previous = bucket.get(key)
        bucket[key] = obj
        self._encodings.forget(*storage_key(info.group, info.plural), key)
        return previous

    def pop(self, info: KindInfo, obj: Obj) -> None:
        """Remove the object stored where `obj` is."""
        meta = obj["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        self.of(info).pop(key, None)
        self._encodings.forget(*storage_key(info.group, info.plural), key)

    def encoded(self, info: KindInfo, items: list[Obj]) -> list[bytes]:
        """The JSON of stored objects of `info`, each encoded once while it is stored."""
        return self._encodings.of(info, items, self.of(info))

    def of_resource(self, group: str, plural: str) -> Bucket:
        """The objects of a resource named by group and plural (empty when none)."""
        return self._by_resource.get((group, plural), {})

    def namespace(self, name: str) -> Obj | None:
        """The stored Namespace called `name`."""
        return self.of_resource("", "namespaces").get(("", name))

    def content(self, registry: KindRegistry, namespace: str) -> list[tuple[KindInfo, Obj]]:
        """Every namespaced object in `namespace`, by served kind."""
        found: list[tuple[KindInfo, Obj]] = []
        seen: set[tuple[str, str]] = set()
        for kind in registry.all():
            if not kind.namespaced or (kind.group, kind.plural) in seen:
                continue
            seen.add((kind.group, kind.plural))
            bucket = self.of_resource(kind.group, kind.plural)
            found.extend((kind, o) for (ns, _), o in list(bucket.items()) if ns == namespace)
        return found

    def select(
        self,
        info: KindInfo,
        namespace: str | None,
        labels: LabelSelector | None,
        fields: FieldSelector | None,
    ) -> list[Obj]:
        """The stored objects of `info` in `namespace` (all when None) matching the selectors."""
        bucket = self.of(info)
        fields = stored_selector(info, fields)
        candidates: Iterable[Obj]
        if fields is not None and fields.name is not None and namespace:
            one = bucket.get((namespace, fields.name))
            candidates = [one] if one is not None else []
        else:
            candidates = bucket.values()
        return [
            o
            for o in candidates
            if (not namespace or o["metadata"].get("namespace") == namespace)
            and (labels is None or labels.matches(o["metadata"].get("labels")))
            and (fields is None or fields.matches(o))
        ]
