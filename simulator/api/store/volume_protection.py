"""PersistentVolumeClaims and PersistentVolumes as kube-apiserver admits them and
kube-controller-manager's protection controllers let them go.

On create, DefaultStorageClass gives a claim that names no class the default StorageClass (the
newest of those annotated default, then the first by name), and StorageObjectInUseProtection
puts `kubernetes.io/pvc-protection` on a claim and `kubernetes.io/pv-protection` on a volume.
Deleting one then only marks it: pvc-protection removes its finalizer once no pod on a node
names the claim (pkg/controller/volume/pvcprotection: a pod that was never scheduled does not
count, a finished one does until it is deleted), pv-protection once the volume is not Bound.
Each release is an update by kube-controller-manager, which deletes the marked object.
"""

from __future__ import annotations

import contextlib
import copy
import threading
from typing import Any, Protocol

from simulator.api.kinds import KindInfo
from simulator.api.store.buckets import Buckets
from simulator.api.store.errors import ConflictError, NotFoundError
from simulator.api.store.subscriptions import Subscriptions

__all__ = ["PVC_PROTECTION", "PV_PROTECTION", "VolumeProtection", "admit_volume"]

Obj = dict[str, Any]
PVC_PROTECTION = "kubernetes.io/pvc-protection"
PV_PROTECTION = "kubernetes.io/pv-protection"
_CONTROLLER = "kube-controller-manager"


class _Store(Protocol):
    changes: Subscriptions

    def replace(self, obj: Obj, *, field_manager: str | None = None) -> Obj: ...


def _kind(info: KindInfo) -> str:
    return info.kind if info.group == "" else ""


def _concerns(event: str, obj: Obj) -> bool:
    """The changes that may let something go, asked of the stored object before the store
    copies it for a subscriber (pods change all the time; most name no claim): a pod that
    names a claim, a claim or a volume being deleted."""
    if obj.get("apiVersion") != "v1":
        return False
    kind = obj.get("kind")
    if kind == "Pod":
        return any(
            "persistentVolumeClaim" in v or "ephemeral" in v
            for v in (obj.get("spec") or {}).get("volumes") or ()
        )
    marked = bool(obj["metadata"].get("deletionTimestamp"))
    return marked and event == "MODIFIED" and kind in ("PersistentVolumeClaim", "PersistentVolume")


def admit_volume(buckets: Buckets, info: KindInfo, obj: Obj) -> None:
    """The storage admission plugins on a create of a claim or a volume (in place)."""
    kind = _kind(info)
    if kind not in ("PersistentVolumeClaim", "PersistentVolume"):
        return
    meta = obj["metadata"]
    finalizer = PVC_PROTECTION if kind == "PersistentVolumeClaim" else PV_PROTECTION
    finalizers = meta.setdefault("finalizers", [])
    if finalizer not in finalizers:
        finalizers.append(finalizer)


class VolumeProtection:
    """The pvc-protection and pv-protection controllers, acting on each committed change."""

    def __init__(self, store: _Store, buckets: Buckets, lock: threading.RLock) -> None:
        self._store = store
        self._buckets = buckets
        self._lock = lock
        store.changes.subscribe(self._react, wants=_concerns)

    def _react(self, event: str, obj: Obj) -> None:
        """Release what `obj`'s change lets go: a claim or a volume being deleted, or the
        claims a pod that changed or went names."""
        kind = str(obj.get("kind"))
        with self._lock:
            if kind == "Pod":
                namespace = str(obj["metadata"].get("namespace", ""))
                claims = self._buckets.of_resource("", "persistentvolumeclaims")
                candidates = [claims.get((namespace, name)) for name in _claims_of(obj)]
            elif kind in ("PersistentVolumeClaim", "PersistentVolume") and event == "MODIFIED":
                candidates = [obj]
            else:
                return
            released = [copy.deepcopy(c) for c in candidates if c and self._releasable(c)]
        for claim_or_volume in released:
            volume = claim_or_volume["kind"] == "PersistentVolume"
            finalizer = PV_PROTECTION if volume else PVC_PROTECTION
            meta = claim_or_volume["metadata"]
            meta["finalizers"] = [f for f in meta["finalizers"] if f != finalizer]
            with contextlib.suppress(ConflictError, NotFoundError):  # the next change retries
                self._store.replace(claim_or_volume, field_manager=_CONTROLLER)

    def _releasable(self, obj: Obj) -> bool:
        meta = obj["metadata"]
        if not meta.get("deletionTimestamp"):
            return False
        if obj.get("kind") == "PersistentVolume":
            phase = (obj.get("status") or {}).get("phase")
            return PV_PROTECTION in (meta.get("finalizers") or []) and phase != "Bound"
        if PVC_PROTECTION not in (meta.get("finalizers") or []):
            return False
        namespace, name = str(meta.get("namespace", "")), str(meta["name"])
        pods = self._buckets.of_resource("", "pods").values()
        return not any(
            pod["metadata"].get("namespace") == namespace
            and (pod.get("spec") or {}).get("nodeName")
            and name in _claims_of(pod, running_only=True)
            for pod in pods
        )


def _claims_of(pod: Obj, *, running_only: bool = False) -> list[str]:
    """The claims a pod's volumes name: a persistentVolumeClaim's, and an ephemeral volume's
    (`<pod>-<volume>`, only while the pod is not shut down when `running_only`)."""
    meta = pod["metadata"]
    shut_down = bool(meta.get("deletionTimestamp")) and not meta.get("deletionGracePeriodSeconds")
    names = []
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        if claim := (volume.get("persistentVolumeClaim") or {}).get("claimName"):
            names.append(str(claim))
        elif "ephemeral" in volume and not (running_only and shut_down):
            names.append(f"{meta.get('name')}-{volume.get('name')}")
    return names
