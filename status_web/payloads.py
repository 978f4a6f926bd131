"""The JSON bodies of the service (besides the canonical status itself), built from an observation.

Pydantic models at the edge: they give the OpenAPI schema and the camelCase wire names.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from appliance.canonical import (
    ActiveOperation,
    ApplianceStatus,
    Blocker,
    BootstrapState,
    ClusterInfo,
    Component,
    EventSummary,
    FluxSummary,
    LoginProbe,
    RollupState,
    TierName,
    Tiers,
)
from appliance.tier_table import TIERS
from status_web.observations import Observation

__all__ = [
    "Diagnostics",
    "ErrorBody",
    "Health",
    "Overview",
    "Phase",
    "SupportBundle",
    "current_phase",
    "diagnostics_of",
    "overview_of",
    "status_of",
]

# Where the install is: a tier (tier_table.TIERS) or done.
Phase = TierName | Literal["complete"]

# The command a support engineer runs on a machine with the kubeconfig; its output is what
# `appliance status --from-dump` reads offline (F028).
SUPPORT_BUNDLE_COMMAND = (
    "kubectl get nodes,pods,events,deployments,statefulsets,jobs,persistentvolumeclaims,"
    "gitrepositories.source.toolkit.fluxcd.io,kustomizations.kustomize.toolkit.fluxcd.io,"
    "helmreleases.helm.toolkit.fluxcd.io -A -o json > appliance-dump.json"
)


class _Wire(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, frozen=True, extra="forbid"
    )


class Health(_Wire):
    """Liveness: says nothing about the appliance, only that the service runs."""

    status: Literal["ok"] = "ok"


class ErrorBody(_Wire):
    """An error a client can act on."""

    error: str = Field(description="machine-readable code, e.g. 'unauthorized'")
    detail: str = Field(description="what happened and what to do next")


class Overview(_Wire):
    """The four things an admin needs during an install (F009), plus freshness."""

    site_id: str
    install_state: RollupState
    current_phase: Phase = Field(description="the first tier that is not ready, or 'complete'")
    login_ready: bool
    login_url: str | None = Field(description="set once login is ready")
    status_url: str | None = None
    next_action: str | None = None
    message: str
    timestamp: datetime = Field(description="cluster time the status describes")
    age_seconds: float = Field(description="seconds since the cluster last answered")
    api_reachable: bool
    api_error: str | None = None


class SupportBundle(_Wire):
    """How to capture the cluster state for offline diagnosis (F028)."""

    command: str
    analyze_command: str = "appliance status --from-dump appliance-dump.json"
    description: str = (
        "Run on a machine with the appliance kubeconfig, then send appliance-dump.json to "
        "support; `appliance status --from-dump` reads it offline."
    )


class Diagnostics(_Wire):
    """Everything a support engineer looks at (F010)."""

    site_id: str
    timestamp: datetime
    install_state: RollupState
    message: str
    next_action: str | None = None
    tiers: Tiers
    components: list[Component]
    top_blockers: list[Blocker]
    recent_events: list[EventSummary]
    active_operations: list[ActiveOperation]
    login_probe: LoginProbe
    bootstrap: BootstrapState
    flux: FluxSummary
    cluster: ClusterInfo
    support_bundle: SupportBundle
    age_seconds: float
    api_reachable: bool


def current_phase(status: ApplianceStatus) -> Phase:
    """Where the install is: the first unready tier in install order, or 'complete'.

    The rollup has the last word: once login is ready the install is in its background phase
    (or complete), whatever an earlier tier's reasons still mention.
    """
    tiers = status.tiers
    state = status.rollup.state
    if state is RollupState.FULLY_HEALTHY:
        return "complete"
    if state.login_ready:
        return "complete" if tiers.background.ready else "background"
    for spec in TIERS:
        if not getattr(tiers, spec.name).ready:
            return spec.name
    return "complete"


def status_of(observation: Observation) -> ApplianceStatus:
    """The canonical status; when stale, its cluster block says the API is unreachable now."""
    status = observation.status
    if not observation.stale:
        return status
    cluster = status.cluster.model_copy(update={"reachable": False, "error": observation.api_error})
    return status.model_copy(update={"cluster": cluster})


def _api_reachable(observation: Observation) -> bool:
    return not observation.stale and observation.status.cluster.reachable


def overview_of(observation: Observation) -> Overview:
    """The overview payload of /api/overview and the overview page."""
    status = observation.status
    login_ready = status.rollup.state.login_ready
    return Overview(
        site_id=status.site_id,
        install_state=status.rollup.state,
        current_phase=current_phase(status),
        login_ready=login_ready,
        login_url=status.urls.login_url if login_ready else None,
        status_url=status.urls.status_url,
        next_action=status.rollup.next_action,
        message=status.rollup.message,
        timestamp=status.timestamp,
        age_seconds=round(observation.age_seconds, 1),
        api_reachable=_api_reachable(observation),
        api_error=observation.api_error or status.cluster.error,
    )


def diagnostics_of(observation: Observation) -> Diagnostics:
    """The diagnostics payload of /api/diagnostics and the diagnostics page."""
    status = status_of(observation)
    return Diagnostics(
        site_id=status.site_id,
        timestamp=status.timestamp,
        install_state=status.rollup.state,
        message=status.rollup.message,
        next_action=status.rollup.next_action,
        tiers=status.tiers,
        components=status.components,
        top_blockers=status.top_blockers,
        recent_events=status.recent_events,
        active_operations=status.active_operations,
        login_probe=status.login_probe,
        bootstrap=status.bootstrap,
        flux=status.flux,
        cluster=status.cluster,
        support_bundle=SupportBundle(command=SUPPORT_BUNDLE_COMMAND),
        age_seconds=round(observation.age_seconds, 1),
        api_reachable=_api_reachable(observation),
    )
