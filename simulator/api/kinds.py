"""What describes a served kind: `KindInfo` (resource names, scope, short names, categories,
subresources), the subresources' own kinds, and `CustomKind` for CRD kinds the simulator models.

The table of kinds is `kind_table.py`; what is served right now, `kind_registry.KindRegistry`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CRD_VERBS",
    "SUBRESOURCES",
    "CustomKind",
    "KindInfo",
    "builtin_kind",
    "is_crd",
    "split_api_version",
    "version_priority",
]

# The verbs of a custom resource, in the order kube-apiserver's CRD handler lists them.
CRD_VERBS = ("delete", "deletecollection", "get", "list", "patch", "create", "update", "watch")
_KUBE_VERSION = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")
_STABILITY = {None: 0, "beta": 1, "alpha": 2}


def version_priority(version: str) -> tuple[int, int, int, str]:
    """kube-apiserver's order of a group's versions (CompareKubeAwareVersionStrings): GA, then
    beta, then alpha, each newest first, then what is not a Kubernetes version, by name."""
    found = _KUBE_VERSION.match(version)
    if found is None:
        return (3, 0, 0, version)
    major, stability, minor = found.groups()
    return (_STABILITY[stability], -int(major), -int(minor or 0), version)


@dataclass(frozen=True)
class KindInfo:
    """One served resource of one group/version."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    verbs: tuple[str, ...] = (
        "create",
        "delete",
        "deletecollection",
        "get",
        "list",
        "patch",
        "update",
        "watch",
    )
    singular: str = ""
    # Kinds with a status subresource ignore status on main-resource writes (as a real server does).
    has_status: bool = True
    list_kind: str = ""
    crd_name: str = field(default="", compare=False)
    # A custom kind's openAPIV3Schema, as its CRD declares it for this version.
    schema: dict[str, Any] | None = field(default=None, compare=False, repr=False)
    # A custom kind's scale subresource (specReplicasPath, statusReplicasPath,
    # labelSelectorPath), as its CRD declares it for this version.
    scale: dict[str, Any] | None = field(default=None, compare=False, repr=False)
    # A custom kind's selectable fields (`spec.color`: its CRD's `selectableFields` JSON paths).
    selectable: tuple[str, ...] = field(default=(), compare=False)

    @functools.cached_property  # read on every request: computed once per kind
    def api_version(self) -> str:
        """`v1` for the core group, `group/version` otherwise."""
        return self.version if not self.group else f"{self.group}/{self.version}"

    @property
    def group_version(self) -> str:
        """Same as `api_version`; named for discovery documents."""
        return self.api_version

    @property
    def singular_name(self) -> str:
        """Lower-case singular resource name."""
        return self.singular or self.kind.lower()

    @property
    def list_kind_name(self) -> str:
        """`PodList` and the like."""
        return self.list_kind or f"{self.kind}List"

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        """The collection or object path (`/api/v1/namespaces/ns/pods/name`)."""
        base = "/api/v1" if not self.group else f"/apis/{self.group}/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        return f"{base}/{name}" if name else base


def builtin_kind(
    group: str,
    version: str,
    kind: str,
    plural: str,
    *,
    namespaced: bool = True,
    short: tuple[str, ...] = (),
    categories: tuple[str, ...] = (),
    subresources: tuple[str, ...] = (),
    has_status: bool = True,
    verbs: tuple[str, ...] | None = None,
) -> KindInfo:
    """A built-in kind's row: every verb unless `verbs` says otherwise."""
    info = KindInfo(
        group=group,
        version=version,
        kind=kind,
        plural=plural,
        namespaced=namespaced,
        short_names=short,
        categories=categories,
        subresources=subresources,
        has_status=has_status,
    )
    if verbs is not None:
        info = KindInfo(**{**info.__dict__, "verbs": verbs})
    return info


def is_crd(info: KindInfo) -> bool:
    """The CustomResourceDefinition kind itself (not one it defines)."""
    return (info.group, info.kind) == ("apiextensions.k8s.io", "CustomResourceDefinition")


def split_api_version(api_version: str) -> tuple[str, str]:
    """`apps/v1` -> ("apps", "v1"); `v1` -> ("", "v1")."""
    if "/" in api_version:
        group, version = api_version.split("/", 1)
        return group, version
    return "", api_version


# What each subresource answers with (group, version, kind) and which verbs it serves.
SUBRESOURCES: dict[str, tuple[tuple[str, str, str] | None, tuple[str, ...]]] = {
    "status": (None, ("get", "patch", "update")),
    # A CertificateSigningRequest's: writes change only its conditions (`certificate approve`).
    "approval": (None, ("get", "patch", "update")),
    # A Namespace's: a PUT that may change its spec.finalizers (the namespace controller's).
    "finalize": (None, ("update",)),
    # A Pod's: writes change only its ephemeral containers (`kubectl debug`).
    "ephemeralcontainers": (None, ("get", "patch", "update")),
    "scale": (("autoscaling", "v1", "Scale"), ("get", "patch", "update")),
    "log": (("", "v1", "Pod"), ("get",)),
    "exec": (("", "v1", "PodExecOptions"), ("create", "get")),
    "eviction": (("policy", "v1", "Eviction"), ("create",)),
    "binding": (("", "v1", "Binding"), ("create",)),
    "token": (("authentication.k8s.io", "v1", "TokenRequest"), ("create",)),
}


@dataclass(frozen=True)
class CustomKind:
    """A custom kind the simulator models: served only once its CRD exists.

    `info` names the storage version; `older_versions` are the other versions the CRD serves.
    """

    info: KindInfo
    older_versions: tuple[str, ...] = ()
