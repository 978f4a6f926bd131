"""Readiness tiers: the rules behind each tier of `tier_table.TIERS`, and fullHealth.

Every tier that is not ready carries at least one reason. Background is computed on its own
and never gates login. LOGIN_READY needs the HTTP login probe (F026). docs/architecture.md,
"Tiers", lists the rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from appliance.canonical import (
    ActiveOperation,
    BootstrapJob,
    JobState,
    LoginProbe,
    Tier,
    Tiers,
)
from appliance.flux_views import FluxView
from appliance.health import flux_health, workload_health
from appliance.indexing import Index, first_waiting
from appliance.operations import pull_text
from appliance.tier_table import (
    BOOTSTRAP_COMPONENT,
    STATUS_SERVICE,
    TIERS,
    TierSpec,
    owns_kustomization,
    tier_spec,
)
from appliance.views import NodeView, PodView, WorkloadView

__all__ = ["TierInputs", "compute_tiers"]


@dataclass(frozen=True)
class TierInputs:
    """What the tiers need besides the snapshot."""

    login_probe: LoginProbe | None
    users_count: int | None
    users_count_measurable: bool
    bootstrap_job: BootstrapJob
    # Image pulls in progress: a component waiting for its image says so, not "not ready".
    active_operations: tuple[ActiveOperation, ...] = ()

    def pull_of(self, component: str) -> ActiveOperation | None:
        """The oldest pull in progress for a component."""
        return next((op for op in self.active_operations if op.component == component), None)


def _ready_condition(view: FluxView | NodeView | None) -> tuple[bool, str]:
    if view is None:
        return False, "not found"
    cond = view.ready_condition
    if cond is None:
        return False, "no Ready condition yet"
    if isinstance(view, FluxView) and view.routine_reconcile:
        return True, ""  # the interval's reconcile of what it applied: still ready
    return (True, "") if cond.true else (False, cond.why())


def _component_reason(index: Index, name: str, inputs: TierInputs) -> str | None:
    state = index.component(name)
    if state.ready:
        return None
    if not state.present:
        return f"{name} is not deployed yet"
    pull = inputs.pull_of(name)
    detail = (
        pull_text(pull) if pull else _workload_detail(state.workloads) or _pod_detail(state.pods)
    )
    return f"{name} is not ready" + (f" ({detail})" if detail else "")


def _workload_detail(workloads: list[WorkloadView]) -> str | None:
    for view in workloads:
        if view.ready_replicas != view.replicas:
            health = workload_health(view)
            rollout = f"; {health.reason}" if health.verdict in ("Suspended", "Degraded") else ""
            return f"{view.ready_replicas}/{view.replicas} ready{rollout}"
    return None


def _unsettled(index: Index) -> list[str]:
    """Our objects that serve but have not settled: a rollout in progress, paused or timed out,
    a Flux object still reconciling or suspended. Full health waits for them (issue 10)."""
    found = [
        f"{view.component or view.ref.name}: {health.reason}"
        for view in index.workloads
        if view.ready and not (health := workload_health(view)).healthy
    ]
    found.extend(
        f"{flux.ref.kind} {flux.ref.name}: {health.reason}"
        for flux in (*index.git_repositories, *index.kustomizations, *index.helm_releases)
        if (health := flux_health(flux)).verdict in ("Progressing", "Suspended")
        and not flux.routine_reconcile
    )
    return found


def _pod_detail(pods: list[PodView]) -> str | None:
    found = first_waiting(pods)
    if found is not None:
        return found[0]
    return next((pod.phase for pod in pods if pod.phase and pod.phase != "Running"), None)


def _component_reasons(index: Index, spec: TierSpec, inputs: TierInputs) -> list[str]:
    return [r for c in spec.components if (r := _component_reason(index, c, inputs))]


def _kustomization_reason(index: Index, spec: TierSpec, *, required: bool) -> str | None:
    """Why the tier's own Kustomization is not Ready (only a tier it applies alone reads it)."""
    if not owns_kustomization(spec) or spec.kustomization is None:
        return None
    name = spec.kustomization
    found = index.flux_named("Kustomization", name)
    if found is None:
        if not required:
            return None
        return (
            f"Flux Kustomization {name} not found (not applied yet, or an install from "
            "before the platform/core/background split)"
        )
    ok, why = _ready_condition(found)
    return None if ok else f"Flux Kustomization {name} not Ready ({why})"


def _platform(index: Index, inputs: TierInputs) -> Tier:  # noqa: PLR0912 - a checklist
    snap = index.snapshot
    if snap.api_error:
        return Tier(ready=False, reasons=[f"Kubernetes API unreachable: {snap.api_error}"])
    reasons: list[str] = []
    if not index.nodes:
        if snap.source == "live":
            reasons.append("no node has registered yet")
    else:
        for node in index.nodes:
            ok, why = _ready_condition(node)
            if not ok:
                reasons.append(f"node {node.ref.name} not Ready ({why})")
    if "GitRepository" in snap.missing_kinds:
        reasons.append("Flux is not installed (the GitRepository CRD is missing)")
    elif not index.git_repositories:
        reasons.append("no Flux GitRepository yet")
    else:
        for repo in index.git_repositories:
            ok, why = _ready_condition(repo)
            if not ok:
                reasons.append(f"Flux source {repo.ref.name} not Ready ({why})")
    # The platform Kustomization, not the aggregate (F020/F021): background never gates login.
    kustomization = _kustomization_reason(index, tier_spec("platform"), required=True)
    if kustomization:
        reasons.append(kustomization)
    status_reason = _component_reason(index, STATUS_SERVICE, inputs)
    if status_reason:
        if not index.component(STATUS_SERVICE).present:
            status_reason = (
                "the status service is absent (appliance-system has no appliance-status)"
                if "appliance-system" not in index.namespaces_seen
                else "the status service Deployment appliance-status is missing"
            )
        reasons.append(status_reason)
    return Tier(ready=not reasons, reasons=reasons)


def _core(index: Index, inputs: TierInputs) -> Tier:
    reasons = _component_reasons(index, tier_spec("core"), inputs)
    return Tier(ready=not reasons, reasons=reasons)


def _bootstrap(index: Index, core: Tier, inputs: TierInputs) -> Tier:
    reasons: list[str] = []
    notes: list[str] = []
    if not core.ready:
        reasons.append("waiting for the core tier")
    job = inputs.bootstrap_job
    if job.name is None:
        # Fallback when the Job was never observed (e.g. cleaned up): the HelmRelease's health.
        ok, why = _ready_condition(index.flux_named("HelmRelease", "alga-core"))
        if not ok:
            reasons.append(
                f"bootstrap Job not observed and HelmRelease alga-core not Ready ({why})"
            )
        else:
            notes.append("bootstrap Job not observed; HelmRelease alga-core is Ready")
    elif job.state is JobState.COMPLETED:
        if inputs.users_count_measurable and inputs.users_count is not None:
            if inputs.users_count <= 0:
                reasons.append(f"bootstrap Job {job.name} completed but no users are seeded")
            else:
                notes.append(f"{inputs.users_count} users seeded")
        else:
            notes.append(
                f"bootstrap Job {job.name} completed; seeded users not verified (the count "
                "cannot be measured here)"
            )
    else:
        reasons.append(_unfinished_job_reason(index, job, inputs))
    ready = not reasons
    return Tier(ready=ready, reasons=notes if ready else reasons)


def _unfinished_job_reason(index: Index, job: BootstrapJob, inputs: TierInputs) -> str:
    if job.state is JobState.FAILED:
        return f"bootstrap Job {job.name} failed" + (f": {job.message}" if job.message else "")
    if job.state is JobState.RUNNING:
        return _running_job_reason(index, job, inputs)
    if job.message and "suspended" in job.message:
        return f"bootstrap Job {job.name} is {job.message}: it runs only once resumed"
    return f"bootstrap Job {job.name} is waiting to start"


def _running_job_reason(index: Index, job: BootstrapJob, inputs: TierInputs) -> str:
    """A running Job whose pod still waits (the 1.8 GB image) is not migrating yet: say so."""
    pull = inputs.pull_of(BOOTSTRAP_COMPONENT)
    if pull is not None:
        return f"bootstrap Job {job.name} has not started its migrations: {pull_text(pull)}"
    pods = [p for p in index.component(BOOTSTRAP_COMPONENT).pods if not p.finished]
    waiting = first_waiting(pods)
    if waiting is not None:
        return f"bootstrap Job {job.name} has not started its migrations: its pod is {waiting[0]}"
    if job.message:  # "2 failed attempt(s), retrying"
        return f"bootstrap Job {job.name} is running (migrations and seeds; {job.message})"
    return f"bootstrap Job {job.name} is running (migrations and seeds)"


def _login(index: Index, bootstrap: Tier, inputs: TierInputs) -> Tier:
    reasons: list[str] = []
    notes: list[str] = []
    if not bootstrap.ready:
        reasons.append("waiting for the bootstrap tier")
    reasons.extend(_component_reasons(index, tier_spec("login"), inputs))
    probe = inputs.login_probe
    if probe is None or not probe.attempted:
        if index.snapshot.source == "dump" and probe is None:
            notes.append("app URL not probed (offline dump); alga-core readiness counted instead")
        else:
            reasons.append(
                "the app URL was not probed" + (f": {probe.error}" if probe and probe.error else "")
            )
    elif not probe.ok:
        what = f"HTTP {probe.status_code}" if probe.status_code else (probe.error or "no answer")
        reasons.append(f"the app URL {probe.url} does not answer yet ({what})")
    ready = not reasons
    return Tier(ready=ready, reasons=notes if ready else reasons)


def _background(index: Index, inputs: TierInputs) -> Tier:
    spec = tier_spec("background")
    reasons = _component_reasons(index, spec, inputs)
    # An install from before the split has no alga-background: its absence is no reason.
    kustomization = _kustomization_reason(index, spec, required=False)
    if kustomization:
        reasons.append(kustomization)
    return Tier(ready=not reasons, reasons=reasons)


def compute_tiers(index: Index, inputs: TierInputs) -> Tiers:
    """All tiers for a digested snapshot."""
    platform = _platform(index, inputs)
    core = _core(index, inputs)
    bootstrap = _bootstrap(index, core, inputs)
    login = _login(index, bootstrap, inputs)
    if login.ready and not platform.ready:
        # Login answers, so the platform serves it: platform gaps stay visible, but as notes.
        login = Tier(ready=True, reasons=[*login.reasons, "platform tier not fully ready"])
    background = _background(index, inputs)
    tiers = {
        "platform": platform,
        "core": core,
        "bootstrap": bootstrap,
        "login": login,
        "background": background,
    }
    full_reasons = [
        f"{spec.name}: {tier.reasons[0] if tier.reasons else 'not ready'}"
        for spec in TIERS
        if not (tier := tiers[spec.name]).ready
    ]
    full_reasons.extend(_unsettled(index))
    return Tiers(
        **tiers,
        full_health=Tier(ready=not full_reasons, reasons=full_reasons),
    )
