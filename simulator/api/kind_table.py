"""The kinds the fake API serves, in one table: built-ins with kube-apiserver's scope, short names,
categories and subresources, and the Flux kinds (served once their CRDs exist).

`known_kind("Deployment")` and `api_version_of("Kustomization")` answer from it for callers that
name a kind without its group (the world's `get("Deployment", ...)`, the flux CLI).
"""

from __future__ import annotations

from simulator.api.flux_kind_rows import FLUX_KIND_ROWS
from simulator.api.kind_table_platform import PLATFORM_KINDS
from simulator.api.kinds import CRD_VERBS, CustomKind, KindInfo, builtin_kind

__all__ = ["BUILTIN_KINDS", "FLUX_KINDS", "GROUP_ORDER", "api_version_of", "known_kind"]

_RO_VERBS = ("create",)
_ALL = ("all",)


_k = builtin_kind


BUILTIN_KINDS: tuple[KindInfo, ...] = (
    _k(
        "",
        "v1",
        "Pod",
        "pods",
        short=("po",),
        categories=_ALL,
        subresources=("status", "log", "exec", "eviction", "binding", "ephemeralcontainers"),
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
        subresources=("status", "finalize"),
        # kube-apiserver deletes namespaces one at a time (its REST storage has no collection
        # delete): discovery names no deletecollection.
        verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
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
    # The older form of pods/binding, create only (subresources.bindings).
    _k("", "v1", "Binding", "bindings", has_status=False, verbs=_RO_VERBS),
    # Probes of the control plane made on each read (component_statuses.py).
    _k(
        "",
        "v1",
        "ComponentStatus",
        "componentstatuses",
        namespaced=False,
        short=("cs",),
        has_status=False,
        verbs=("get", "list"),
    ),
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
        categories=("api-extensions",),
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
        categories=("api-extensions",),
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
    # Asked on another's behalf (webhook servers, kube-rbac-proxy): subject_reviews.py.
    _k(
        "authorization.k8s.io",
        "v1",
        "SubjectAccessReview",
        "subjectaccessreviews",
        namespaced=False,
        verbs=_RO_VERBS,
    ),
    _k(
        "authorization.k8s.io",
        "v1",
        "LocalSubjectAccessReview",
        "localsubjectaccessreviews",
        verbs=_RO_VERBS,
    ),
    _k(
        "authentication.k8s.io",
        "v1",
        "TokenReview",
        "tokenreviews",
        namespaced=False,
        verbs=_RO_VERBS,
    ),
    *PLATFORM_KINDS,
)


def _flux(
    group: str, kind: str, plural: str, short: tuple[str, ...], versions: tuple[str, ...]
) -> CustomKind:
    info = KindInfo(
        group=group,
        version=versions[0],
        kind=kind,
        plural=plural,
        namespaced=True,
        short_names=short,
        subresources=("status",),
        crd_name=f"{plural}.{group}",
        verbs=CRD_VERBS,
    )
    return CustomKind(info, versions[1:])


# The Flux 2.4 kinds (`flux install`), storage version first.
FLUX_KINDS: tuple[CustomKind, ...] = tuple(_flux(*row) for row in FLUX_KIND_ROWS)


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
GROUP_ORDER = (
    "",
    "apiregistration.k8s.io",
    "apps",
    "events.k8s.io",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "networking.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "scheduling.k8s.io",
    "coordination.k8s.io",
    "node.k8s.io",
    "discovery.k8s.io",
    "resource.k8s.io",
    "flowcontrol.apiserver.k8s.io",
    "storagemigration.k8s.io",
)
