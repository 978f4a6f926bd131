"""The fake API's in-memory object store: the single source of truth of the simulated cluster.

Objects are kept copy-on-write (a write stores a new dict, stored dicts are never mutated), so the
HTTP server can serialise list answers without copying and readers never see half-written objects.
Every change gets the next cluster-wide resourceVersion and is recorded in a bounded history that
watches replay from; asking for a resourceVersion older than that history is a 410 Expired, as
against a compacted etcd.

Python callers (the world engine, scenarios, neighbours) use the public methods; they are
lenient where a real server would be strict about who may write what (status given to `create`
is kept, a missing namespace is created). The HTTP layer passes `strict=True` to get the
API server's rules: status ignored on main-resource writes of kinds with a status subresource,
404 for a missing namespace.
"""

from __future__ import annotations

import builtins
import collections
import random
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, cast

import msgspec
import yaml

from simulator.api.kinds import KindInfo, KindRegistry
from simulator.api.patching import (
    PatchError,
    apply_json_patch,
    apply_merge_patch,
    apply_strategic_merge_patch,
    removal_patch,
)
from simulator.api.selectors import (
    FieldSelector,
    LabelSelector,
    SelectorError,
    parse_field_selector,
    parse_label_selector,
)
from simulator.clock import VirtualClock
from simulator.errors import SimulatorError

__all__ = [
    "AlreadyExistsError",
    "BadRequestError",
    "ConflictError",
    "ExecHandler",
    "ExpiredError",
    "InvalidError",
    "NotFoundError",
    "ObjectStore",
    "StoreError",
    "Subscriber",
    "UnsupportedMediaTypeError",
    "WatchEvent",
    "format_time",
]

EventType = Literal["ADDED", "MODIFIED", "DELETED"]
PatchType = Literal["json", "merge", "strategic", "apply"]
Subscriber = Callable[[str, dict[str, Any]], None]
ExecHandler = Callable[[str, str, str, list[str]], "tuple[str, str, int] | None"]

Obj = dict[str, Any]
ObjList = list[dict[str, Any]]
WatchEvents = list["WatchEvent"]

_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # the API server's generateName alphabet
_DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
_TOP_LEVEL_NON_SPEC = frozenset({"apiVersion", "kind", "metadata", "status"})
_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder()


def format_time(instant: datetime, *, micro: bool = False) -> str:
    """RFC 3339 as Kubernetes writes it (`2026-01-01T00:00:00Z`, MicroTime with micro=True)."""
    t = instant.astimezone(UTC)
    # f-strings: several times faster than strftime on the create path.
    base = f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
    return f"{base}.{t.microsecond:06d}Z" if micro else f"{base}Z"


def _copy(obj: dict[str, Any]) -> dict[str, Any]:
    # A JSON round trip is several times faster than copy.deepcopy for API objects.
    return cast("dict[str, Any]", _DECODER.decode(_ENCODER.encode(obj)))


class StoreError(SimulatorError):
    """Root of the store's errors; each maps to a Kubernetes Status (`code`, `reason`)."""

    code = 500
    reason = "InternalError"

    def __init__(
        self,
        message: str,
        *,
        name: str = "",
        group: str = "",
        kind: str = "",
        causes: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.name = name
        self.group = group
        self.kind = kind
        self.causes = causes or []

    def status(self) -> dict[str, Any]:
        """The `Status` object a real API server answers with."""
        details: dict[str, Any] = {}
        if self.name:
            details["name"] = self.name
        if self.group:
            details["group"] = self.group
        if self.kind:
            details["kind"] = self.kind
        if self.causes:
            details["causes"] = self.causes
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if details:
            body["details"] = details
        return body


class NotFoundError(StoreError):
    """404: the object, or its kind, does not exist."""

    code = 404
    reason = "NotFound"


class AlreadyExistsError(StoreError):
    """409: create of a name that exists."""

    code = 409
    reason = "AlreadyExists"


class ConflictError(StoreError):
    """409: write with a stale resourceVersion."""

    code = 409
    reason = "Conflict"


class InvalidError(StoreError):
    """422: the object fails validation (e.g. no name)."""

    code = 422
    reason = "Invalid"


class BadRequestError(StoreError):
    """400: malformed request (selector, patch body)."""

    code = 400
    reason = "BadRequest"


class ExpiredError(StoreError):
    """410: the resourceVersion is older than the retained watch history."""

    code = 410
    reason = "Expired"


class UnsupportedMediaTypeError(StoreError):
    """415: e.g. a strategic merge patch against a custom resource."""

    code = 415
    reason = "UnsupportedMediaType"


@dataclass(frozen=True)
class WatchEvent:
    """One change in the history: its resourceVersion, type, resource key and object."""

    rv: int
    type: str
    group: str
    plural: str
    namespace: str
    obj: dict[str, Any]
    # The object before a MODIFIED, so a selector watch can turn it into ADDED/DELETED.
    previous: dict[str, Any] | None = None


def _resource_label(info: KindInfo) -> str:
    return info.plural if not info.group else f"{info.plural}.{info.group}"


class ObjectStore:
    """In-memory Kubernetes objects with resourceVersions, watch history, logs and exec handlers.

    Thread-safe: the world engine may call it from any thread while the API server runs on its
    own event loop. Subscribers are called synchronously after each change, outside the lock, so
    they may write to the store themselves.
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
        self._lock = threading.RLock()
        self._rv = 0
        # (group, plural) -> {(namespace, name): object}; versions of one group share storage.
        self._objects: dict[tuple[str, str], dict[tuple[str, str], dict[str, Any]]] = {}
        self._history: collections.deque[WatchEvent] = collections.deque(maxlen=history_limit)
        self._subscribers: list[Subscriber] = []
        self._listeners: list[Callable[[], None]] = []
        self._logs: dict[tuple[str, str, str], str] = {}
        self._exec_handlers: list[ExecHandler] = []
        self._event_index: dict[tuple[str, str, str, str, str], str] = {}
        # Server-side apply: the last configuration each manager applied to each object.
        self._applied: dict[tuple[str, str, str, str, str], dict[str, Any]] = {}
        for ns in _DEFAULT_NAMESPACES:
            self.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})

    # ----------------------------------------------------------------- reading

    @property
    def resource_version(self) -> int:
        """The latest resourceVersion handed out (the cluster's 'now')."""
        with self._lock:
            return self._rv

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
            obj = self._bucket(info).get((self._ns(info, namespace), name))
        return None if obj is None else self._present(info, _copy(obj))

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
            labels=_parse_labels(label_selector),
            fields=_parse_fields(field_selector),
        )
        return [self._present(info, _copy(o)) for o in items]

    def list_refs(
        self,
        info: KindInfo,
        *,
        namespace: str | None = None,
        labels: LabelSelector | None = None,
        fields: FieldSelector | None = None,
    ) -> tuple[ObjList, int]:
        """The stored (read-only, never mutated) matching objects and the list's resourceVersion.

        Used by the HTTP server to serialise large lists without copying them.
        """
        with self._lock:
            bucket = self._bucket(info)
            rv = self._rv
            if fields is not None and fields.name is not None and namespace:
                one = bucket.get((namespace, fields.name))
                candidates: Iterable[dict[str, Any]] = [one] if one is not None else []
            else:
                candidates = bucket.values()
            items = [
                o
                for o in candidates
                if (not namespace or o["metadata"].get("namespace") == namespace)
                and (labels is None or labels.matches(o["metadata"].get("labels")))
                and (fields is None or fields.matches(o))
            ]
        items.sort(key=_sort_key)
        return items, rv

    def events_since(self, rv: int) -> WatchEvents:
        """History entries with resourceVersion > rv; ExpiredError when rv is already compacted."""
        with self._lock:
            if rv >= self._rv:
                return []
            if not self._history or self._history[0].rv > rv + 1:
                raise ExpiredError(f"too old resource version: {rv} ({self._oldest_rv()})")
            # History rvs are consecutive, so the start index is an offset.
            start = rv + 1 - self._history[0].rv
            history = builtins.list(self._history)
            return history[start:] if start > 0 else history

    def compact(self) -> None:
        """Forget the watch history (like etcd compaction): older resourceVersions become 410."""
        with self._lock:
            self._history.clear()

    # ----------------------------------------------------------------- writing

    def create(  # noqa: PLR0912 - one linear pass over the creation rules
        self,
        obj: dict[str, Any],
        *,
        dry_run: bool = False,
        strict: bool = False,
        field_manager: str | None = None,
        copy: bool = True,
    ) -> dict[str, Any]:
        """Store a new object; sets uid, creationTimestamp, resourceVersion and generation.

        `copy=False` hands `obj` over to the store and returns the stored object itself, which
        the caller must then treat as read-only (the HTTP server's fast path).
        """
        api_version = str(obj.get("apiVersion", ""))
        info = self.kind_info(api_version, str(obj.get("kind", "")))
        new = _copy(obj) if copy else obj
        meta = new.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise InvalidError(f"{info.kind} is invalid: metadata must be an object")
        if not meta.get("name"):
            if meta.get("generateName"):
                # Uniqueness, not secrecy: the fast PRNG keeps bulk creates cheap.
                suffix = "".join(random.choices(_NAME_ALPHABET, k=5))  # noqa: S311
                meta["name"] = f"{meta['generateName']}{suffix}"
            else:
                raise InvalidError(
                    f'{info.kind} "" is invalid: metadata.name: Required value: '
                    "name or generateName is required",
                    kind=info.kind,
                    group=info.group,
                    causes=[
                        {
                            "reason": "FieldValueRequired",
                            "message": "Required value: name or generateName is required",
                            "field": "metadata.name",
                        }
                    ],
                )
        name = str(meta["name"])
        if info.namespaced:
            meta["namespace"] = str(meta.get("namespace") or "default")
        else:
            meta.pop("namespace", None)
        if strict and info.has_status:
            new.pop("status", None)
        with self._lock:
            ns = meta.get("namespace", "")
            if info.namespaced and not self._namespace_exists(ns):
                if strict:
                    raise NotFoundError(f'namespaces "{ns}" not found', name=ns, kind="namespaces")
                if not dry_run:
                    self.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
            bucket = self._bucket(info)
            generated = meta.get("generateName") and name.startswith(meta["generateName"])
            for _ in range(8 if generated else 0):
                # Like the API server, retry a generated name that collides.
                if (ns, name) not in bucket:
                    break
                name = f"{meta['generateName']}{''.join(random.choices(_NAME_ALPHABET, k=5))}"  # noqa: S311
                meta["name"] = name
            if (ns, name) in bucket:
                raise AlreadyExistsError(
                    f'{_resource_label(info)} "{name}" already exists',
                    name=name,
                    group=info.group,
                    kind=info.plural,
                )
            now = self.clock.now()
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = format_time(now)
            meta["generation"] = 1
            meta.pop("deletionTimestamp", None)
            if field_manager:
                meta["managedFields"] = [_managed_entry(field_manager, "Update", api_version, now)]
            _defaults(info, new, now)
            new["apiVersion"] = info.api_version
            new["kind"] = info.kind
            if dry_run:
                meta["resourceVersion"] = str(self._rv)
                return self._present(info, new)
            self._commit(info, "ADDED", new)
        self._after_commit(info, "ADDED", new)
        return self._present(info, _copy(new)) if copy else new

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
            lambda _live: _copy(obj),
            subresource=subresource,
            dry_run=dry_run,
            strict=strict,
            check_rv=str(meta.get("resourceVersion") or ""),
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
    ) -> dict[str, Any]:
        """Apply a json/merge/strategic/apply patch; "apply" creates the object when absent."""
        info = self.kind_info(api_version, kind)
        body = _parse_patch_body(patch, patch_type)
        if patch_type == "strategic" and info.crd_name and strict:
            raise UnsupportedMediaTypeError(
                "the body of the request was in an unknown format - accepted media types "
                "include: application/json-patch+json, application/merge-patch+json, "
                "application/apply-patch+yaml"
            )
        if patch_type == "apply":
            if not isinstance(body, dict):
                raise BadRequestError("an apply patch must be an object")
            with self._lock:
                exists = (self._ns(info, namespace), name) in self._bucket(info)
                if not exists and subresource is None:
                    obj = dict(body)
                    obj.setdefault("metadata", {})
                    obj["metadata"] = {**obj["metadata"], "name": name}
                    if info.namespaced:
                        obj["metadata"]["namespace"] = self._ns(info, namespace)
                    created = self.create(
                        obj, dry_run=dry_run, strict=strict, field_manager=field_manager
                    )
                    if not dry_run:
                        self._applied[self._apply_key(info, namespace, name, field_manager)] = (
                            _copy(_without_rv(body, "apply"))
                        )
                    return created

        def mutate(live: dict[str, Any]) -> dict[str, Any]:
            try:
                if patch_type == "json":
                    return dict(apply_json_patch(live, body))
                if patch_type == "merge":
                    return dict(apply_merge_patch(live, body))
                if patch_type == "apply":
                    return self._server_side_apply(
                        info,
                        live,
                        body,
                        key=self._apply_key(info, namespace, name, field_manager),
                        record=not dry_run,
                    )
                if patch_type == "strategic":
                    return dict(apply_strategic_merge_patch(live, body))
            except PatchError as exc:
                raise InvalidError(str(exc), name=name, kind=info.plural) from exc
            raise BadRequestError(f"unknown patch type {patch_type!r}")

        return self._update(
            info,
            name,
            namespace,
            mutate,
            subresource=subresource,
            dry_run=dry_run,
            strict=strict,
            check_rv=None,
        )

    def _apply_key(
        self, info: KindInfo, namespace: str | None, name: str, manager: str | None
    ) -> tuple[str, str, str, str, str]:
        return (info.group, info.plural, self._ns(info, namespace), name, manager or "")

    def _server_side_apply(
        self,
        info: KindInfo,
        live: dict[str, Any],
        body: dict[str, Any],
        *,
        key: tuple[str, str, str, str, str],
        record: bool,
    ) -> dict[str, Any]:
        """Merge the applied configuration and drop what this manager applied before but not now.

        Custom resources merge as JSON (their lists are atomic); built-ins merge strategically.
        """
        applied = _copy(_without_rv(body, "apply"))
        strategic = not info.crd_name
        removal = removal_patch(self._applied.get(key), applied, strategic=strategic)
        merge = apply_strategic_merge_patch if strategic else apply_merge_patch
        result = dict(merge(merge(live, removal) if removal else live, applied))
        if record:
            self._applied[key] = applied
        return result

    def update_status(self, obj: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        """Replace only the status of an existing object (the `/status` subresource)."""
        return self.replace(obj, subresource="status", dry_run=dry_run)

    def patch_status(  # noqa: PLR0917 - positional order is the published interface
        self,
        api_version: str,
        kind: str,
        name: str,
        patch: Any,
        patch_type: PatchType = "merge",
        namespace: str | None = None,
    ) -> dict[str, Any]:
        """Patch only the status (e.g. `{"status": {"phase": "Running"}}`)."""
        return self.patch(api_version, kind, name, patch, patch_type, namespace, "status")

    def delete(
        self,
        api_version: str,
        kind: str,
        name: str,
        namespace: str | None = None,
        *,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """Delete (or, with finalizers, mark for deletion); NotFoundError when absent."""
        info = self.kind_info(api_version, kind)
        ns = self._ns(info, namespace)
        with self._lock:
            bucket = self._bucket(info)
            live = bucket.get((ns, name))
            if live is None:
                raise self._not_found(info, name)
            if dry_run:
                return self._present(info, _copy(live))
            if live["metadata"].get("finalizers"):
                if live["metadata"].get("deletionTimestamp"):
                    return self._present(info, _copy(live))
                new = _copy(live)
                new["metadata"]["deletionTimestamp"] = format_time(self.clock.now())
                self._commit(info, "MODIFIED", new)
                event, result = "MODIFIED", new
            else:
                event, result = "DELETED", self._remove_locked(info, live)
        self._after_commit(info, event, result)
        if event == "DELETED":
            self._cascade(info, result)
        return self._present(info, _copy(result))

    # ----------------------------------------------------------------- subscriptions

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call `callback(event_type, obj)` after every change; returns an unsubscribe function."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener()` (no arguments, no copy) after every change and log write."""
        with self._lock:
            self._listeners.append(listener)

        def remove() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return remove

    # ----------------------------------------------------------------- events

    def emit_event(
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
        now = self.clock.now()
        key = (namespace, ref.get("kind", ""), ref.get("name", ""), reason, message)
        with self._lock:
            existing_name = self._event_index.get(key)
            existing = (
                self._bucket(self.kind_info("v1", "Event")).get((namespace, existing_name))
                if existing_name
                else None
            )
            if existing is not None:
                patch = {
                    "count": int(existing.get("count") or 1) + 1,
                    "lastTimestamp": format_time(now),
                }
                return self.patch("v1", "Event", existing_name or "", patch, "merge", namespace)
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
                "firstTimestamp": format_time(now),
                "lastTimestamp": format_time(now),
                "eventTime": format_time(now, micro=True),
                "source": {"component": source_component}
                | ({"host": source_host} if source_host else {}),
                "reportingComponent": source_component,
                "reportingInstance": source_host or "",
            }
            while (namespace, event["metadata"]["name"]) in self._bucket(
                self.kind_info("v1", "Event")
            ):
                event["metadata"]["name"] += "x"
            created = self.create(event)
            self._event_index[key] = created["metadata"]["name"]
            return created

    # ----------------------------------------------------------------- logs and exec

    def set_log(self, namespace: str, pod: str, container: str, text: str) -> None:
        """Set the whole log of a container (what `kubectl logs` prints)."""
        with self._lock:
            self._logs[(namespace, pod, container)] = text
            listeners = list(self._listeners)
        for listener in listeners:
            listener()

    def append_log(self, namespace: str, pod: str, container: str, text: str) -> None:
        """Append to a container's log (add the trailing newline yourself)."""
        with self._lock:
            key = (namespace, pod, container)
            self._logs[key] = self._logs.get(key, "") + text
            listeners = list(self._listeners)
        # Listeners also hear log growth: `kubectl logs -f` streams it.
        for listener in listeners:
            listener()

    def log_text(self, namespace: str, pod: str, container: str) -> str:
        """The raw stored log of one container, even after its pod is gone ('' when none)."""
        with self._lock:
            return self._logs.get((namespace, pod, container), "")

    def get_log(self, namespace: str, pod: str, container: str | None = None) -> str:
        """The log of `container` (the pod's first container when None); NotFoundError if no pod."""
        pod_obj = self.get("v1", "Pod", pod, namespace)
        if pod_obj is None:
            raise NotFoundError(f'pods "{pod}" not found', name=pod, kind="pods")
        names = [c.get("name") for c in (pod_obj.get("spec") or {}).get("containers") or []]
        if container is None:
            if len(names) > 1:
                raise BadRequestError(
                    f"a container name must be specified for pod {pod}, choose one of: {names}"
                )
            container = str(names[0]) if names else ""
        elif names and container not in names:
            init = [c.get("name") for c in (pod_obj.get("spec") or {}).get("initContainers") or []]
            if container not in init:
                raise BadRequestError(
                    f"container {container} is not valid for pod {pod}", name=pod, kind="pods"
                )
        with self._lock:
            return self._logs.get((namespace, pod, container), "")

    def register_exec_handler(self, handler: ExecHandler) -> Callable[[], None]:
        """Answer `kubectl exec`: handler(namespace, pod, container, command) -> (out, err, code).

        Handlers are asked newest first; returning None falls through to the next one. Returns a
        function that removes the handler.
        """
        with self._lock:
            self._exec_handlers.insert(0, handler)

        def remove() -> None:
            with self._lock:
                if handler in self._exec_handlers:
                    self._exec_handlers.remove(handler)

        return remove

    def run_exec(
        self, namespace: str, pod: str, container: str, command: builtins.list[str]
    ) -> tuple[str, str, int]:
        """Run `command` in a simulated container via the registered handlers."""
        with self._lock:
            handlers = list(self._exec_handlers)
        for handler in handlers:
            answer = handler(namespace, pod, container, command)
            if answer is not None:
                return answer
        if command and command[0] == "echo":
            return " ".join(command[1:]) + "\n", "", 0
        if command and command[0] in ("true", "false"):
            return "", "", 0 if command[0] == "true" else 1
        exe = command[0] if command else ""
        return (
            "",
            "OCI runtime exec failed: exec failed: unable to start container process: "
            f'exec: "{exe}": executable file not found in $PATH: unknown\n',
            127,
        )

    # ----------------------------------------------------------------- internals

    def _bucket(self, info: KindInfo) -> dict[tuple[str, str], dict[str, Any]]:
        return self._objects.setdefault((info.group, info.plural), {})

    @staticmethod
    def _ns(info: KindInfo, namespace: str | None) -> str:
        return (namespace or "default") if info.namespaced else ""

    def _namespace_exists(self, ns: str) -> bool:
        return ("", ns) in self._objects.get(("", "namespaces"), {})

    def _oldest_rv(self) -> int:
        return self._history[0].rv if self._history else self._rv

    @staticmethod
    def _present(info: KindInfo, obj: dict[str, Any]) -> dict[str, Any]:
        # Versions of a group share storage; answer in the version that was asked for.
        obj["apiVersion"] = info.api_version
        return obj

    def _not_found(self, info: KindInfo, name: str) -> NotFoundError:
        return NotFoundError(
            f'{_resource_label(info)} "{name}" not found',
            name=name,
            group=info.group,
            kind=info.plural,
        )

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
        check_rv: str | None,
    ) -> dict[str, Any]:
        ns = self._ns(info, namespace)
        with self._lock:
            bucket = self._bucket(info)
            live = bucket.get((ns, name))
            if live is None:
                raise self._not_found(info, name)
            if check_rv and check_rv != live["metadata"].get("resourceVersion"):
                raise ConflictError(
                    f'Operation cannot be fulfilled on {_resource_label(info)} "{name}": the '
                    "object has been modified; please apply your changes to the latest version "
                    "and try again",
                    name=name,
                    group=info.group,
                    kind=info.plural,
                )
            candidate = mutate(_copy(live))
            if not isinstance(candidate, dict):
                raise InvalidError(f'{info.kind} "{name}" is invalid: not an object')
            new = self._merge_update(info, live, candidate, subresource=subresource, strict=strict)
            if _same(live, new):
                return self._present(info, _copy(live))
            if dry_run:
                return self._present(info, new)
            meta = new["metadata"]
            if meta.get("deletionTimestamp") and not meta.get("finalizers"):
                new = self._remove_locked(info, new)
                event = "DELETED"
            else:
                self._commit(info, "MODIFIED", new)
                event = "MODIFIED"
        self._after_commit(info, event, new)
        if event == "DELETED":
            self._cascade(info, new)
        return self._present(info, _copy(new))

    def _merge_update(
        self,
        info: KindInfo,
        live: dict[str, Any],
        candidate: dict[str, Any],
        *,
        subresource: str | None,
        strict: bool,
    ) -> dict[str, Any]:
        live_meta = live["metadata"]
        if subresource == "status":
            # Only status changes through /status; everything else stays as stored.
            new = _copy(live)
            if "status" in candidate:
                new["status"] = candidate["status"]
            else:
                new.pop("status", None)
            return new
        new = candidate
        meta = new.get("metadata")
        if not isinstance(meta, dict):
            meta = {}
            new["metadata"] = meta
        for immutable in ("name", "namespace", "uid", "creationTimestamp", "deletionTimestamp"):
            if immutable in live_meta:
                meta[immutable] = live_meta[immutable]
            else:
                meta.pop(immutable, None)
        meta["resourceVersion"] = live_meta.get("resourceVersion")
        meta["generation"] = live_meta.get("generation", 1)
        if "managedFields" in live_meta and "managedFields" not in meta:
            meta["managedFields"] = live_meta["managedFields"]
        new["apiVersion"] = live["apiVersion"]
        new["kind"] = live["kind"]
        if strict and info.has_status:
            if "status" in live:
                new["status"] = live["status"]
            else:
                new.pop("status", None)
        if _spec_of(new) != _spec_of(live):
            meta["generation"] = int(live_meta.get("generation", 1)) + 1
        return new

    def _commit(self, info: KindInfo, event_type: str, obj: dict[str, Any]) -> None:
        self._rv += 1
        obj["metadata"]["resourceVersion"] = str(self._rv)
        meta = obj["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        bucket = self._bucket(info)
        previous = bucket.get(key)
        bucket[key] = obj
        self._record(info, event_type, obj, previous)

    def _remove_locked(self, info: KindInfo, obj: dict[str, Any]) -> dict[str, Any]:
        meta = obj["metadata"]
        self._bucket(info).pop((meta.get("namespace", ""), meta["name"]), None)
        self._rv += 1
        # The DELETED event carries the object at the deletion's resourceVersion.
        gone = _copy(obj)
        gone["metadata"]["resourceVersion"] = str(self._rv)
        self._record(info, "DELETED", gone)
        if self._applied:
            prefix = (info.group, info.plural, meta.get("namespace", ""), meta["name"])
            for key in [k for k in self._applied if k[:4] == prefix]:
                del self._applied[key]
        return gone

    def _record(
        self,
        info: KindInfo,
        event_type: str,
        obj: dict[str, Any],
        previous: dict[str, Any] | None = None,
    ) -> None:
        self._history.append(
            WatchEvent(
                rv=self._rv,
                type=event_type,
                group=info.group,
                plural=info.plural,
                namespace=obj["metadata"].get("namespace", ""),
                obj=obj,
                previous=previous,
            )
        )

    def _after_commit(self, info: KindInfo, event_type: str, obj: dict[str, Any]) -> None:
        if info.group == "apiextensions.k8s.io" and info.plural == "customresourcedefinitions":
            if event_type == "DELETED":
                self.registry.remove_crd(obj["metadata"]["name"])
            else:
                self.registry.add_crd(obj)
        with self._lock:
            subscribers = list(self._subscribers)
            listeners = list(self._listeners)
        for listener in listeners:
            listener()
        for callback in subscribers:
            callback(event_type, self._present(info, _copy(obj)))

    def _cascade(self, info: KindInfo, obj: dict[str, Any]) -> None:
        """Namespace deletion removes its objects; CRD deletion removes its custom resources."""
        victims: builtins.list[tuple[KindInfo, Obj]] = []
        with self._lock:
            if info.group == "" and info.plural == "namespaces":
                ns = obj["metadata"]["name"]
                for kind in self.registry.all():
                    if kind.namespaced:
                        victims.extend(
                            (kind, o)
                            for (ons, _), o in list(self._bucket(kind).items())
                            if ons == ns
                        )
            elif info.plural == "customresourcedefinitions":
                spec = obj.get("spec") or {}
                group, plural = spec.get("group"), (spec.get("names") or {}).get("plural")
                bucket = self._objects.get((str(group), str(plural)), {})
                kind_name = (spec.get("names") or {}).get("kind", "")
                versions = spec.get("versions") or [{"name": "v1"}]
                fake = KindInfo(
                    group=str(group),
                    version=str(versions[0].get("name")),
                    kind=str(kind_name),
                    plural=str(plural),
                    namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                )
                victims.extend((fake, o) for o in list(bucket.values()))
            seen: set[tuple[str, str, str, str]] = set()
            removed: builtins.list[tuple[KindInfo, Obj]] = []
            for kind, victim in victims:
                key = (
                    kind.group,
                    kind.plural,
                    victim["metadata"].get("namespace", ""),
                    victim["metadata"]["name"],
                )
                if key in seen:
                    continue
                seen.add(key)
                removed.append((kind, self._remove_locked(kind, victim)))
        for kind, victim in removed:
            self._after_commit(kind, "DELETED", victim)


def _spec_of(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in _TOP_LEVEL_NON_SPEC}


def _same(live: dict[str, Any], new: dict[str, Any]) -> bool:
    """True when an update changes nothing (the server then keeps the resourceVersion)."""
    return bool(_ENCODER.encode(live) == _ENCODER.encode(new))


def _sort_key(obj: dict[str, Any]) -> tuple[str, str]:
    meta = obj["metadata"]
    return meta.get("namespace", ""), meta["name"]


def _parse_labels(text: str | None) -> LabelSelector | None:
    try:
        return parse_label_selector(text) if text else None
    except SelectorError as exc:
        raise BadRequestError(str(exc)) from exc


def _parse_fields(text: str | None) -> FieldSelector | None:
    try:
        return parse_field_selector(text) if text else None
    except SelectorError as exc:
        raise BadRequestError(str(exc)) from exc


def _parse_patch_body(patch: Any, patch_type: str) -> Any:
    if isinstance(patch, bytes | str):
        text = patch.decode() if isinstance(patch, bytes) else patch
        try:
            return yaml.safe_load(text) if patch_type == "apply" else _DECODER.decode(text)
        except (yaml.YAMLError, msgspec.DecodeError) as exc:
            raise BadRequestError(f"error decoding patch: {exc}") from exc
    return patch


def _without_rv(body: Any, patch_type: str) -> Any:
    # Server-side apply ignores identity fields in the applied configuration.
    if patch_type != "apply" or not isinstance(body, dict):
        return body
    body = dict(body)
    meta = dict(body.get("metadata") or {})
    for key in ("resourceVersion", "uid", "creationTimestamp", "managedFields"):
        meta.pop(key, None)
    body["metadata"] = meta
    return body


def _managed_entry(manager: str, operation: str, api_version: str, now: datetime) -> dict[str, Any]:
    return {
        "manager": manager,
        "operation": operation,
        "apiVersion": api_version,
        "time": format_time(now),
        "fieldsType": "FieldsV1",
        "fieldsV1": {},
    }


_service_ip_counter = [0]


def _defaults(info: KindInfo, obj: dict[str, Any], now: datetime) -> None:
    """The few defaults a real API server fills in that clients print or rely on."""
    if info.group == "" and info.kind == "Namespace":
        obj.setdefault("spec", {"finalizers": ["kubernetes"]})
        obj.setdefault("status", {"phase": "Active"})
    elif info.group == "" and info.kind == "Pod":
        status = obj.setdefault("status", {})
        status.setdefault("phase", "Pending")
        status.setdefault("qosClass", "BestEffort")
        spec = obj.setdefault("spec", {})
        spec.setdefault("restartPolicy", "Always")
        spec.setdefault("serviceAccountName", "default")
        spec.setdefault("enableServiceLinks", True)
    elif info.group == "" and info.kind == "Service":
        spec = obj.setdefault("spec", {})
        spec.setdefault("type", "ClusterIP")
        if spec["type"] != "ExternalName" and "clusterIP" not in spec:
            _service_ip_counter[0] += 1
            n = _service_ip_counter[0]
            spec["clusterIP"] = f"10.96.{(n // 250) % 250}.{n % 250 + 1}"
            spec["clusterIPs"] = [spec["clusterIP"]]
    elif info.group == "apiextensions.k8s.io":
        names = (obj.get("spec") or {}).get("names") or {}
        obj["status"] = {
            "acceptedNames": names,
            "storedVersions": [
                v.get("name")
                for v in (obj.get("spec") or {}).get("versions") or []
                if v.get("storage")
            ],
            "conditions": [
                {
                    "type": t,
                    "status": "True",
                    "lastTransitionTime": format_time(now),
                    "reason": r,
                    "message": m,
                }
                for t, r, m in (
                    ("NamesAccepted", "NoConflicts", "no conflicts found"),
                    ("Established", "InitialNamesAccepted", "the initial names have been accepted"),
                )
            ],
        }
