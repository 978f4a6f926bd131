"""The canonical appliance status: the one JSON shape every consumer reads.

Field names follow the field log (camelCase on the wire, snake_case in Python). This module is
the contract between the status engine, the status service, the bootstrapper's smoke checks and
support engineers reading a dump; `appliance/schema/appliance-status.schema.json` is generated
from it and a test keeps the two in step.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

__all__ = [
    "ActiveOperation",
    "ApplianceStatus",
    "Blocker",
    "BootstrapJob",
    "BootstrapState",
    "ClusterInfo",
    "Component",
    "EventSummary",
    "Evidence",
    "FluxObject",
    "FluxSummary",
    "JobState",
    "LoginProbe",
    "Release",
    "Rollup",
    "RollupChange",
    "RollupState",
    "SeedState",
    "Tier",
    "TierName",
    "Tiers",
    "Urls",
]


class _Wire(BaseModel):
    """Base for every wire model: camelCase aliases, immutable, unknown fields rejected."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        extra="forbid",
    )


class RollupState(StrEnum):
    """The one word an admin reads first."""

    INSTALLING = "installing"
    READY = "ready"
    READY_WITH_BACKGROUND_ISSUES = "ready_with_background_issues"
    FULLY_HEALTHY = "fully_healthy"
    FAILED_ACTION_REQUIRED = "failed_action_required"

    @property
    def login_ready(self) -> bool:
        """True for the states in which the admin can log in."""
        return self in {
            RollupState.READY,
            RollupState.READY_WITH_BACKGROUND_ISSUES,
            RollupState.FULLY_HEALTHY,
        }


TierName = Literal["platform", "core", "bootstrap", "login", "background"]


class Release(_Wire):
    """What release the appliance runs and which Git revision Flux applied."""

    selected_release_version: str | None = None
    app_version: str | None = None
    channel: str | None = None
    git_revision: str | None = None


class Urls(_Wire):
    """Where the admin goes: the status page now, the app once login is ready."""

    status_url: str | None = None
    login_url: str | None = None


class Rollup(_Wire):
    """The headline: state, a sentence, and the single next action (if any)."""

    state: RollupState
    message: str
    next_action: str | None = None


class Tier(_Wire):
    """One readiness tier; `reasons` explains every tier that is not ready."""

    ready: bool
    reasons: list[str] = Field(default_factory=list)
    since: datetime | None = Field(
        default=None,
        description="cluster time the tier last turned ready (or not ready), as the status "
        "service saw it; null from a one-off reading (`appliance status`, a dump)",
    )


class Tiers(_Wire):
    """The readiness tiers (appliance/tier_table.py); background never gates login."""

    platform: Tier
    core: Tier
    bootstrap: Tier
    login: Tier
    background: Tier
    full_health: Tier


class Evidence(_Wire):
    """The object and message a blocker was inferred from, and since when it holds."""

    object: str = Field(description="kind/namespace/name of the object, e.g. Pod/msp/db-0")
    message: str
    since: datetime | None = None


class Blocker(_Wire):
    """One thing in the way, with what to do about it."""

    layer: str = Field(description="e.g. 'Platform DNS resolution', 'Image tag availability'")
    component: str | None = None
    reason: str
    next_action: str
    login_blocking: bool
    retryable: bool = False
    since: datetime | None = None
    evidence: list[Evidence] = Field(default_factory=list)


class Component(_Wire):
    """A workload of the appliance, identified by label or name prefix."""

    name: str
    tier: TierName
    ready: bool
    kind: str | None = Field(default=None, description="Deployment, StatefulSet, Job or Pod")
    namespace: str | None = None
    replicas: int | None = None
    ready_replicas: int | None = None
    message: str | None = None


class EventSummary(_Wire):
    """A Kubernetes Event, flattened."""

    timestamp: datetime | None
    type: str | None = None
    reason: str | None = None
    object: str
    message: str
    count: int | None = None


class ActiveOperation(_Wire):
    """Long work in progress that is not a failure, e.g. a 1.8 GB image pull."""

    component: str
    image: str
    elapsed_seconds: float
    estimated_size: str | None = Field(default=None, description="human size, e.g. '~1.8 GB'")
    estimated_size_bytes: int | None = None
    expected_seconds: float | None = Field(
        default=None,
        description="how long a pull of this size took at the pace the field log measured "
        "(1.8 GB in 16m02s): a yardstick, not a promise",
    )
    progress_available: bool = False
    note: str


class LoginProbe(_Wire):
    """The HTTP probe of the app URL that LOGIN_READY depends on."""

    url: str | None = None
    attempted: bool = False
    ok: bool = False
    status_code: int | None = None
    location: str | None = None
    elapsed_ms: float | None = None
    error: str | None = None
    checked_at: datetime | None = None


class JobState(StrEnum):
    """Where the bootstrap Job (migrations + seeds) is."""

    WAITING = "waiting"
    RUNNING = "running"
    FAILED = "failed"
    COMPLETED = "completed"


class BootstrapJob(_Wire):
    """The newest bootstrap Job observed."""

    name: str | None = None
    namespace: str | None = None
    state: JobState = JobState.WAITING
    message: str | None = None


class SeedState(_Wire):
    """Seeded users; null when it could not be measured (no exec right, offline dump)."""

    users_count: int | None = None
    verified: bool = False
    note: str | None = None


class BootstrapState(_Wire):
    """The bootstrap Job and its proof of success."""

    job: BootstrapJob = Field(default_factory=BootstrapJob)
    seed: SeedState = Field(default_factory=SeedState)


class FluxObject(_Wire):
    """A Flux GitRepository, Kustomization or HelmRelease, flattened."""

    kind: str
    namespace: str | None = None
    name: str
    ready: bool | None
    reason: str | None = None
    message: str | None = None
    revision: str | None = None


class FluxSummary(_Wire):
    """Flux as the diagnostics page shows it."""

    source: FluxObject | None = None
    kustomizations: list[FluxObject] = Field(default_factory=list)
    helm_releases: list[FluxObject] = Field(default_factory=list)


class RollupChange(_Wire):
    """One change of the rollup state or of which tiers are ready, as the status service saw it."""

    at: datetime = Field(description="cluster time of the change")
    state: RollupState
    ready_tiers: list[TierName] = Field(default_factory=list)


class ClusterInfo(_Wire):
    """Whether the Kubernetes API answered, and its clock."""

    reachable: bool
    error: str | None = None
    server_time: datetime | None = None
    source: Literal["live", "dump"] = "live"


class ApplianceStatus(_Wire):
    """The canonical appliance status (docs/architecture.md, 'The canonical status')."""

    site_id: str
    timestamp: datetime = Field(description="cluster time the status describes")
    release: Release = Field(default_factory=Release)
    urls: Urls = Field(default_factory=Urls)
    rollup: Rollup
    tiers: Tiers
    top_blockers: list[Blocker] = Field(default_factory=list)
    components: list[Component] = Field(default_factory=list)
    recent_events: list[EventSummary] = Field(default_factory=list)
    active_operations: list[ActiveOperation] = Field(default_factory=list)
    login_probe: LoginProbe = Field(default_factory=LoginProbe)
    bootstrap: BootstrapState = Field(default_factory=BootstrapState)
    flux: FluxSummary = Field(default_factory=FluxSummary)
    cluster: ClusterInfo
    install_started: datetime | None = Field(
        default=None,
        description="cluster time the node joined Kubernetes (Talos bootstrapped): the start "
        "of the install's clock",
    )
    history: list[RollupChange] = Field(
        default_factory=list,
        description="the rollup's changes, oldest first, kept in memory by the status service "
        "(at most 200); empty from a one-off reading",
    )

    def to_json(self) -> str:
        """Canonical JSON text (camelCase, ISO timestamps)."""
        return self.model_dump_json(by_alias=True, indent=2)
