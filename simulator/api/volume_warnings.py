"""The warnings a written PersistentVolumeClaim or PersistentVolume gets, on create and update
(k8s.io/kubernetes v1.37 pkg/api/persistentvolumeclaim and pkg/api/persistentvolume util.go):
deprecated annotations, a volume's Recycle reclaim policy and its deprecated volume plugins. Not
modelled: a claim's fractional byte quantities, a volume's deprecated node affinity labels.
"""

from __future__ import annotations

from typing import Any

__all__ = ["volume_warnings"]

_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"
_CLASS_MESSAGE = 'deprecated since v1.8; use "storageClassName" attribute instead'
# A volume's deprecated annotations, in warnings.go's order.
_VOLUME_ANNOTATIONS = (
    (_CLASS_ANNOTATION, _CLASS_MESSAGE),
    (
        "volume.beta.kubernetes.io/mount-options",
        'deprecated since v1.31; use "mountOptions" attribute instead',
    ),
)
_RECYCLE = (
    "spec.persistentVolumeReclaimPolicy: The Recycle reclaim policy is deprecated. Instead, "
    "the recommended approach is to use dynamic provisioning."
)
# The volume plugins that no longer work: (field, when deprecated, when non-functional).
_DEAD_PLUGINS = (
    ("cephfs", "v1.28", "v1.31"),
    ("photonPersistentDisk", "v1.11", "v1.16"),
    ("scaleIO", "v1.16", "v1.22"),
    ("storageOS", "v1.22", "v1.25"),
    ("glusterfs", "v1.25", "v1.26"),
    ("rbd", "v1.28", "v1.31"),
)


def volume_warnings(obj: dict[str, Any]) -> list[str]:
    """The warnings of a core/v1 claim or volume as written ([] for any other object)."""
    kind = obj.get("kind")
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    spec = obj.get("spec") or {}
    if kind == "PersistentVolumeClaim":
        deprecated: tuple[tuple[str, str], ...] = ((_CLASS_ANNOTATION, _CLASS_MESSAGE),)
    elif kind == "PersistentVolume":
        deprecated = _VOLUME_ANNOTATIONS
    else:
        return []
    warnings = [
        f"metadata.annotations[{key}]: {message}"
        for key, message in deprecated
        if key in annotations
    ]
    if kind == "PersistentVolume":
        warnings += [_RECYCLE] if spec.get("persistentVolumeReclaimPolicy") == "Recycle" else []
        warnings += [
            f"spec.{field}: deprecated in {since}, non-functional in {dead}+"
            for field, since, dead in _DEAD_PLUGINS
            if spec.get(field) is not None
        ]
    return warnings
