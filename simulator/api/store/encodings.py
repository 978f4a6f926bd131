"""Each stored object's JSON, encoded once and re-sent by every list until the object changes.

Stored objects never change (copy-on-write), so the bytes of one stay right for as long as the
store holds that very dict: a list of thousands of pods joins cached bytes instead of walking
thousands of dicts scattered over the heap (kube-apiserver's watch cache keeps serialised
objects for the same reason). An entry remembers the dict it was made from, so a replaced
object is never answered with its predecessor's bytes.
"""

from __future__ import annotations

import threading
from typing import Any

import msgspec

from simulator.api.kinds import KindInfo
from simulator.api.store.event_views import is_view, to_view

__all__ = ["Encodings"]

Obj = dict[str, Any]
Key = tuple[str, str]
_ENC = msgspec.json.Encoder()
_TYPE_KEYS = frozenset({"apiVersion", "kind"})


class Encodings:
    """(group, plural) -> (namespace, name) -> (the stored dict, its JSON)."""

    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock  # the store's: an entry is kept only while its dict is the stored one
        self._by_resource: dict[tuple[str, str], dict[Key, tuple[Obj, bytes]]] = {}

    def forget(self, group: str, plural: str, key: Key) -> None:
        """The object at `key` was replaced or removed (the caller holds the store's lock)."""
        cached = self._by_resource.get((group, plural))
        if cached:
            cached.pop(key, None)

    def of(self, info: KindInfo, items: list[Obj], stored: dict[Key, Obj]) -> list[bytes]:
        """The JSON of each of `items` (stored objects of `info`) as a list answer's item, in the
        version asked for."""
        cached = self._by_resource.setdefault((info.group, info.plural), {})
        out: list[bytes] = []
        fresh: list[tuple[Key, Obj, bytes]] = []
        for obj in items:
            meta = obj["metadata"]
            key = (meta.get("namespace", ""), meta["name"])
            entry = cached.get(key)
            if entry is not None and entry[0] is obj:
                out.append(entry[1])
                continue
            if is_view(info):  # another resource's storage: answered converted, not cached
                view = to_view(obj)
                out.append(_ENC.encode({k: v for k, v in view.items() if k not in _TYPE_KEYS}))
                continue
            if not info.crd_name:
                # A built-in list is typed: its items carry no apiVersion and kind of their own.
                data = _ENC.encode({k: v for k, v in obj.items() if k not in _TYPE_KEYS})
            elif obj.get("apiVersion") != info.api_version:
                # Another version of the group: answered rewritten, not cached.
                out.append(_ENC.encode({**obj, "apiVersion": info.api_version}))
                continue
            else:
                # Custom resources list as unstructured objects, each keeping apiVersion and kind.
                data = _ENC.encode(obj)
            out.append(data)
            fresh.append((key, obj, data))
        if fresh:
            with self._lock:
                for key, obj, data in fresh:
                    if stored.get(key) is obj:  # not replaced or removed meanwhile
                        cached[key] = (obj, data)
        return out
