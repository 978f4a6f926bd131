"""Pod Security admission's restricted checks, the ones the `restricted` level adds to the
baseline ones (k8s.io/pod-security-admission v0.37, policy/check_*.go), with their words."""

from __future__ import annotations

from typing import Any

from simulator.api.store.pod_security_baseline import (
    containers_named,
    each_container,
    plural,
    proc_mount,
    quote,
    seccomp,
    security_context,
    setters_of,
)

__all__ = [
    "capabilities_restricted",
    "privilege_escalation",
    "proc_mount_restricted",
    "restricted_volumes",
    "run_as_non_root",
    "run_as_user",
    "seccomp_restricted",
]

Obj = dict[str, Any]
Found = tuple[str, str] | None


def windows(spec: Obj) -> bool:
    return (spec.get("os") or {}).get("name") == "windows"


def privilege_escalation(meta: Obj, spec: Obj, version: tuple[int, int]) -> Found:
    if version >= (1, 25) and windows(spec):
        return None
    containers = [
        str(c.get("name"))
        for c in each_container(spec)
        if security_context(c).get("allowPrivilegeEscalation") is not False
    ]
    if not containers:
        return None
    detail = (
        f"{containers_named(containers)} must set securityContext.allowPrivilegeEscalation=false"
    )
    return "allowPrivilegeEscalation != false", detail


def capabilities_restricted(meta: Obj, spec: Obj, version: tuple[int, int]) -> Found:
    if version >= (1, 25) and windows(spec):
        return None
    missing_drop, adding, added = [], [], set()
    for container in each_container(spec):
        capabilities = security_context(container).get("capabilities")
        if not isinstance(capabilities, dict):
            missing_drop.append(str(container.get("name")))
            continue
        if "ALL" not in (capabilities.get("drop") or []):
            missing_drop.append(str(container.get("name")))
        extra = {str(c) for c in capabilities.get("add") or [] if c != "NET_BIND_SERVICE"}
        if extra:
            adding.append(str(container.get("name")))
            added |= extra
    details = []
    if missing_drop:
        details.append(
            f'{containers_named(missing_drop)} must set securityContext.capabilities.drop=["ALL"]'
        )
    if adding:
        field = "securityContext.capabilities.add"
        details.append(
            f"{containers_named(adding)} must not include {quote(sorted(added))} in {field}"
        )
    return ("unrestricted capabilities", "; ".join(details)) if details else None


def proc_mount_restricted(meta: Obj, spec: Obj, version: tuple[int, int]) -> Found:
    return proc_mount(meta, {**spec, "hostUsers": True}, (1, 0))  # no user-namespace relief


_ALLOWED_VOLUMES = (
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "image",
    "persistentVolumeClaim",
    "projected",
    "secret",
)
_VOLUME_TYPES = (
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "nfs",
    "iscsi",
    "glusterfs",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "fc",
    "azureFile",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "portworxVolume",
    "scaleIO",
    "storageos",
)


def restricted_volumes(meta: Obj, spec: Obj, version: tuple[int, int]) -> Found:
    volumes, types = [], set()
    for volume in spec.get("volumes") or []:
        if any(volume.get(kind) is not None for kind in _ALLOWED_VOLUMES):
            continue
        volumes.append(str(volume.get("name")))
        types.add(next((t for t in _VOLUME_TYPES if volume.get(t) is not None), "unknown"))
    if not volumes:
        return None
    named = f"{plural('volume', 'volumes', len(volumes))} {quote(volumes)}"
    noun = plural("restricted volume type", "restricted volume types", len(types))
    verb = plural("uses", "use", len(volumes))
    return "restricted volume types", f"{named} {verb} {noun} {quote(sorted(types))}"


def run_as_non_root(meta: Obj, spec: Obj, version: tuple[int, int]) -> Found:
    if version >= (1, 35) and spec.get("hostUsers") is False:
        return None
    pod_says = security_context(spec).get("runAsNonRoot")
    explicit, implicit = [], []
    for container in each_container(spec):
        own = security_context(container).get("runAsNonRoot")
        if own is False:
            explicit.append(str(container.get("name")))
        elif own is None and pod_says is not True:
            implicit.append(str(container.get("name")))
    setters = setters_of(pod_says is False, explicit)
    if setters:
        return "runAsNonRoot != true", (
            f"{' and '.join(setters)} must not set securityContext.runAsNonRoot=false"
        )
    if implicit:
        return "runAsNonRoot != true", (
            f"pod or {containers_named(implicit)} must set securityContext.runAsNonRoot=true"
        )
    return None


def run_as_user(meta: Obj, spec: Obj, version: tuple[int, int]) -> Found:
    if version >= (1, 35) and spec.get("hostUsers") is False:
        return None
    containers = [
        str(c.get("name"))
        for c in each_container(spec)
        if security_context(c).get("runAsUser") == 0
    ]
    setters = setters_of(security_context(spec).get("runAsUser") == 0, containers)
    return ("runAsUser=0", f"{' and '.join(setters)} must not set runAsUser=0") if setters else None


def seccomp_restricted(meta: Obj, spec: Obj, version: tuple[int, int]) -> Found:
    if version >= (1, 25) and windows(spec):
        return None
    found = seccomp(meta, spec, version)
    if found is not None:
        return found
    pod_set = isinstance(security_context(spec).get("seccompProfile"), dict)
    implicit = [
        str(c.get("name"))
        for c in each_container(spec)
        if not isinstance(security_context(c).get("seccompProfile"), dict) and not pod_set
    ]
    if not implicit:
        return None
    detail = f"pod or {containers_named(implicit)} must set securityContext.seccompProfile.type to "
    return "seccompProfile", detail + '"RuntimeDefault" or "Localhost"'


# Each level's checks by ID; the registry runs them sorted by ID, the baseline ones first.
