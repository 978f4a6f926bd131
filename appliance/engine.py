"""The status engine: a pure function from a Snapshot (and probe results) to the status.

`evaluate` never raises on odd input: a cluster mid-install is full of half-written objects,
and a support engineer's dump may be hand-trimmed. Anything unexpected degrades to a reason.
"""

from __future__ import annotations

from appliance.blockers import detect_blockers
from appliance.canonical import (
    ActiveOperation,
    ApplianceStatus,
    Blocker,
    BootstrapState,
    ClusterInfo,
    Component,
    EventSummary,
    FluxObject,
    FluxSummary,
    LoginProbe,
    Release,
    Rollup,
    RollupState,
    SeedState,
    Tier,
    Tiers,
    Urls,
)
from appliance.components import TIER_OF, tier_of
from appliance.indexing import (
    Index,
    bootstrap_job_state,
    build_index,
    event_time_text,
    first_waiting,
    involved_object,
)
from appliance.operations import active_operations, human_elapsed
from appliance.snapshot import Snapshot, object_ref, parse_time
from appliance.tier_table import LOGIN_GATING, TIERS, tier_spec
from appliance.tiers import TierInputs, compute_tiers
from appliance.views import FluxView, PodView, integer, text

__all__ = ["RECENT_EVENTS", "evaluate"]

# How many of the newest events the status carries.
RECENT_EVENTS = 50


def evaluate(
    snapshot: Snapshot,
    *,
    site_id: str,
    login_probe: LoginProbe | None,
    users_count: int | None,
    users_count_measurable: bool,
    status_url: str | None = None,
    login_url: str | None = None,
    release: Release | None = None,
) -> ApplianceStatus:
    """The canonical status for this snapshot. Pure; never raises."""
    try:
        return _evaluate(
            snapshot,
            site_id=site_id,
            login_probe=login_probe,
            users_count=users_count,
            users_count_measurable=users_count_measurable,
            status_url=status_url,
            login_url=login_url,
            release=release,
        )
    except Exception as exc:  # the last line of "never raises": say what broke, stay honest
        return _degraded(snapshot, site_id=site_id, error=f"{type(exc).__name__}: {exc}")


def _evaluate(
    snapshot: Snapshot,
    *,
    site_id: str,
    login_probe: LoginProbe | None,
    users_count: int | None,
    users_count_measurable: bool,
    status_url: str | None,
    login_url: str | None,
    release: Release | None,
) -> ApplianceStatus:
    index = build_index(snapshot)
    blockers = detect_blockers(index)
    job = bootstrap_job_state(index.jobs)
    operations = active_operations(index)
    tiers = compute_tiers(
        index,
        TierInputs(
            login_probe=login_probe,
            users_count=users_count,
            users_count_measurable=users_count_measurable,
            bootstrap_job=job,
            active_operations=tuple(operations),
        ),
    )
    url = login_url or (login_probe.url if login_probe else None)
    rollup = _rollup(tiers, blockers, operations, login_url=url)
    seed = SeedState(
        users_count=users_count if users_count_measurable else None,
        verified=users_count_measurable and users_count is not None,
        note=None
        if users_count_measurable and users_count is not None
        else (
            "seeded users not measured (no exec permission, offline dump, or the bootstrap Job "
            "has not completed)"
        ),
    )
    flux = _flux_summary(index)
    return ApplianceStatus(
        site_id=site_id,
        timestamp=snapshot.server_time,
        release=_release(release, flux),
        urls=Urls(status_url=status_url, login_url=url),
        rollup=rollup,
        tiers=tiers,
        top_blockers=blockers,
        components=_components(index),
        recent_events=_recent_events(snapshot),
        active_operations=operations,
        login_probe=login_probe or LoginProbe(url=url),
        bootstrap=BootstrapState(job=job, seed=seed),
        flux=flux,
        cluster=ClusterInfo(
            reachable=snapshot.api_error is None,
            error=snapshot.api_error,
            server_time=snapshot.server_time,
            source=snapshot.source,
        ),
    )


def _core_pull(operations: list[ActiveOperation]) -> ActiveOperation | None:
    for op in operations:
        if TIER_OF.get(op.component) in LOGIN_GATING:
            return op
    return None


def _rollup(
    tiers: Tiers,
    blockers: list[Blocker],
    operations: list[ActiveOperation],
    *,
    login_url: str | None,
) -> Rollup:
    where = f" at {login_url}" if login_url else ""
    if tiers.login.ready:
        return _login_ready_rollup(tiers, blockers, where=where)
    return _not_ready_rollup(tiers, blockers, operations)


def _login_ready_rollup(tiers: Tiers, blockers: list[Blocker], *, where: str) -> Rollup:
    if tiers.full_health.ready:
        return Rollup(
            state=RollupState.FULLY_HEALTHY,
            message=f"All services are healthy; log in{where}.",
        )
    if tiers.background.ready:
        # Login works and the background is fine, but the platform is not (say the status
        # service is missing, finding-20): usable, yet not fully healthy.
        platform_issue = next((b for b in blockers if not b.login_blocking), None)
        reason = tiers.platform.reasons[0] if tiers.platform.reasons else "not ready"
        return Rollup(
            state=RollupState.READY,
            message=f"You can log in{where}. The platform is not fully healthy ({reason}).",
            next_action=platform_issue.next_action if platform_issue else None,
        )
    issues = [b for b in blockers if not b.login_blocking]
    if issues:
        top = issues[0]
        return Rollup(
            state=RollupState.READY_WITH_BACKGROUND_ISSUES,
            message=(
                f"You can log in{where}. Background services have issues: "
                f"{top.layer} ({top.component or 'appliance'})."
            ),
            next_action=top.next_action,
        )
    reason = tiers.background.reasons[0] if tiers.background.reasons else "starting"
    return Rollup(
        state=RollupState.READY,
        message=f"You can log in{where}. Background services are still starting ({reason}).",
    )


def _not_ready_rollup(
    tiers: Tiers, blockers: list[Blocker], operations: list[ActiveOperation]
) -> Rollup:
    stuck = [b for b in blockers if b.login_blocking and not b.retryable]
    pull = _core_pull(operations)
    pulling = {op.component for op in operations}
    # A stuck blocker of a component that is not itself pulling (the db's subPath while
    # alga-core pulls) will not clear by waiting for the pull: it outranks it. The pulling
    # component's own symptoms (its Helm timeout, its Init:0/1) are the pull, not a failure.
    unrelated = [b for b in stuck if b.component not in pulling]
    if pull is not None and not unrelated:
        # finding-18: a core image still pulling is progress, never action-required.
        size = f", {pull.estimated_size}" if pull.estimated_size else ""
        return Rollup(
            state=RollupState.INSTALLING,
            message=(
                f"Installing: pulling {pull.image} for {pull.component} "
                f"({human_elapsed(pull.elapsed_seconds)} so far{size})."
            ),
            next_action="Wait: the image pull is progressing; Kubernetes reports no byte progress.",
        )
    if stuck:
        top = unrelated[0] if pull is not None else stuck[0]
        return Rollup(
            state=RollupState.FAILED_ACTION_REQUIRED,
            message=f"Login is blocked: {top.layer}: {top.reason}",
            next_action=top.next_action,
        )
    name, tier = next(
        (
            (spec.name, tier)
            for spec in TIERS
            if spec.gates_login and not (tier := getattr(tiers, spec.name)).ready
        ),
        ("login", tiers.login),
    )
    detail = tier.reasons[0] if tier.reasons else "not ready yet"
    retrying = next((b for b in blockers if b.login_blocking), None)
    return Rollup(
        state=RollupState.INSTALLING,
        message=f"Installing: waiting for the {name} tier ({detail}).",
        next_action=retrying.next_action if retrying else None,
    )


def _release(given: Release | None, flux: FluxSummary) -> Release:
    release = given or Release()
    revision = flux.source.revision if flux.source else None
    if release.git_revision is None and revision:
        release = release.model_copy(update={"git_revision": revision})
    return release


def _flux_object(view: FluxView) -> FluxObject:
    cond = view.ready_condition
    return FluxObject(
        kind=view.ref.kind,
        namespace=view.ref.namespace,
        name=view.ref.name,
        ready=view.ready,
        reason=cond.reason if cond else None,
        message=cond.message if cond else None,
        revision=view.revision,
    )


def _flux_summary(index: Index) -> FluxSummary:
    sources = [_flux_object(view) for view in index.git_repositories]
    # The appliance's own source lives in flux-system; prefer it.
    sources.sort(key=lambda o: (o.namespace != "flux-system", o.name))
    return FluxSummary(
        source=sources[0] if sources else None,
        kustomizations=[_flux_object(view) for view in index.kustomizations],
        helm_releases=[_flux_object(view) for view in index.helm_releases],
    )


def _components(index: Index) -> list[Component]:
    out: list[Component] = []
    for view in index.workloads:
        name = view.component or view.ref.name
        out.append(
            Component(
                name=name,
                tier=view.tier,
                ready=view.ready,
                kind=view.ref.kind,
                namespace=view.ref.namespace,
                replicas=view.replicas,
                ready_replicas=view.ready_replicas,
                message=_pod_message(index.component(name).pods),
            )
        )
    seen = {c.name for c in out}
    for name, state in index.components.items():
        if name in seen or not state.pods:
            continue
        # Pods without a workload object in the snapshot (pods-only dumps, Job pods).
        out.append(
            Component(
                name=name,
                tier=tier_of(name, namespace=state.namespace),
                ready=state.ready,
                kind="Pod",
                namespace=state.namespace,
                message=_pod_message(state.pods),
            )
        )
    out.sort(key=lambda c: (tier_spec(c.tier).order, c.name))
    return out


def _pod_message(pods: list[PodView]) -> str | None:
    found = first_waiting(pods)
    if found is None:
        return None
    reason, message = found
    return f"{reason}: {message}" if message is not None else reason


def _recent_events(snapshot: Snapshot) -> list[EventSummary]:
    events = [e for e in snapshot.events if isinstance(e, dict)]
    # RFC 3339 texts in UTC sort like times; parse only the ones we keep (20,000 in the bench).
    newest = sorted(events, key=event_time_text, reverse=True)[:RECENT_EVENTS]
    out: list[EventSummary] = []
    for event in newest:
        out.append(
            EventSummary(
                timestamp=parse_time(event_time_text(event)),
                type=text(event.get("type")),
                reason=text(event.get("reason")),
                object=object_ref(*involved_object(event)),
                message=str(event.get("message") or ""),
                count=integer(event.get("count")),
            )
        )
    return out


def _degraded(snapshot: Snapshot, *, site_id: str, error: str) -> ApplianceStatus:
    reason = f"status engine could not evaluate this snapshot ({error})"
    tier = Tier(ready=False, reasons=[reason])
    return ApplianceStatus(
        site_id=site_id,
        timestamp=snapshot.server_time,
        rollup=Rollup(
            state=RollupState.INSTALLING,
            message=f"Status unknown: {reason}.",
            next_action="Report this with the dump (`kubectl get ... -A -o json`) attached.",
        ),
        tiers=Tiers(
            platform=tier,
            core=tier,
            bootstrap=tier,
            login=tier,
            background=tier,
            full_health=tier,
        ),
        cluster=ClusterInfo(
            reachable=snapshot.api_error is None,
            error=snapshot.api_error,
            server_time=snapshot.server_time,
            source=snapshot.source,
        ),
    )
