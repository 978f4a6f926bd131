"""The admission plugins that name a create's class when it names none: DefaultStorageClass
(a claim's `storageClassName`) and DefaultIngressClass (an Ingress's `ingressClassName`), each
the newest class annotated as the default, ties by name (storage util.GetDefaultClass,
defaultingressclass getDefaultClass). Neither is the request's field: kube-apiserver's field
manager has seen the create before admission, so no manager owns what they fill.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from simulator.api.kinds import KindInfo
from simulator.api.store.buckets import Buckets

__all__ = [
    "BETA_STORAGE_CLASS",
    "DEFAULT_INGRESS_CLASS",
    "DEFAULT_STORAGE_CLASS",
    "admit_class",
    "newest_default",
]

Obj = dict[str, Any]
DEFAULT_STORAGE_CLASS = (
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
)
# The annotation that named a claim's (or volume's) class before storageClassName.
BETA_STORAGE_CLASS = "volume.beta.kubernetes.io/storage-class"
DEFAULT_INGRESS_CLASS = ("ingressclass.kubernetes.io/is-default-class",)
_LEGACY_INGRESS = "kubernetes.io/ingress.class"


def newest_default(objects: Iterable[Obj], annotations: tuple[str, ...]) -> str | None:
    """The name of the newest of `objects` annotated default by one of `annotations` ("true"),
    the first by name among the newest; None when none is."""
    defaults = [
        obj["metadata"]
        for obj in objects
        if any((obj["metadata"].get("annotations") or {}).get(a) == "true" for a in annotations)
    ]
    if not defaults:
        return None
    newest = max(str(meta.get("creationTimestamp") or "") for meta in defaults)
    return min(str(m["name"]) for m in defaults if m.get("creationTimestamp") == newest)


def admit_class(buckets: Buckets, info: KindInfo, obj: Obj) -> None:
    """Name the default class in a new claim or Ingress that names none (in place)."""
    annotations = obj["metadata"].get("annotations") or {}
    spec = obj.setdefault("spec", {}) if info.kind in ("PersistentVolumeClaim", "Ingress") else {}
    if (info.group, info.kind) == ("", "PersistentVolumeClaim"):
        if "storageClassName" in spec or BETA_STORAGE_CLASS in annotations:
            return
        classes = buckets.of_resource("storage.k8s.io", "storageclasses").values()
        if (name := newest_default(classes, DEFAULT_STORAGE_CLASS)) is not None:
            spec["storageClassName"] = name
    elif (info.group, info.kind) == ("networking.k8s.io", "Ingress"):
        if spec.get("ingressClassName") is not None or _LEGACY_INGRESS in annotations:
            return
        classes = buckets.of_resource("networking.k8s.io", "ingressclasses").values()
        if (name := newest_default(classes, DEFAULT_INGRESS_CLASS)) is not None:
            spec["ingressClassName"] = name
