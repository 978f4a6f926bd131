"""The warnings a written PersistentVolumeClaim or PersistentVolume gets, on create and update
(k8s.io/kubernetes v1.37 pkg/api/persistentvolumeclaim and pkg/api/persistentvolume util.go):
deprecated annotations, a volume's Recycle reclaim policy and its deprecated volume plugins. Not
modelled: a claim's fractional byte quantities, a volume's deprecated node affinity labels.
"""

from __future__ import annotations

from typing import Any

from simulator.api.store.default_classes import BETA_STORAGE_CLASS

__all__ = ["DEPRECATED_PLUGINS", "volume_warnings"]

_CLASS_MESSAGE = 'deprecated since v1.8; use "storageClassName" attribute instead'
# A volume's deprecated annotations, in warnings.go's order.
_VOLUME_ANNOTATIONS = (
    (BETA_STORAGE_CLASS, _CLASS_MESSAGE),
    (
        "volume.beta.kubernetes.io/mount-options",
        'deprecated since v1.31; use "mountOptions" attribute instead',
    ),
)
_RECYCLE = (
    "spec.persistentVolumeReclaimPolicy: The Recycle reclaim policy is deprecated. Instead, "
    "the recommended approach is to use dynamic provisioning."
)
# The volume plugins that no longer work, as a pod's volume or a volume's source: (JSON field,
# the field's Go name the warning gives, its words) (pkg/api/pod/warnings.go's order).
DEPRECATED_PLUGINS = (
    (
        "photonPersistentDisk",
        "photonPersistentDisk",
        "deprecated in v1.11, non-functional in v1.16+",
    ),
    ("gitRepo", "gitRepo", "deprecated in v1.11, and disabled by default in v1.33+"),
    ("scaleIO", "scaleIO", "deprecated in v1.16, non-functional in v1.22+"),
    ("flocker", "flocker", "deprecated in v1.22, non-functional in v1.25+"),
    ("storageos", "storageOS", "deprecated in v1.22, non-functional in v1.25+"),
    ("quobyte", "quobyte", "deprecated in v1.22, non-functional in v1.25+"),
    ("glusterfs", "glusterfs", "deprecated in v1.25, non-functional in v1.26+"),
    ("cephfs", "cephfs", "deprecated in v1.28, non-functional in v1.31+"),
    ("rbd", "rbd", "deprecated in v1.28, non-functional in v1.31+"),
)
# Those pkg/api/persistentvolume warns of in a volume (its order differs; a volume has one).
_VOLUME_PLUGINS = frozenset(
    {"cephfs", "photonPersistentDisk", "scaleIO", "storageos", "glusterfs", "rbd"}
)


def volume_warnings(obj: dict[str, Any]) -> list[str]:
    """The warnings of a core/v1 claim or volume as written ([] for any other object)."""
    kind = obj.get("kind")
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    spec = obj.get("spec") or {}
    if kind == "PersistentVolumeClaim":
        deprecated: tuple[tuple[str, str], ...] = ((BETA_STORAGE_CLASS, _CLASS_MESSAGE),)
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
            f"spec.{named}: {words}"
            for field, named, words in DEPRECATED_PLUGINS
            if field in _VOLUME_PLUGINS and spec.get(field) is not None
        ]
    return warnings
