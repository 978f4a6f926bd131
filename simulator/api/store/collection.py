"""Garbage collection by ownerReferences, as kube-controller-manager's collector does it.

Deleting an owner with `propagationPolicy` Background (the default) deletes its dependents
after it; Foreground keeps the owner, marked with the `foregroundDeletion` finalizer, until its
dependents are gone; Orphan removes the owner's reference from its dependents and leaves them.
"""

from __future__ import annotations

import contextlib
from typing import Any, Protocol

from simulator.api.kind_registry import KindRegistry
from simulator.api.kinds import KindInfo
from simulator.api.store.buckets import Buckets
from simulator.api.store.errors import NotFoundError

__all__ = ["FOREGROUND", "Collector"]

Obj = dict[str, Any]
FOREGROUND = "foregroundDeletion"


class _Deleter(Protocol):
    def delete(
        self,
        api_version: str,
        kind: str,
        name: str,
        namespace: str | None = None,
        *,
        dry_run: bool = False,
        propagation: str | None = None,
    ) -> Obj: ...

    def patch(  # noqa: PLR0917 - the Store's positional order
        self,
        api_version: str,
        kind: str,
        name: str,
        patch: Any,
        patch_type: Any = "merge",
        namespace: str | None = None,
    ) -> Obj: ...


class Collector:
    """Finds and deletes (or orphans) the dependents of a deleted owner."""

    def __init__(self, store: _Deleter, buckets: Buckets, registry: KindRegistry) -> None:
        self._store = store
        self._buckets = buckets
        self._registry = registry

    def dependents(self, uid: str) -> list[tuple[KindInfo, Obj]]:
        """Every stored object with an ownerReference to `uid` (the caller holds the lock)."""
        found = []
        for kind in self._registry.all():
            for obj in list(self._buckets.of_resource(kind.group, kind.plural).values()):
                refs = obj["metadata"].get("ownerReferences") or []
                if any(ref.get("uid") == uid for ref in refs):
                    found.append((kind, obj))
        return found

    def collect(self, dependents: list[tuple[KindInfo, Obj]]) -> None:
        """Delete the dependents of a deleted owner (each in the background)."""
        for kind, obj in dependents:
            meta = obj["metadata"]
            with contextlib.suppress(NotFoundError):  # gone with an earlier cascade
                self._store.delete(
                    kind.api_version, kind.plural, meta["name"], meta.get("namespace")
                )

    def orphan(self, uid: str, dependents: list[tuple[KindInfo, Obj]]) -> None:
        """Drop the owner's references from its dependents, which then stay."""
        for kind, obj in dependents:
            meta = obj["metadata"]
            kept = [r for r in meta.get("ownerReferences") or [] if r.get("uid") != uid]
            with contextlib.suppress(NotFoundError):
                self._store.patch(
                    kind.api_version,
                    kind.plural,
                    meta["name"],
                    {"metadata": {"ownerReferences": kept or None}},
                    "merge",
                    meta.get("namespace"),
                )

    def release(self, owners: list[tuple[KindInfo, Obj]]) -> None:
        """Owners waiting in foreground deletion whose dependents are all gone now go too."""
        for kind, owner in owners:
            meta = owner["metadata"]
            finalizers = [f for f in meta.get("finalizers") or [] if f != FOREGROUND]
            with contextlib.suppress(NotFoundError):
                self._store.patch(
                    kind.api_version,
                    kind.plural,
                    meta["name"],
                    {"metadata": {"finalizers": finalizers or None}},
                    "merge",
                    meta.get("namespace"),
                )

    def ownerless(self, obj: Obj) -> bool:
        """Whether `obj` names owners and none of them exists: the collector deletes such a
        dependent (its owner went while a controller was still writing it)."""
        refs = obj["metadata"].get("ownerReferences")
        if not refs:
            return False  # most objects (asked on every write)
        if any(not ref.get("uid") for ref in refs):
            return False  # a trusted write's reference by name only (the API requires a uid)
        namespace = obj["metadata"].get("namespace") or ""
        return not any(self._owner_stored(ref, namespace) for ref in refs)

    def _owner_stored(self, ref: Obj, namespace: str) -> bool:
        """Whether the owner `ref` names is stored with the uid it names. Asked on every write
        with owners (each pod a controller makes): the kind by its name first, every served
        version of it only when the reference's version is not served."""
        api_version, kind_name = str(ref.get("apiVersion", "")), str(ref.get("kind", ""))
        served = self._registry.by_kind(api_version, kind_name)
        group = api_version.rpartition("/")[0]
        kinds = (
            [served]
            if served is not None
            else [k for k in self._registry.all() if (k.group, k.kind) == (group, kind_name)]
        )
        for kind in kinds:
            key = (namespace if kind.namespaced else "", str(ref.get("name", "")))
            owner = self._buckets.of_resource(kind.group, kind.plural).get(key)
            if owner is not None and owner["metadata"].get("uid") == ref.get("uid"):
                return True
        return False

    def waiting_owners(self, obj: Obj) -> list[tuple[KindInfo, Obj]]:
        """The owners of `obj` in foreground deletion that no dependent holds any more."""
        waiting = []
        for ref in obj["metadata"].get("ownerReferences") or []:
            for kind in self._registry.all():
                if kind.kind != ref.get("kind"):
                    continue
                bucket = self._buckets.of_resource(kind.group, kind.plural)
                for owner in bucket.values():
                    meta = owner["metadata"]
                    if (
                        meta.get("uid") == ref.get("uid")
                        and FOREGROUND in (meta.get("finalizers") or [])
                        and not self.dependents(str(meta["uid"]))
                    ):
                        waiting.append((kind, owner))
        return waiting
