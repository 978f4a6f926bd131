"""The kinds the fake API knows: resource names, scope, short names and categories.

Built-in kinds are fixed; CRDs add kinds at runtime (see `KindRegistry.add_crd`). The store and
the HTTP server share one registry so a CRD applied through kubectl becomes served at once, and
disappears (404 like a real server) when the CRD is deleted.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "BUILTIN_KINDS",
    "FLUX_KINDS",
    "SUBRESOURCES",
    "CustomKind",
    "KindInfo",
    "KindRegistry",
    "api_version_of",
    "known_kind",
    "split_api_version",
]


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

    @property
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


def split_api_version(api_version: str) -> tuple[str, str]:
    """`apps/v1` -> ("apps", "v1"); `v1` -> ("", "v1")."""
    if "/" in api_version:
        group, version = api_version.split("/", 1)
        return group, version
    return "", api_version


# What each subresource answers with (group, version, kind) and which verbs it serves.
SUBRESOURCES: dict[str, tuple[tuple[str, str, str] | None, tuple[str, ...]]] = {
    "status": (None, ("get", "patch", "update")),
    "scale": (("autoscaling", "v1", "Scale"), ("get", "patch", "update")),
    "log": (("", "v1", "Pod"), ("get",)),
    "exec": (("", "v1", "PodExecOptions"), ("create", "get")),
    "eviction": (("policy", "v1", "Eviction"), ("create",)),
    "binding": (("", "v1", "Binding"), ("create",)),
    "token": (("authentication.k8s.io", "v1", "TokenRequest"), ("create",)),
}

_RO_VERBS = ("create",)
_ALL = ("all",)


def _k(
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


BUILTIN_KINDS: tuple[KindInfo, ...] = (
    _k(
        "",
        "v1",
        "Pod",
        "pods",
        short=("po",),
        categories=_ALL,
        subresources=("status", "log", "exec", "eviction", "binding"),
    ),
    _k("", "v1", "Event", "events", short=("ev",), has_status=False),
    _k("", "v1", "Node", "nodes", namespaced=False, short=("no",), subresources=("status",)),
    _k(
        "",
        "v1",
        "Namespace",
        "namespaces",
        namespaced=False,
        short=("ns",),
        subresources=("status",),
    ),
    _k("", "v1", "Secret", "secrets", has_status=False),
    _k("", "v1", "ConfigMap", "configmaps", short=("cm",), has_status=False),
    _k("", "v1", "Service", "services", short=("svc",), categories=_ALL, subresources=("status",)),
    _k(
        "",
        "v1",
        "ServiceAccount",
        "serviceaccounts",
        short=("sa",),
        subresources=("token",),
        has_status=False,
    ),
    _k(
        "",
        "v1",
        "ReplicationController",
        "replicationcontrollers",
        short=("rc",),
        categories=_ALL,
        subresources=("status", "scale"),
    ),
    _k("", "v1", "PodTemplate", "podtemplates", has_status=False),
    _k("", "v1", "ResourceQuota", "resourcequotas", short=("quota",), subresources=("status",)),
    _k("", "v1", "LimitRange", "limitranges", short=("limits",), has_status=False),
    _k(
        "",
        "v1",
        "PersistentVolumeClaim",
        "persistentvolumeclaims",
        short=("pvc",),
        subresources=("status",),
    ),
    _k(
        "",
        "v1",
        "PersistentVolume",
        "persistentvolumes",
        namespaced=False,
        short=("pv",),
        subresources=("status",),
    ),
    _k("", "v1", "Endpoints", "endpoints", short=("ep",), has_status=False),
    _k(
        "apps",
        "v1",
        "Deployment",
        "deployments",
        short=("deploy",),
        categories=_ALL,
        subresources=("status", "scale"),
    ),
    _k(
        "apps",
        "v1",
        "StatefulSet",
        "statefulsets",
        short=("sts",),
        categories=_ALL,
        subresources=("status", "scale"),
    ),
    _k(
        "apps",
        "v1",
        "ReplicaSet",
        "replicasets",
        short=("rs",),
        categories=_ALL,
        subresources=("status", "scale"),
    ),
    _k(
        "apps",
        "v1",
        "DaemonSet",
        "daemonsets",
        short=("ds",),
        categories=_ALL,
        subresources=("status",),
    ),
    _k(
        "apps",
        "v1",
        "ControllerRevision",
        "controllerrevisions",
        has_status=False,
    ),
    _k("batch", "v1", "Job", "jobs", categories=_ALL, subresources=("status",)),
    _k(
        "batch",
        "v1",
        "CronJob",
        "cronjobs",
        short=("cj",),
        categories=_ALL,
        subresources=("status",),
    ),
    _k(
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        short=("hpa",),
        categories=_ALL,
        subresources=("status",),
    ),
    _k("networking.k8s.io", "v1", "Ingress", "ingresses", short=("ing",), subresources=("status",)),
    _k(
        "networking.k8s.io",
        "v1",
        "IngressClass",
        "ingressclasses",
        namespaced=False,
        has_status=False,
    ),
    _k(
        "networking.k8s.io",
        "v1",
        "NetworkPolicy",
        "networkpolicies",
        short=("netpol",),
        has_status=False,
    ),
    _k(
        "policy",
        "v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        short=("pdb",),
        subresources=("status",),
    ),
    _k("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", has_status=False),
    _k(
        "scheduling.k8s.io",
        "v1",
        "PriorityClass",
        "priorityclasses",
        namespaced=False,
        short=("pc",),
        has_status=False,
    ),
    _k(
        "storage.k8s.io",
        "v1",
        "StorageClass",
        "storageclasses",
        namespaced=False,
        short=("sc",),
        has_status=False,
    ),
    _k(
        "apiregistration.k8s.io",
        "v1",
        "APIService",
        "apiservices",
        namespaced=False,
        subresources=("status",),
    ),
    _k("rbac.authorization.k8s.io", "v1", "Role", "roles", has_status=False),
    _k("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", has_status=False),
    _k(
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRole",
        "clusterroles",
        namespaced=False,
        has_status=False,
    ),
    _k(
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
        namespaced=False,
        has_status=False,
    ),
    _k(
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        namespaced=False,
        short=("crd", "crds"),
        subresources=("status",),
    ),
    _k("events.k8s.io", "v1", "Event", "events", short=("ev",), has_status=False),
    _k("coordination.k8s.io", "v1", "Lease", "leases", has_status=False),
    _k(
        "authorization.k8s.io",
        "v1",
        "SelfSubjectAccessReview",
        "selfsubjectaccessreviews",
        namespaced=False,
        verbs=_RO_VERBS,
    ),
    _k(
        "authorization.k8s.io",
        "v1",
        "SelfSubjectRulesReview",
        "selfsubjectrulesreviews",
        namespaced=False,
        verbs=_RO_VERBS,
    ),
    _k(
        "authentication.k8s.io",
        "v1",
        "SelfSubjectReview",
        "selfsubjectreviews",
        namespaced=False,
        verbs=_RO_VERBS,
    ),
)


@dataclass(frozen=True)
class CustomKind:
    """A custom kind the simulator models: served only once its CRD exists.

    `info` names the storage version; `older_versions` are the other versions the CRD serves.
    """

    info: KindInfo
    older_versions: tuple[str, ...] = ()


def _flux(
    group: str, kind: str, plural: str, short: tuple[str, ...], versions: tuple[str, ...]
) -> CustomKind:
    info = KindInfo(
        group=f"{group}.toolkit.fluxcd.io",
        version=versions[0],
        kind=kind,
        plural=plural,
        namespaced=True,
        short_names=short,
        subresources=("status",),
        crd_name=f"{plural}.{group}.toolkit.fluxcd.io",
    )
    return CustomKind(info, versions[1:])


# The Flux 2.4 kinds (`flux install`), storage version first.
FLUX_KINDS: tuple[CustomKind, ...] = (
    _flux("source", "GitRepository", "gitrepositories", ("gitrepo",), ("v1", "v1beta2")),
    _flux("source", "HelmRepository", "helmrepositories", ("helmrepo",), ("v1", "v1beta2")),
    _flux("source", "HelmChart", "helmcharts", ("hc",), ("v1", "v1beta2")),
    _flux("source", "OCIRepository", "ocirepositories", ("ocirepo",), ("v1beta2",)),
    _flux("source", "Bucket", "buckets", (), ("v1beta2",)),
    _flux("kustomize", "Kustomization", "kustomizations", ("ks",), ("v1", "v1beta2")),
    _flux("helm", "HelmRelease", "helmreleases", ("hr",), ("v2", "v2beta2", "v2beta1")),
    _flux("notification", "Alert", "alerts", (), ("v1beta3", "v1beta2")),
    _flux("notification", "Provider", "providers", (), ("v1beta3", "v1beta2")),
    _flux("notification", "Receiver", "receivers", (), ("v1", "v1beta2")),
)


def known_kind(kind: str) -> KindInfo | None:
    """The preferred served version of a kind by its name (built-ins first, core first)."""
    for info in BUILTIN_KINDS:
        if info.kind == kind:
            return info
    for custom in FLUX_KINDS:
        if custom.info.kind == kind:
            return custom.info
    return None


def api_version_of(kind: str) -> str:
    """`apps/v1` for Deployment, `kustomize.toolkit.fluxcd.io/v1` for Kustomization; `v1` else."""
    info = known_kind(kind)
    return info.api_version if info is not None else "v1"


# Preferred order of groups in discovery, as a real server lists them.
_GROUP_ORDER = (
    "",
    "apiregistration.k8s.io",
    "apps",
    "events.k8s.io",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "networking.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "apiextensions.k8s.io",
    "scheduling.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
)


class KindRegistry:
    """Thread-safe lookup of served kinds; CRDs are added and removed at runtime."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kinds: list[KindInfo] = list(BUILTIN_KINDS)
        self._generation = 0

    @property
    def generation(self) -> int:
        """Bumped on every change so discovery caches can tell when to rebuild."""
        return self._generation

    def all(self) -> list[KindInfo]:
        """Every served kind, built-ins first."""
        with self._lock:
            return list(self._kinds)

    def groups(self) -> list[tuple[str, list[str]]]:
        """[(group, [versions, preferred first])] in discovery order (core group excluded)."""
        order: dict[str, list[str]] = {}
        with self._lock:
            for info in self._kinds:
                versions = order.setdefault(info.group, [])
                if info.version not in versions:
                    versions.append(info.version)
        known = [g for g in _GROUP_ORDER if g in order]
        extra = sorted(g for g in order if g not in _GROUP_ORDER)
        return [(g, order[g]) for g in [*known, *extra] if g]

    def for_group_version(self, group: str, version: str) -> list[KindInfo]:
        """Kinds served at `group/version`."""
        with self._lock:
            return [k for k in self._kinds if k.group == group and k.version == version]

    def by_resource(self, group: str, version: str, plural: str) -> KindInfo | None:
        """The kind served at `/apis/group/version/plural`, or None (404)."""
        with self._lock:
            for k in self._kinds:
                if k.group == group and k.version == version and k.plural == plural:
                    return k
        return None

    def by_kind(self, api_version: str, kind_or_plural: str) -> KindInfo | None:
        """The kind by apiVersion and either its Kind or its plural resource name."""
        group, version = split_api_version(api_version)
        with self._lock:
            for k in self._kinds:
                if (
                    k.group == group
                    and k.version == version
                    and kind_or_plural in (k.kind, k.plural)
                ):
                    return k
        return None

    def add_crd(self, crd: dict[str, Any]) -> list[KindInfo]:
        """Serve the resources a CustomResourceDefinition declares (replacing earlier ones)."""
        spec = crd.get("spec") or {}
        names = spec.get("names") or {}
        group = str(spec.get("group", ""))
        name = str((crd.get("metadata") or {}).get("name", ""))
        added: list[KindInfo] = []
        for ver in spec.get("versions") or []:
            if not ver.get("served", True):
                continue
            subs = ver.get("subresources") or {}
            added.append(
                KindInfo(
                    group=group,
                    version=str(ver.get("name")),
                    kind=str(names.get("kind", "")),
                    plural=str(names.get("plural", "")),
                    namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                    short_names=tuple(names.get("shortNames") or ()),
                    categories=tuple(names.get("categories") or ()),
                    subresources=("status",) if "status" in subs else (),
                    has_status="status" in subs,
                    singular=str(names.get("singular", "")),
                    list_kind=str(names.get("listKind", "")),
                    crd_name=name,
                )
            )
        with self._lock:
            self._kinds = [k for k in self._kinds if k.crd_name != name or not name]
            self._kinds.extend(added)
            self._generation += 1
        return added

    def remove_crd(self, name: str) -> None:
        """Stop serving the resources of the CRD called `name`."""
        with self._lock:
            self._kinds = [k for k in self._kinds if k.crd_name != name]
            self._generation += 1
