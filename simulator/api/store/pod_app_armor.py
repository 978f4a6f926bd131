"""The AppArmor annotation a new Pod still carries, synced to its field (k8s.io/kubernetes v1.37
pkg/registry/core/pod/strategy.go, applyAppArmorVersionSkew in PrepareForCreate).

For each container with `container.apparmor.security.beta.kubernetes.io/<name>` and no
`securityContext.appArmorProfile`, the annotation's profile becomes the field (`unconfined`,
`runtime/default`, `localhost/<profile>`), unless it equals the pod's own; the create answers
`metadata.annotations[...]: deprecated since v1.30; use the "appArmorProfile" field instead`.
Pod Security admission then reads the field too. Windows pods are left alone.
"""

from __future__ import annotations

from typing import Any

from simulator.api.kinds import KindInfo

__all__ = ["app_armor_warnings", "sync_app_armor"]

Obj = dict[str, Any]
_PREFIX = "container.apparmor.security.beta.kubernetes.io/"


def app_armor_warnings(info: KindInfo, pod: Obj) -> list[str]:
    """The create's deprecation warnings for `pod` as decoded (before `sync_app_armor`)."""
    if (info.group, info.kind) != ("", "Pod"):
        return []
    return [_warning(name) for name, _ in _unsynced(pod, warned=True)]


def sync_app_armor(pod: Obj) -> None:
    """Copy each unsynced annotation to its container's field (PrepareForCreate)."""
    for container, profile in _unsynced(pod, warned=False):
        if profile is not None:
            container.setdefault("securityContext", {})["appArmorProfile"] = profile


def _unsynced(pod: Obj, *, warned: bool) -> list[tuple[Any, Obj | None]]:
    """(container name if `warned` else the container, its profile) for each container the
    sync concerns: with `warned`, those whose annotation gets the warning."""
    spec = pod.get("spec") or {}
    annotations = (pod.get("metadata") or {}).get("annotations") or {}
    if (spec.get("os") or {}).get("name") == "windows" or not annotations:
        return []
    pod_profile = (spec.get("securityContext") or {}).get("appArmorProfile")
    found: list[tuple[Any, Obj | None]] = []
    for field in ("initContainers", "containers", "ephemeralContainers"):
        for container in spec.get(field) or []:
            key = f"{_PREFIX}{container.get('name')}"
            own = (container.get("securityContext") or {}).get("appArmorProfile")
            if key not in annotations or own is not None:
                continue
            profile = _profile(str(annotations[key]))
            copied = profile if profile is not None and profile != pod_profile else None
            if warned and (profile is None or copied is not None):
                found.append((container.get("name"), copied))
            elif not warned:
                found.append((container, copied))
    return found


def _profile(annotation: str) -> Obj | None:
    """podutil.ApparmorFieldForAnnotation."""
    if annotation == "unconfined":
        return {"type": "Unconfined"}
    if annotation == "runtime/default":
        return {"type": "RuntimeDefault"}
    name = annotation.removeprefix("localhost/")
    if annotation.startswith("localhost/") and name:
        return {"type": "Localhost", "localhostProfile": name}
    return None


def _warning(container: Any) -> str:
    path = f"metadata.annotations[{_PREFIX}{container}]"
    return f'{path}: deprecated since v1.30; use the "appArmorProfile" field instead'
