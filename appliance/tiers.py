"""Readiness tiers (DESIGN.md): platform, core, bootstrap, login, background, fullHealth.

Every tier that is not ready carries at least one reason. Background is computed on its own
and never gates login. LOGIN_READY needs the HTTP login probe (F026).
"""

from __future__ import annotations

from dataclasses import dataclass

from appliance.canonical import (
    Blocker,
    BootstrapJob,
    JobState,
    LoginProbe,
    Tier,
    Tiers,
)
from appliance.components import COMPONENTS_BY_TIER, STATUS_SERVICE, condition
from appliance.indexing import Index, first_waiting
from appliance.snapshot import RawObject

__all__ = ["TierInputs", "compute_tiers"]


@dataclass(frozen=True)
class TierInputs:
    """What the tiers need besides the snapshot."""

    login_probe: LoginProbe | None
    users_count: int | None
    users_count_measurable: bool
    bootstrap_job: BootstrapJob


def _ready_condition(obj: RawObject | None) -> tuple[bool, str]:
    if obj is None:
        return False, "not found"
    cond = condition(obj, "Ready")
    if cond is None:
        return False, "no Ready condition yet"
    if cond.get("status") == "True":
        return True, ""
    reason = cond.get("reason") or cond.get("status")
    message = cond.get("message") or ""
    return False, f"{reason}: {message}".strip().rstrip(":")


def _named(objects: tuple[RawObject, ...], name: str) -> RawObject | None:
    for obj in objects:
        meta = obj.get("metadata")
        if isinstance(meta, dict) and meta.get("name") == name:
            return obj
    return None


def _component_reason(index: Index, name: str) -> str | None:
    state = index.component(name)
    if state.ready:
        return None
    if not state.present:
        return f"{name} is not deployed yet"
    detail = _workload_detail(state.workloads) or _pod_detail(state.pods)
    return f"{name} is not ready" + (f" ({detail})" if detail else "")


def _workload_detail(workloads: list[RawObject]) -> str | None:
    for obj in workloads:
        spec = obj.get("spec")
        status = obj.get("status")
        want = spec.get("replicas", 1) if isinstance(spec, dict) else 1
        have = status.get("readyReplicas", 0) if isinstance(status, dict) else 0
        if have != want:
            return f"{have or 0}/{want} ready"
    return None


def _pod_detail(pods: list[RawObject]) -> str | None:
    found = first_waiting(pods)
    if found is not None:
        return found[0]
    for pod in pods:
        status = pod.get("status")
        phase = status.get("phase") if isinstance(status, dict) else None
        if isinstance(phase, str) and phase != "Running":
            return phase
    return None


def _platform(index: Index, blockers: list[Blocker]) -> Tier:  # noqa: PLR0912 - a checklist
    snap = index.snapshot
    if snap.api_error:
        return Tier(ready=False, reasons=[f"Kubernetes API unreachable: {snap.api_error}"])
    reasons: list[str] = []
    if not snap.nodes:
        if snap.source == "live":
            reasons.append("no node has registered yet")
    else:
        for node in snap.nodes:
            ok, why = _ready_condition(node)
            if not ok:
                meta = node.get("metadata")
                name = meta.get("name") if isinstance(meta, dict) else "?"
                reasons.append(f"node {name} not Ready ({why})")
    if "GitRepository" in snap.missing_kinds:
        reasons.append("Flux is not installed (the GitRepository CRD is missing)")
    elif not snap.git_repositories:
        reasons.append("no Flux GitRepository yet")
    else:
        for repo in snap.git_repositories:
            ok, why = _ready_condition(repo)
            if not ok:
                meta = repo.get("metadata")
                name = meta.get("name") if isinstance(meta, dict) else "?"
                reasons.append(f"Flux source {name} not Ready ({why})")
    # The platform Kustomization, not the aggregate (F020/F021): background never gates login.
    platform = _named(snap.kustomizations, "alga-platform")
    ok, why = _ready_condition(platform)
    if platform is None:
        reasons.append(
            "Flux Kustomization alga-platform not found (not applied yet, or an install from "
            "before the platform/core/background split)"
        )
    elif not ok:
        reasons.append(f"Flux Kustomization alga-platform not Ready ({why})")
    status_reason = _component_reason(index, STATUS_SERVICE)
    if status_reason:
        if not index.component(STATUS_SERVICE).present:
            status_reason = (
                "the status service is absent (appliance-system has no appliance-status)"
                if "appliance-system" not in index.namespaces_seen
                else "the status service Deployment appliance-status is missing"
            )
        reasons.append(status_reason)
    return Tier(ready=not reasons, reasons=reasons)


def _core(index: Index) -> Tier:
    reasons = [r for c in COMPONENTS_BY_TIER["core"] if (r := _component_reason(index, c))]
    return Tier(ready=not reasons, reasons=reasons)


def _bootstrap(index: Index, core: Tier, inputs: TierInputs) -> Tier:
    reasons: list[str] = []
    notes: list[str] = []
    if not core.ready:
        reasons.append("waiting for the core tier")
    job = inputs.bootstrap_job
    if job.name is None:
        # Fallback when the Job was never observed (e.g. cleaned up): the HelmRelease's health.
        ok, why = _ready_condition(_named(index.snapshot.helm_releases, "alga-core"))
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
    elif job.state is JobState.FAILED:
        reasons.append(
            f"bootstrap Job {job.name} failed" + (f": {job.message}" if job.message else "")
        )
    elif job.state is JobState.RUNNING:
        reasons.append(f"bootstrap Job {job.name} is running (migrations and seeds)")
    else:
        reasons.append(f"bootstrap Job {job.name} is waiting to start")
    ready = not reasons
    return Tier(ready=ready, reasons=notes if ready else reasons)


def _login(index: Index, bootstrap: Tier, inputs: TierInputs) -> Tier:
    reasons: list[str] = []
    notes: list[str] = []
    if not bootstrap.ready:
        reasons.append("waiting for the bootstrap tier")
    app = _component_reason(index, "alga-core")
    if app:
        reasons.append(app)
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


def _background(index: Index) -> Tier:
    reasons = [r for c in COMPONENTS_BY_TIER["background"] if (r := _component_reason(index, c))]
    kustomization = _named(index.snapshot.kustomizations, "alga-background")
    if kustomization is not None:
        ok, why = _ready_condition(kustomization)
        if not ok:
            reasons.append(f"Flux Kustomization alga-background not Ready ({why})")
    return Tier(ready=not reasons, reasons=reasons)


def compute_tiers(index: Index, blockers: list[Blocker], inputs: TierInputs) -> Tiers:
    """All tiers for a digested snapshot."""
    platform = _platform(index, blockers)
    core = _core(index)
    bootstrap = _bootstrap(index, core, inputs)
    login = _login(index, bootstrap, inputs)
    if login.ready and not platform.ready:
        # Login answers, so the platform serves it: platform gaps stay visible, but as notes.
        login = Tier(ready=True, reasons=[*login.reasons, "platform tier not fully ready"])
    background = _background(index)
    full_reasons = [
        f"{name}: {tier.reasons[0] if tier.reasons else 'not ready'}"
        for name, tier in (
            ("platform", platform),
            ("core", core),
            ("bootstrap", bootstrap),
            ("login", login),
            ("background", background),
        )
        if not tier.ready
    ]
    return Tiers(
        platform=platform,
        core=core,
        bootstrap=bootstrap,
        login=login,
        background=background,
        full_health=Tier(ready=not full_reasons, reasons=full_reasons),
    )
