"""`ObjectStore`: the simulated cluster's objects in memory, the single source of truth.

Stored objects are copy-on-write (a write stores a new dict; stored dicts never change), so lists
are serialised without copying and readers never see half a write. Python callers (the world) are
lenient: status given to `create` is kept and a missing namespace is created; the HTTP layer
passes `strict=True` for the API server's rules (status ignored on main-resource writes, 404)."""

from __future__ import annotations

import builtins
import functools
import threading
from collections.abc import Callable
from typing import Any

from simulator.api.kind_registry import KindRegistry
from simulator.api.kinds import KindInfo, is_crd
from simulator.api.selectors import FieldSelector, LabelSelector
from simulator.api.store.applying import applied_object, apply_configuration, mutation, track_update
from simulator.api.store.buckets import Buckets
from simulator.api.store.cascade import dependents
from simulator.api.store.collection import FOREGROUND, Collector
from simulator.api.store.containers import ContainerLogs, ExecHandlers
from simulator.api.store.default_classes import admit_class
from simulator.api.store.defaults import crd_established, default_fields, fill_on_create
from simulator.api.store.deleting import crd_cleaned, deleted_by_update, deletion
from simulator.api.store.errors import InvalidError, NotFoundError
from simulator.api.store.event_views import is_view, storage_form, storage_key, to_view
from simulator.api.store.events import EventRecorder
from simulator.api.store.history import WatchHistory
from simulator.api.store.namespaces import admit, controller_pass, is_namespace, refuse_immortal
from simulator.api.store.object_meta import check_update
from simulator.api.store.patch_bodies import changes_nothing
from simulator.api.store.pod_admission import admit_pod, readmit_pod
from simulator.api.store.pod_security import KUBE_APISERVER
from simulator.api.store.protocol import WORLD_MANAGER, PatchType
from simulator.api.store.rules import (
    check_preconditions,
    claim_name,
    copy_object,
    merge_update,
    name_new_object,
    not_found,
    parse_fields,
    parse_labels,
    parse_patch_body,
    present,
    same,
    sort_key,
    stamp_new_object,
    stored_namespace,
    would_store,
)
from simulator.api.store.service_allocation import allocate_service
from simulator.api.store.subscriptions import Subscriptions
from simulator.api.store.volume_protection import VolumeProtection, admit_volume
from simulator.clock import VirtualClock, rfc3339

__all__ = ["ObjectStore"]


Obj = dict[str, Any]
ObjList = list[Obj]

_DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


class ObjectStore:
    """In-memory Kubernetes objects with resourceVersions and watch history (a `Store`).

    Thread-safe: the world engine writes from any thread, the API server from its event loop.
    Subscribers are called after each change, outside the lock: they may write to the store.
    """

    def __init__(
        self,
        clock: VirtualClock,
        *,
        history_limit: int = 10_000,
        registry: KindRegistry | None = None,
    ) -> None:
        self.clock = clock
        self.registry = registry or KindRegistry()
        self.changes = Subscriptions()
        self.events = EventRecorder(self)
        self.logs = ContainerLogs(on_write=self.changes.wake)
        self.execs = ExecHandlers()
        self._lock = threading.RLock()
        # Watches read `history.since(rv)`; `history.compact()` is etcd compaction (then 410).
        self.history = WatchHistory(history_limit)
        self._objects = Buckets(self._lock)
        self._collector = Collector(self, self._objects, self.registry)
        VolumeProtection(self, self._objects, self._lock)  # it hears the changes it acts on
        # Namespaces deleted here, which a lenient write must not bring back (their create may).
        self._deleted_namespaces: set[str] = set()
        self.pod_security = KUBE_APISERVER  # a plain kube-apiserver's defaults (TALOS: Talos's)
        for ns in _DEFAULT_NAMESPACES:
            self.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})

    # ----------------------------------------------------------------- reading

    @property
    def resource_version(self) -> int:
        """The latest resourceVersion handed out (the cluster's 'now')."""
        with self._lock:
            return self.history.rv

    def kind_info(self, api_version: str, kind: str) -> KindInfo:
        """The registered kind for `api_version` and Kind or plural; NotFoundError when unknown."""
        info = self.registry.by_kind(api_version, kind)
        if info is None:
            raise NotFoundError(
                f'the server could not find the requested resource ({kind} in "{api_version}")'
            )
        return info

    def get(
        self, api_version: str, kind: str, name: str, namespace: str | None = None
    ) -> dict[str, Any] | None:
        """A copy of the object, or None when absent."""
        info = self.kind_info(api_version, kind)
        with self._lock:
            obj = self._objects.of(info).get((stored_namespace(info, namespace), name))
        return None if obj is None else present(info, copy_object(obj))

    def list(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> ObjList:
        """Copies of the matching objects, ordered by namespace then name."""
        info = self.kind_info(api_version, kind)
        items, _ = self.list_refs(
            info,
            namespace=namespace,
            labels=parse_labels(label_selector),
            fields=parse_fields(field_selector),
        )
        return [present(info, copy_object(o)) for o in items]

    def list_refs(
        self,
        info: KindInfo,
        *,
        namespace: str | None = None,
        labels: LabelSelector | None = None,
        fields: FieldSelector | None = None,
    ) -> tuple[ObjList, int]:
        """The stored (read-only) matching objects and the list's resourceVersion (the HTTP
        server serialises large lists from them without copying)."""
        with self._lock:
            items = self._objects.select(info, namespace, labels, fields)
            rv = self.history.rv
        items.sort(key=sort_key)
        return items, rv

    def encoded(self, info: KindInfo, items: ObjList) -> builtins.list[bytes]:
        """The JSON of stored objects from `list_refs` (each encoded once while it is stored)."""
        return self._objects.encoded(info, items)

    # ----------------------------------------------------------------- writing

    def create(
        self,
        obj: dict[str, Any],
        *,
        dry_run: bool = False,
        strict: bool = False,
        field_manager: str | None = None,
        copy: bool = True,
        admitted: bool = False,
    ) -> dict[str, Any]:
        """Store a new object; sets uid, creationTimestamp, resourceVersion and generation.

        `copy=False` hands `obj` over to the store and returns the stored object itself, which
        the caller must then treat as read-only (the HTTP server's fast path). `admitted`: a
        pod the world's controllers create, refused as the API refuses it (and only that).
        """
        api_version = str(obj.get("apiVersion", ""))
        info = self.kind_info(api_version, str(obj.get("kind", "")))
        new = copy_object(obj) if copy else obj
        meta = new.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise InvalidError(f"{info.kind} is invalid: metadata must be an object")
        if strict and info.has_status:
            new.pop("status", None)
        if strict:  # decoded (so defaulted), then checked; what storage assigns comes later
            default_fields(info, new, assigned=bool(info.crd_name or is_crd(info)))
        name_new_object(info, new, strict=strict)
        if info.namespaced:
            meta["namespace"] = str(meta.get("namespace") or "default")
        else:
            meta.pop("namespace", None)
        with self._lock:
            ns = meta.get("namespace", "")
            if info.namespaced and admit(
                self._objects, self._deleted_namespaces, info, meta, strict
            ):
                if not dry_run:
                    self.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
            elif is_namespace(info) and not dry_run:
                self._deleted_namespaces.discard(str(meta["name"]))
            claim_name(info, meta, self._objects.of(info))
            now = self.clock.now()
            stamp_new_object(info, meta, now)
            stamp = str(meta["creationTimestamp"])
            if field_manager:
                if not strict:  # an API write was defaulted before its checks already
                    default_fields(info, new, assigned=False)
                track_update(info, None, new, manager=field_manager, subresource=None, now=stamp)
            admit_pod(self._objects, info, new, strict or admitted, self.pod_security)
            admit_class(self._objects, info, new)  # DefaultStorageClass, DefaultIngressClass
            admit_volume(self._objects, info, new)
            fill_on_create(info, new, now)
            allocate_service(info, self._objects.of(info), new, None)
            new["apiVersion"] = info.api_version
            new["kind"] = info.kind
            new = storage_form(info, new)  # events.k8s.io's Events are kept as core/v1's
            if dry_run:  # nothing was stored, so there is no resourceVersion to tell
                return present(info, new)
            self._commit(info, "ADDED", new)
        self._after_commit(info, "ADDED", new)
        if self._collector.ownerless(new):
            self._collector.collect([(info, new)])
        return present(info, copy_object(new) if copy else new)

    def replace(
        self,
        obj: dict[str, Any],
        *,
        subresource: str | None = None,
        dry_run: bool = False,
        strict: bool = False,
        field_manager: str | None = None,
    ) -> dict[str, Any]:
        """Replace an existing object (PUT); a stale metadata.resourceVersion is a ConflictError."""
        info = self.kind_info(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
        meta = obj.get("metadata") or {}
        name = str(meta.get("name") or "")
        if not name:
            raise InvalidError(f"{info.kind} is invalid: metadata.name: Required value")
        return self._update(
            info,
            name,
            meta.get("namespace"),
            lambda _live: copy_object(obj),
            subresource=subresource,
            dry_run=dry_run,
            strict=strict,
            manager=field_manager or WORLD_MANAGER,
        )

    def patch(  # noqa: PLR0917 - positional order is the published interface
        self,
        api_version: str,
        kind: str,
        name: str,
        patch: Any,
        patch_type: PatchType = "merge",
        namespace: str | None = None,
        subresource: str | None = None,
        *,
        dry_run: bool = False,
        strict: bool = False,
        field_manager: str | None = None,
        force: bool = False,
        decoded: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        """Apply a json/merge/strategic/apply patch; "apply" creates the object when absent.
        `decoded` sees the patched object before it is stored, as kube-apiserver decodes it."""
        info = self.kind_info(api_version, kind)
        body = parse_patch_body(patch, patch_type)
        ns = stored_namespace(info, namespace)
        applying = patch_type == "apply"
        if applying:
            changes_nothing(patch_type, body)  # a 400 for an apply patch that is no object
        manager, now = field_manager or "", rfc3339(self.clock.now())
        apply = functools.partial(apply_configuration, info, manager=manager, force=force, now=now)
        if applying:
            with self._lock:
                if (ns, name) not in self._objects.of(info) and subresource is None:
                    created = apply(None, applied_object(info, ns, name, body), subresource=None)
                    return self.create(created, dry_run=dry_run, strict=strict)
        apply = functools.partial(apply, subresource=subresource)
        mutate = mutation(
            patch_type, body, info=info, name=name, apply=apply, typed=strict, decoded=decoded
        )
        return self._update(
            info,
            name,
            namespace,
            mutate,
            subresource=subresource,
            dry_run=dry_run,
            strict=strict,
            manager=None if applying else field_manager or WORLD_MANAGER,
            patching=True,
        )

    patch_status = functools.partialmethod(patch, subresource="status")  # `{"status": {...}}`

    def delete(
        self,
        api_version: str,
        kind: str,
        name: str,
        namespace: str | None = None,
        *,
        dry_run: bool = False,
        propagation: str | None = None,
        grace_period: int | None = None,
        preconditions: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Delete (or, with finalizers or a grace period, mark for deletion); NotFoundError.

        DeleteOptions: `propagation` is the policy for dependents, Background (default),
        Foreground or Orphan (see `collection.Collector`); `grace_period` a pod's seconds to
        terminate (see `deleting`); `preconditions` its `uid` and `resourceVersion` (409 when
        the object is another, or has changed since).
        """
        info = self.kind_info(api_version, kind)
        ns = stored_namespace(info, namespace)
        refuse_immortal(info, name)
        with self._lock:
            live = self._objects.of(info).get((ns, name))
            if live is None:
                raise not_found(info, name)
            check_preconditions(info, live, preconditions or {})
            if dry_run:
                return present(info, copy_object(live))
            uid = str(live["metadata"].get("uid"))
            dependents = self._collector.dependents(uid)
            if propagation == "Orphan":
                self._collector.orphan(uid, dependents)
                dependents = []
            action, marked = deletion(
                info,
                live,
                foreground=propagation == "Foreground",
                grace_period=grace_period,
                now=self.clock.now(),
            )
            if action == "PENDING":
                return present(info, copy_object(live))
            if marked is None:
                event, result = "DELETED", self._remove_locked(info, live)
            else:
                self._commit(info, "MODIFIED", marked)
                event, result = action, marked
        if event == "TERMINATING":
            self._after_commit(info, "MODIFIED", result)
            with self._lock:
                content = self._objects.content(self.registry, name)
            self._collector.collect(content)
            self._finalize_namespace(name)
            return present(info, copy_object(result))
        self._after_commit(info, event, result)
        if FOREGROUND in (result["metadata"].get("finalizers") or []):
            self._collector.collect(dependents)  # then the owner goes, when none is left
            self._collector.release([] if dependents else [(info, result)])
        if event == "DELETED":
            self._after_removal(info, result)
        return present(info, copy_object(result))

    # ----------------------------------------------------------------- internals

    def _finalize_namespace(self, ns: str) -> None:
        """The namespace controller's pass over a terminating namespace, content left or not."""
        with self._lock:
            if (namespace := self._objects.namespace(ns)) is None:
                return
            info = self.kind_info("v1", "Namespace")
            left = functools.partial(self._objects.content, self.registry, ns)  # read if deleted
            writes = controller_pass(info, namespace, left, self.clock.now())
            for index, (event, obj) in enumerate(writes):
                if event == "MODIFIED":
                    self._commit(info, event, obj)
                else:  # the DELETED event's object carries the deletion's resourceVersion
                    writes[index] = (event, self._remove_locked(info, obj))
                    self._deleted_namespaces.add(ns)
        for event, obj in writes:
            self._after_commit(info, event, obj)

    def _after_removal(self, info: KindInfo, obj: dict[str, Any]) -> None:
        """Cascades, garbage collection, then owners and namespaces waiting for this one."""
        self._cascade(info, obj)
        with self._lock:
            dependents = self._collector.dependents(str(obj["metadata"].get("uid")))
            released = self._collector.waiting_owners(obj)
        self._collector.collect(dependents)
        self._collector.release(released)
        if info.namespaced:
            self._finalize_namespace(str(obj["metadata"].get("namespace", "")))

    def _update(
        self,
        info: KindInfo,
        name: str,
        namespace: str | None,
        mutate: Callable[[dict[str, Any]], dict[str, Any]],
        *,
        subresource: str | None,
        dry_run: bool,
        strict: bool,
        manager: str | None = None,
        patching: bool = False,
    ) -> dict[str, Any]:
        """A write of an existing object (see `check_update`); `manager` gains what it changed."""
        ns = stored_namespace(info, namespace)
        with self._lock:
            bucket = self._objects.of(info)
            stored = bucket.get((ns, name))
            if stored is None:
                raise not_found(info, name)
            live = to_view(stored) if is_view(info) else stored  # written in its version
            candidate = mutate(copy_object(live))
            if not isinstance(candidate, dict):
                raise InvalidError(f'{info.kind} "{name}" is invalid: not an object')
            if info.crd_name:  # decoded (so defaulted) whole, also for a write of its status
                default_fields(info, candidate)
            merged = would_store(info, live, candidate, subresource=subresource, strict=strict)
            sent = None  # the candidate as sent, when storage allocates into it (a Service)
            if subresource is None and not info.crd_name:  # admitted, defaulted, then validated
                readmit_pod(info, live, candidate)  # before the defaults' priority 0
                default_fields(info, candidate)
                sent = allocate_service(info, bucket, candidate, live)
            whole = subresource is None  # a subresource's write leaves the spec as it was
            check_update(info, live, candidate, patching, strict=strict, merged=merged, spec=whole)
            new = merged or merge_update(
                info, live, candidate, subresource=subresource, strict=strict, now=self.clock.now()
            )
            if manager and (strict or live["metadata"].get("managedFields")):
                now = rfc3339(self.clock.now())
                tracked = sent or new  # a manager owns what it sent, not what was allocated
                track_update(info, live, tracked, manager=manager, subresource=subresource, now=now)
                if sent is not None:
                    new["metadata"]["managedFields"] = sent["metadata"]["managedFields"]
            elif "managedFields" in candidate["metadata"]:  # an apply's, also through /status
                new["metadata"]["managedFields"] = candidate["metadata"]["managedFields"]
            new = storage_form(info, new)
            if same(stored, new):
                return present(info, copy_object(stored))
            if dry_run:
                return present(info, new)
            if deleted_by_update(info, new):
                new = self._remove_locked(info, new)
                event = "DELETED"
            else:
                self._commit(info, "MODIFIED", new)
                event = "MODIFIED"
        self._after_commit(info, event, new)
        if event == "DELETED":
            self._after_removal(info, new)
        return present(info, copy_object(new))

    def _commit(self, info: KindInfo, event_type: str, obj: dict[str, Any]) -> None:
        rv = self.history.next_rv()
        obj["metadata"]["resourceVersion"] = str(rv)
        previous = self._objects.put(info, obj)
        self.history.record(*storage_key(info.group, info.plural), rv, event_type, obj, previous)

    def _remove_locked(self, info: KindInfo, obj: dict[str, Any]) -> dict[str, Any]:
        self._objects.pop(info, obj)
        rv = self.history.next_rv()
        # The DELETED event carries the object at the deletion's resourceVersion.
        gone = copy_object(obj)
        gone["metadata"]["resourceVersion"] = str(rv)
        self.history.record(*storage_key(info.group, info.plural), rv, "DELETED", gone, obj)
        return gone

    def _after_commit(self, info: KindInfo, event_type: str, obj: dict[str, Any]) -> None:
        crd = is_crd(info)
        if crd and event_type == "DELETED":
            self.registry.remove_crd(obj["metadata"]["name"])
        elif crd:
            self.registry.add_crd(obj)
        shown = functools.partial(present, info) if not is_view(info) else dict  # stored form
        self.changes.publish(event_type, obj, lambda: shown(copy_object(obj)))
        if crd and event_type == "ADDED" and (accepted := crd_established(obj, self.clock.now())):
            self.patch(info.api_version, info.kind, obj["metadata"]["name"], accepted, "merge")
        elif crd and event_type == "MODIFIED" and (cleaned := crd_cleaned(obj)) is not None:
            self.patch(info.api_version, info.kind, obj["metadata"]["name"], cleaned, "merge")

    def _cascade(self, info: KindInfo, obj: dict[str, Any]) -> None:
        """Remove what goes with a deleted object (see `cascade.dependents`)."""
        with self._lock:
            seen: set[tuple[str, str, str, str]] = set()
            removed: builtins.list[tuple[KindInfo, Obj]] = []
            for kind, victim in dependents(self.registry, self._objects, info, obj):
                meta = victim["metadata"]
                key = (kind.group, kind.plural, meta.get("namespace", ""), meta["name"])
                if key in seen:
                    continue
                seen.add(key)
                removed.append((kind, self._remove_locked(kind, victim)))
        for kind, victim in removed:
            self._after_commit(kind, "DELETED", victim)
