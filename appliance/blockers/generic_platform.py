"""Generic detectors of the platform: nodes, the status service, and Flux objects that failed
(source, Kustomizations, HelmReleases). Flux timeouts rank below every root cause (T009).
"""

from __future__ import annotations

import re

from appliance.blockers.evidence import login_critical, short, signal_tier
from appliance.blockers.registry import Covered, detector
from appliance.blockers.waited_for import healthy_now, waited_for
from appliance.canonical import Blocker, Evidence
from appliance.components import STATUS_SERVICE
from appliance.flux_views import FluxView
from appliance.indexing import Index
from appliance.snapshot import as_dict
from appliance.tier_table import tier_spec
from appliance.views import text

__all__ = [
    "LAYER_FLUX",
    "LAYER_FLUX_SOURCE",
    "LAYER_HELM",
    "LAYER_NODE",
    "LAYER_STATUS_SERVICE",
]

LAYER_NODE = "Kubernetes node"
LAYER_STATUS_SERVICE = "Status service"
LAYER_FLUX_SOURCE = "Flux source"
LAYER_FLUX = "Flux reconciliation"
LAYER_HELM = "Helm release"

_FLUX_PROGRESS = frozenset(
    {"Progressing", "DependencyNotReady", "ReconciliationInProgress", "ProgressingWithRetry"}
)
_NO_ARTIFACT_YET = "Source artifact not found"
# A change-set line kustomize-controller puts after an apply's error (fluxcd/pkg/ssa's
# ChangeSetEntry: what earlier stages of the refused apply changed), e.g.
# `Namespace/msp created`: the error is the line before them.
_CHANGE_SET_LINE = re.compile(r"[A-Za-z0-9]+/\S+ (created|configured|deleted|skipped|unchanged)")


@detector(layer=LAYER_NODE, rank=30, specialised=False)
def detect_nodes(index: Index, covered: Covered) -> list[Blocker]:
    """Nodes not Ready (or none registered while the API answers)."""
    snapshot = index.snapshot
    if snapshot.api_error:
        return []
    if not index.nodes:
        if snapshot.source == "dump":
            return []  # the dump may simply not include nodes
        return [
            Blocker(
                layer=LAYER_NODE,
                reason="No node has registered with Kubernetes yet.",
                next_action="Wait for the kubelet to register; `talosctl -n <node-ip> health`.",
                login_blocking=True,
                retryable=True,
                since=None,
            )
        ]
    blockers: list[Blocker] = []
    for node in index.nodes:
        if node.ready:
            continue
        cond, name = node.ready_condition, node.ref.name
        message = (cond.message if cond else None) or "node has no Ready condition"
        since = cond.since if cond else None
        blockers.append(
            Blocker(
                layer=LAYER_NODE,
                component=None,
                reason=f"Node {name} is not Ready: {short(message)}",
                next_action=(
                    f"Inspect the node: `kubectl describe node {name}` and "
                    "`talosctl -n <node-ip> health` (kubelet and CNI must be running)."
                ),
                login_blocking=True,
                retryable=False,
                since=since,
                evidence=[Evidence(object=f"Node/{name}", message=message, since=since)],
            )
        )
    return blockers


@detector(layer=LAYER_STATUS_SERVICE, rank=140, specialised=False)
def detect_status_service(index: Index, covered: Covered) -> list[Blocker]:
    """finding-20: the status service is part of the platform tier; its absence is reported."""
    snapshot = index.snapshot
    if snapshot.api_error or index.component(STATUS_SERVICE).present:
        return []
    platform = index.flux_named("Kustomization", tier_spec("platform").kustomization or "")
    platform_ready = platform is not None and platform.ready is True
    if "appliance-system" in index.namespaces_seen:
        reason = "The status service (Deployment appliance-system/appliance-status) is missing."
    else:
        reason = (
            "The status service is absent: namespace appliance-system has no workloads, so the "
            "status page on :8080 cannot answer."
        )
    return [
        Blocker(
            layer=LAYER_STATUS_SERVICE,
            component=STATUS_SERVICE,
            reason=reason,
            next_action=(
                "Let Flux apply alga-platform (`flux -n flux-system reconcile kustomization "
                "alga-platform --with-source`); on a node that is already installed, use "
                "`appliance bootstrap --bootstrap-mode recover` (or `appliance reset`) rather "
                "than fresh."
            ),
            # Login does not go through the status page, so its absence never blocks login.
            login_blocking=False,
            # Until alga-platform is Ready the service is simply not applied yet.
            retryable=not platform_ready,
            since=None,
            evidence=[
                Evidence(
                    object="Namespace/appliance-system",
                    message="no appliance-status workload found",
                    since=None,
                )
            ],
        )
    ]


@detector(layer=LAYER_FLUX_SOURCE, rank=150, specialised=False)
def detect_flux_source(index: Index, covered: Covered) -> list[Blocker]:
    """A Flux GitRepository failed (generic; a DNS failure behind it ranks first)."""
    return _flux_failures(index, covered, "GitRepository", LAYER_FLUX_SOURCE)


@detector(layer=LAYER_FLUX, rank=160, specialised=False)
def detect_kustomizations(index: Index, covered: Covered) -> list[Blocker]:
    """A Flux Kustomization failed (generic; root causes behind its health checks rank first)."""
    return _flux_failures(index, covered, "Kustomization", LAYER_FLUX)


@detector(layer=LAYER_HELM, rank=170, specialised=False)
def detect_helm_releases(index: Index, covered: Covered) -> list[Blocker]:
    """A Flux HelmRelease failed (generic; its timeout's root cause ranks first, T009)."""
    return _flux_failures(index, covered, "HelmRelease", LAYER_HELM)


def _flux_failures(index: Index, covered: Covered, kind: str, layer: str) -> list[Blocker]:
    """Flux objects of one kind that failed.

    Progress (Unknown, Progressing, DependencyNotReady) is not a blocker: the tiers show it.
    """
    blockers: list[Blocker] = []
    for flux in index.flux(kind):
        cond = flux.ready_condition
        ref, name, namespace = str(flux.ref), flux.ref.name, flux.ref.namespace
        if (cond is not None and cond.true) or ref in covered.objects:
            continue
        component = flux.component
        if cond is None or cond.status == "Unknown" or str(cond.reason) in _FLUX_PROGRESS:
            continue  # Flux working through its order (dependsOn, health checks): progress
        if cond.reason == "ArtifactFailed" and (cond.message or "").startswith(_NO_ARTIFACT_YET):
            # kustomize-controller before source-controller's first fetch (seen on the real
            # control plane): the source exists and has no artifact yet; a source that failed is
            # its own blocker.
            continue
        reason = cond.reason
        message = cond.message or "not reconciled yet"
        since = cond.since
        verb = {"GitRepository": "source", "Kustomization": "kustomization"}.get(
            kind, "helmrelease"
        )
        said = f"{kind} {name} is not Ready ({reason or 'Unknown'}): {short(_error_of(message))}"
        next_action = (
            f"Inspect with `flux -n {namespace or 'flux-system'} get {verb}s`; after "
            "fixing the cause, `flux -n "
            f"{namespace or 'flux-system'} reconcile {verb} {name} --with-source`."
        )
        recovered = reason == "HealthCheckFailed" and healthy_now(index, waited_for(message))
        if recovered:
            said, next_action = _awaiting_retry(flux, said, namespace or "flux-system")
        blockers.append(
            Blocker(
                layer=layer,
                component=component,
                reason=said,
                next_action=next_action,
                login_blocking=login_critical(signal_tier(component, namespace)),
                retryable=recovered,
                since=since,
                evidence=[Evidence(object=ref, message=message, since=since)],
            )
        )
    return blockers


def _error_of(message: str) -> str:
    """A Flux message without the change-set lines an apply's error ends with."""
    lines = message.rstrip("\n").split("\n")
    while len(lines) > 1 and _CHANGE_SET_LINE.fullmatch(lines[-1]):
        lines.pop()
    return "\n".join(lines)


def _awaiting_retry(flux: FluxView, said: str, namespace: str) -> tuple[str, str]:
    """A Kustomization's failed health check whose every object is healthy now: it only waits
    for kustomize-controller's retry (it watches none of them; see waited_for.py)."""
    spec = as_dict(flux.raw.get("spec"))
    retry = text(spec.get("retryInterval")) or text(spec.get("interval")) or "its interval"
    return (
        f"{said} Everything it waited for is ready now; kustomize-controller checks again at "
        f"its retry, {retry} after the failure.",
        "Nothing to fix: wait for the retry, or check now with `flux -n "
        f"{namespace} reconcile kustomization {flux.ref.name}`.",
    )
