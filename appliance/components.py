"""Components: which workload an object belongs to, and which tier that workload serves.

Identified by the label `app.kubernetes.io/name`, then `app`, then by name prefix
(docs/architecture.md, "Components"):
`db-0` -> db, `alga-core-<release>-bootstrap-r1-x` -> the bootstrap Job of alga-core,
`workflow-worker-7f..` -> workflow-worker.
"""

from __future__ import annotations

import re

from appliance.canonical import TierName
from appliance.snapshot import RawObject
from appliance.tier_table import (
    BOOTSTRAP_COMPONENT,
    STATUS_SERVICE,
    TIERS,
    kustomization_tier,
    kustomizations,
)

__all__ = [
    "APPLIANCE_NAMESPACES",
    "BOOTSTRAP_COMPONENT",
    "COMPONENTS_BY_TIER",
    "FLUX_SOURCE",
    "FLUX_TIER",
    "PLATFORM_NAMESPACES",
    "STATUS_SERVICE",
    "SYSTEM_NAMESPACES",
    "TIER_OF",
    "component_from_name",
    "component_of",
    "flux_component",
    "is_bootstrap_name",
    "is_foreign",
    "tier_of",
]

# The Flux GitRepository, as a component of the platform tier.
FLUX_SOURCE = "flux-source"

COMPONENTS_BY_TIER: dict[TierName, tuple[str, ...]] = {spec.name: spec.components for spec in TIERS}

# Flux Kustomizations of the split install (F020) and the tier whose readiness each one is.
FLUX_TIER: dict[str, TierName] = {
    name: tier for name in kustomizations() if (tier := kustomization_tier(name)) is not None
}

# Components, and the Flux objects of the split install named after the tier they feed (F020).
TIER_OF: dict[str, TierName] = {
    **FLUX_TIER,
    FLUX_SOURCE: "platform",
    **{component: spec.name for spec in TIERS for component in spec.components},
}

# Unknown workloads in these namespaces are infrastructure: treat them as platform.
PLATFORM_NAMESPACES = frozenset(
    {"kube-system", "local-path-storage", "flux-system", "appliance-system"}
)
# The appliance's own namespaces: components are identified here and nowhere else, so another
# team's `default/redis-master` (labelled app: redis) is never taken for our redis (issue 10).
APPLIANCE_NAMESPACES = frozenset({"msp", "alga-system", "appliance-system", "flux-system"})
# The node's own infrastructure (Talos runs CoreDNS, kube-proxy and the CNI in kube-system; the
# local-path provisioner that binds our claims runs in local-path-storage): never one of our
# components, always part of the platform tier.
SYSTEM_NAMESPACES = frozenset({"kube-system", "local-path-storage"})
_KNOWN_NAMESPACES = APPLIANCE_NAMESPACES | SYSTEM_NAMESPACES  # read for every pod and Event

# Longest first so `temporal-worker-..` is not taken for `temporal`; one pattern, tried in that
# order (a name is read for every pod and Event's object: one match, not a loop of prefixes).
_KNOWN_BY_LENGTH = sorted((c for c in TIER_OF if c != BOOTSTRAP_COMPONENT), key=len, reverse=True)
_KNOWN_PREFIX = re.compile("(" + "|".join(map(re.escape, _KNOWN_BY_LENGTH)) + r")(?:-|\Z)")
_BOOTSTRAP_NAME = re.compile(r"^alga-core(?:-[a-z0-9.-]+)?-bootstrap(?:-|$)")
# Pod name suffixes: Deployment `-<rs hash>-<5>`, Job/DaemonSet `-<5>`, StatefulSet `-<ordinal>`.
_DEPLOYMENT_POD = re.compile(r"^(.+?)-[a-z0-9]{6,10}-[a-z0-9]{5}$")
_ORDINAL_POD = re.compile(r"^(.+)-\d+$")
_JOB_POD = re.compile(r"^(.+)-[a-z0-9]{5}$")


def is_bootstrap_name(name: str) -> bool:
    """True for the bootstrap Job of alga-core and its pods (`alga-core-<rel>-bootstrap-r1-x`)."""
    return bool(_BOOTSTRAP_NAME.match(name))


def component_from_name(name: str) -> str | None:
    """The component a name belongs to by prefix; None when it matches no known component."""
    if is_bootstrap_name(name):
        return BOOTSTRAP_COMPONENT
    return _known_prefix(name)


def _known_prefix(name: str) -> str | None:
    match = _KNOWN_PREFIX.match(name)
    return match.group(1) if match else None


def _strip_pod_suffix(name: str) -> str:
    for pattern in (_DEPLOYMENT_POD, _ORDINAL_POD, _JOB_POD):
        match = pattern.match(name)
        if match:
            return match.group(1)
    return name


def is_foreign(namespace: str | None) -> bool:
    """Someone else's object: namespaced outside the appliance's and the node's namespaces."""
    return bool(namespace) and namespace not in _KNOWN_NAMESPACES


def component_of(obj: RawObject) -> str | None:  # noqa: PLR0911 - one return per rule
    """The component of a raw object: label `app.kubernetes.io/name`, then `app`, then name.

    A label whose value is no known component only wins when nothing identifies a known one,
    so a chart's own naming (`postgresql`) does not hide `db-0` from the core tier. Objects
    outside the appliance's namespaces are no component (None); the node's system pods are
    named after themselves, never after one of ours.
    """
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        return None
    name = meta.get("name")
    name = name if isinstance(name, str) else ""
    namespace = meta.get("namespace") if isinstance(meta.get("namespace"), str) else None
    if is_foreign(namespace):
        return None
    if namespace in SYSTEM_NAMESPACES:
        own = _strip_pod_suffix(name) if name else None
        return f"{namespace}/{own}" if own in TIER_OF else own
    if name and is_bootstrap_name(name):
        return BOOTSTRAP_COMPONENT
    labels = meta.get("labels")
    label_values: list[str] = []
    if isinstance(labels, dict):
        job_name = labels.get("job-name") or labels.get("batch.kubernetes.io/job-name")
        if isinstance(job_name, str) and is_bootstrap_name(job_name):
            return BOOTSTRAP_COMPONENT
        for key in ("app.kubernetes.io/name", "app"):
            value = labels.get(key)
            if isinstance(value, str) and value:
                if value in TIER_OF:
                    return value
                label_values.append(value)
    if name:
        known = _known_prefix(name)  # a bootstrap name returned above: that regex once a pod
        if known is not None:
            return known
    if label_values:
        return label_values[0]
    return _strip_pod_suffix(name) if name else None


def tier_of(component: str | None, *, namespace: str | None = None) -> TierName:
    """The tier a component serves; unknown ones by namespace (infrastructure -> platform)."""
    if component is not None:
        tier = TIER_OF.get(component)
        if tier is not None:
            return tier
    if namespace in PLATFORM_NAMESPACES:
        return "platform"
    return "background"


def flux_component(kind: str, name: str) -> str:
    """The component a Flux object deploys: HelmRelease by name, Kustomization by its tier."""
    if kind == "Kustomization" and name in FLUX_TIER and name != "alga-core":
        return name
    if kind == "GitRepository":
        return FLUX_SOURCE
    return component_from_name(name) or name
