"""The status engine: a pure function from a Snapshot (and probe results) to the status.

`evaluate` never raises on odd input: a cluster mid-install is full of half-written objects,
and a support engineer's dump may be hand-trimmed. Anything unexpected degrades to a reason.
"""

from __future__ import annotations

from datetime import datetime

from appliance.blockers import detect_blockers
from appliance.canonical import (
    ApplianceStatus,
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
from appliance.components import tier_of
from appliance.event_index import involved_object
from appliance.flux_views import FluxView
from appliance.indexing import (
    Index,
    bootstrap_job_state,
    build_index,
    first_waiting,
)
from appliance.operations import active_operations
from appliance.rollup import rollup, settle_blockers
from appliance.snapshot import Snapshot, object_ref, parse_time
from appliance.tier_table import tier_spec
from appliance.tiers import TierInputs, compute_tiers
from appliance.views import PodView, integer, text

__all__ = ["RECENT_EVENTS", "SUCCEEDED_MESSAGE", "evaluate"]

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
    blockers = settle_blockers(tiers, blockers)
    headline = rollup(tiers, blockers, operations, login_url=url)
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
        rollup=headline,
        tiers=tiers,
        top_blockers=blockers,
        components=_components(index),
        recent_events=_recent_events(index),
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
        install_started=_install_started(snapshot),
    )


def _install_started(snapshot: Snapshot) -> datetime | None:
    """When the (first) node joined Kubernetes: the install's clock starts there."""
    joined = [
        parse_time(meta.get("creationTimestamp"))
        for node in snapshot.nodes
        if isinstance(meta := node.get("metadata"), dict)
    ]
    times = [when for when in joined if when is not None]
    return min(times) if times else None


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


SUCCEEDED_MESSAGE = "Succeeded: ran to completion"


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
        # Pods without a workload object in the snapshot (pods-only dumps, Job pods). A Job's pod
        # that ran to completion is done, not failing: it is never "ready" in the Pod sense.
        succeeded = all(pod.phase == "Succeeded" for pod in state.pods)
        out.append(
            Component(
                name=name,
                tier=tier_of(name, namespace=state.namespace),
                ready=state.ready or succeeded,
                kind="Pod",
                namespace=state.namespace,
                message=SUCCEEDED_MESSAGE if succeeded else _pod_message(state.pods),
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


def _recent_events(index: Index) -> list[EventSummary]:
    # Parse only the times of the Events we keep (of 20,000 in the bench).
    out: list[EventSummary] = []
    for stamp, event in index.newest_events(RECENT_EVENTS):
        out.append(
            EventSummary(
                timestamp=parse_time(stamp),
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
