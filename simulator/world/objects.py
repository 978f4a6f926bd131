"""Small helpers over plain Kubernetes objects and the store the world engine writes through.

`Objects` is the world's adapter to `simulator.api.store.ObjectStore`: the controllers, the kubelet,
the stages and the Flux model all write through it, so the store's exact signatures are known in
one place.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from simulator.api.store import AlreadyExistsError, ForbiddenError, Store, StoreError
from simulator.clock import VirtualClock, rfc3339

if TYPE_CHECKING:
    from simulator.world.scenario import EventSpec, LogSpec, ObjectRef

__all__ = [
    "Objects",
    "condition",
    "merge_patch",
    "meta",
    "obj_key",
    "owner_uid",
    "pod_is_ready",
    "render",
    "set_condition",
    "terminating",
]

Obj = dict[str, Any]
ObjList = list[Obj]
_SAFE = "bcdfghjklmnpqrstvwxz2456789"  # the alphabet Kubernetes uses for generated names


def meta(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The object's metadata (empty dict when absent)."""
    value = obj.get("metadata")
    return value if isinstance(value, dict) else {}


def obj_key(obj: Mapping[str, Any]) -> tuple[str, str, str, str]:
    """(apiVersion, kind, namespace, name) of an object."""
    m = meta(obj)
    return (
        str(obj.get("apiVersion", "")),
        str(obj.get("kind", "")),
        str(m.get("namespace") or ""),
        str(m.get("name", "")),
    )


def owner_uid(obj: Mapping[str, Any], kind: str | None = None) -> str | None:
    """The uid of the controlling owner (of `kind`, when given)."""
    for ref in meta(obj).get("ownerReferences") or []:
        if ref.get("controller") and (kind is None or ref.get("kind") == kind):
            return str(ref.get("uid"))
    return None


def condition(obj: Mapping[str, Any], kind: str) -> dict[str, Any] | None:
    """The status condition of type `kind`, if present."""
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == kind:
            return dict(cond)
    return None


def set_condition(
    conditions: list[dict[str, Any]],
    kind: str,
    status: str,
    *,
    now: datetime,
    reason: str = "",
    message: str = "",
    extra: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Conditions with `kind` set; lastTransitionTime moves only when the status changes."""
    out = [dict(c) for c in conditions]
    for cond in out:
        if cond.get("type") == kind:
            if cond.get("status") != status:
                cond["lastTransitionTime"] = rfc3339(now)
            cond.update(status=status, reason=reason, message=message, **(extra or {}))
            return out
    new = {
        "type": kind,
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": rfc3339(now),
        **(extra or {}),
    }
    out.append(new)
    return out


def render(message: str, obj: Mapping[str, Any]) -> str:
    """A scenario message with `{name}` and `{namespace}` of the object filled in."""
    m = meta(obj)
    return message.replace("{name}", str(m.get("name", ""))).replace(
        "{namespace}", str(m.get("namespace", ""))
    )


def terminating(obj: Mapping[str, Any]) -> bool:
    """Whether the object is marked for deletion (a pod in its grace period)."""
    return bool(meta(obj).get("deletionTimestamp"))


def pod_is_ready(pod: Mapping[str, Any]) -> bool:
    """Whether the pod's Ready condition is True."""
    cond = condition(pod, "Ready")
    return bool(cond and cond.get("status") == "True")


class Objects:
    """The world's writes and reads against the store, plus deterministic name generation."""

    def __init__(self, store: Store, *, clock: VirtualClock, seed: str) -> None:
        self.store = store
        self.clock = clock
        # Names only need to look like Kubernetes' and repeat per scenario, not be secret.
        self._rng = random.Random(hashlib.sha256(seed.encode()).digest())  # noqa: S311

    def suffix(self, length: int = 5) -> str:
        """A random name suffix like Kubernetes' generateName (`lqgnj`), reproducible per seed."""
        return "".join(self._rng.choice(_SAFE) for _ in range(length))

    @staticmethod
    def template_hash(template: object) -> str:
        """A pod-template-hash like `7f6f96df87` (stable for one template)."""
        digest = hashlib.sha256(repr(template).encode()).hexdigest()
        return "".join(_SAFE[int(digest[i : i + 2], 16) % len(_SAFE)] for i in range(0, 20, 2))

    def get(self, api_version: str, kind: str, name: str, namespace: str | None) -> Obj | None:
        """One object or None (also when its kind is not served, e.g. before a CRD exists)."""
        try:
            return self.store.get(api_version, kind, name, namespace=namespace or None)
        except StoreError:
            return None

    def list(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> list[Obj]:
        """Objects of a kind, optionally in a namespace and carrying `labels`."""
        selector = ",".join(f"{k}={v}" for k, v in (labels or {}).items()) or None
        try:
            found = self.store.list(
                api_version, kind, namespace=namespace or None, label_selector=selector
            )
        except StoreError:  # kind not served (yet): nothing of it exists
            return []
        return list(found)

    def resolve(self, ref: ObjectRef | None) -> ObjList:
        """The objects a scenario reference names: one by name, or all carrying its labels."""
        if ref is None:
            return []
        if ref.name is not None:
            one = self.get(ref.api_version, ref.kind, ref.name, ref.namespace)
            return [one] if one is not None else []
        return self.list(ref.api_version, ref.kind, ref.namespace, ref.labels)

    def fresh(self, obj: Mapping[str, Any]) -> Obj | None:
        """The stored version of `obj` if it is still the same object (same uid)."""
        api_version, kind, namespace, name = obj_key(obj)
        current = self.get(api_version, kind, name, namespace)
        if current is None or meta(current).get("uid") != meta(obj).get("uid"):
            return None
        return current

    def create(self, obj: Obj) -> Obj | None:
        """Create; None when it already exists or the kind is not served."""
        try:
            return self.store.create(self._bind_owners(obj))
        except StoreError:  # AlreadyExists, or a kind not served yet: the world moves on
            return None

    def create_admitted(self, obj: Obj) -> Obj | None:
        """Create a controller's pod as the API would: ForbiddenError when admission refuses it
        (its ServiceAccount or PriorityClass does not exist); None when it already exists."""
        try:
            return self.store.create(self._bind_owners(obj), admitted=True)
        except ForbiddenError:
            raise
        except StoreError:
            return None

    def apply(self, obj: Obj) -> Obj:
        """Create, or update the existing object to this content (spec and metadata)."""
        api_version, kind, namespace, name = obj_key(obj)
        current = self.get(api_version, kind, name, namespace)
        if current is None:
            try:
                return self.store.create(self._bind_owners(obj))
            except AlreadyExistsError:
                # Made meanwhile by a controller: creating a namespace makes its `default`
                # ServiceAccount and `kube-root-ca.crt` at once (kube-controller-manager's).
                pass
        return self.store.patch(
            api_version, kind, name, _without_status(obj), "merge", namespace=namespace or None
        )

    def _bind_owners(self, obj: Obj) -> Obj:
        """`obj` with each owner reference that names no uid (a scenario's, a recording's)
        bound to the uid of the owner of that name, when it exists."""
        refs = meta(obj).get("ownerReferences")
        if not isinstance(refs, list) or all(not isinstance(r, dict) or r.get("uid") for r in refs):
            return obj
        namespace = meta(obj).get("namespace")
        bound = []
        for ref in refs:
            if isinstance(ref, dict) and not ref.get("uid"):
                owner = self.get(
                    str(ref.get("apiVersion", "")),
                    str(ref.get("kind", "")),
                    str(ref.get("name", "")),
                    namespace,
                )
                if owner is not None:
                    bound.append({**ref, "uid": meta(owner).get("uid")})
                    continue
            bound.append(ref)
        return {**obj, "metadata": {**meta(obj), "ownerReferences": bound}}

    def patch(self, obj: Mapping[str, Any], patch: Mapping[str, Any]) -> Obj | None:
        """Merge-patch the object (None when it is gone; no write when nothing changes)."""
        api_version, kind, namespace, name = obj_key(obj)
        current = self.get(api_version, kind, name, namespace)
        if current is None:
            return None
        if merge_patch(current, dict(patch)) == current:
            return current
        try:
            return self.store.patch(
                api_version, kind, name, dict(patch), "merge", namespace=namespace or None
            )
        except StoreError:
            return None

    def patch_status(self, obj: Mapping[str, Any], status: Mapping[str, Any]) -> Obj | None:
        """Merge-patch the status subresource (None when the object is gone).

        A patch that changes nothing is not written: controllers recompute status on every
        change, and a no-op write would wake them again forever.
        """
        api_version, kind, namespace, name = obj_key(obj)
        current = self.get(api_version, kind, name, namespace)
        if current is None:
            return None
        before = current.get("status") or {}
        if merge_patch(before, dict(status)) == before:
            return current
        try:
            return self.store.patch(
                api_version,
                kind,
                name,
                {"status": dict(status)},
                "merge",
                namespace=namespace or None,
                subresource="status",
            )
        except StoreError:
            return None

    def delete(self, obj: Mapping[str, Any], *, grace_period: int | None = None) -> None:
        """Delete the object if it exists (a pod: gracefully, unless `grace_period` is 0)."""
        api_version, kind, namespace, name = obj_key(obj)
        try:
            self.store.delete(
                api_version, kind, name, namespace=namespace or None, grace_period=grace_period
            )
        except StoreError:
            return

    def event(
        self,
        obj: Mapping[str, Any],
        reason: str,
        message: str,
        *,
        type: str = "Normal",
        source: str = "kubelet",
    ) -> None:
        """Emit a core/v1 Event on the object."""
        try:
            self.store.events.emit(dict(obj), reason, message, type=type, source_component=source)
        except StoreError:  # e.g. a terminating namespace: the kubelet's event is refused too
            return

    def emit(self, obj: Mapping[str, Any], spec: EventSpec) -> None:
        """Emit a scenario's Event (`count` times) on the object."""
        for _ in range(max(spec.count, 1)):
            self.event(
                obj, spec.reason, render(spec.message, obj), type=spec.type, source=spec.source
            )

    def log(self, pod: Mapping[str, Any], container: str, text: str, *, append: bool) -> None:
        """Set or append a container log."""
        namespace, name = meta(pod).get("namespace", ""), meta(pod).get("name", "")
        if append:
            self.store.logs.append(namespace, name, container, text)
        else:
            self.store.logs.set(namespace, name, container, text)

    def write_log(self, obj: Mapping[str, Any], spec: LogSpec) -> None:
        """Write a scenario's log lines to a pod's container (its first unless named)."""
        if obj.get("kind") != "Pod":
            return
        containers = (obj.get("spec") or {}).get("containers") or [{}]
        self.log(
            obj, spec.container or str(containers[0].get("name", "")), spec.text, append=spec.append
        )


def merge_patch(target: object, patch: object) -> Any:
    """RFC 7386 JSON merge patch of `patch` onto a copy of `target`."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def _without_status(obj: Mapping[str, Any]) -> Obj:
    out = {k: v for k, v in obj.items() if k != "status"}
    m = dict(meta(obj))
    for key in ("resourceVersion", "uid", "creationTimestamp", "generation", "managedFields"):
        m.pop(key, None)
    out["metadata"] = m
    return out
