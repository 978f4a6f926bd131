"""Generic detectors of workloads: waiting containers, failed Jobs, unbound PVCs, unschedulable
pods, and the catch-all that names any other warning. They run after the root causes and skip
what those explained, so an unknown failure is still reported, never silenced.
"""

from __future__ import annotations

from datetime import datetime

from appliance.blockers.evidence import (
    PERSISTENT,
    earliest,
    evidence,
    login_critical,
    newest_first,
    short,
    signal_tier,
)
from appliance.blockers.registry import Covered, detector
from appliance.canonical import Blocker, Evidence, JobState
from appliance.components import BOOTSTRAP_COMPONENT
from appliance.event_index import event_time_text
from appliance.health import failing_wait, job_health, workload_health
from appliance.indexing import Index, Signal
from appliance.snapshot import parse_time
from appliance.views import JobView

__all__ = [
    "LAYER_CONTAINER",
    "LAYER_JOB",
    "LAYER_OTHER_JOB",
    "LAYER_PVC",
    "LAYER_ROLLOUT",
    "LAYER_SCHEDULING",
    "LAYER_UNCLASSIFIED",
]

LAYER_PVC = "Storage binding"
LAYER_CONTAINER = "Workload container"
LAYER_JOB = "Bootstrap job"
LAYER_OTHER_JOB = "Job"
LAYER_SCHEDULING = "Pod scheduling"
LAYER_UNCLASSIFIED = "Unclassified failure"
LAYER_ROLLOUT = "Workload rollout"


@detector(layer=LAYER_CONTAINER, rank=90, specialised=False)
def detect_failing_containers(index: Index, covered: Covered) -> list[Blocker]:
    """CrashLoopBackOff, ImagePullBackOff, Err*, CreateContainerConfigError, and containers that
    exited with an error (their exit code and reason named: Error, OOMKilled, ...).

    A pod of a Job is one attempt: while the Job may still retry, its failure is retryable; once
    the Job has failed, the Job's own blocker says so and the pod adds nothing.
    """
    groups: dict[str, list[Signal]] = {}
    for s in index.signals:
        if covered.covers(s):
            continue
        waiting = s.source == "container" and failing_wait(s.reason)
        exited = s.source == "exit" and s.reason != "Completed"
        if waiting or exited:
            groups.setdefault(s.object, []).append(s)
    blockers: list[Blocker] = []
    for group in groups.values():
        head = next((s for s in group if s.source == "container"), group[0])
        job = _job_of(index, head)
        if job is not None and job.state is JobState.FAILED:
            continue
        exits = [s for s in group if s.source == "exit" and s is not head]
        detail = short(head.message)
        if exits:
            detail += f"; last exit: {short(exits[0].message, 200)}"
        what = f"is {head.reason}" if head.source == "container" else "failed"
        retry = ""
        if job is not None:
            allowed = job.backoff_limit + 1 if job.backoff_limit is not None else None
            limit = f" of {allowed} allowed" if allowed is not None else ""
            retry = (
                f" It is an attempt of Job {job.ref.name}, which retries "
                f"({job.failed}{limit} failed so far)."
            )
        blockers.append(
            Blocker(
                layer=LAYER_CONTAINER,
                component=head.component,
                reason=f"{head.name} ({head.container or 'container'}) {what}: {detail}.{retry}",
                next_action=_waiting_action(head),
                login_blocking=login_critical(signal_tier(head.component, head.namespace)),
                retryable=job is not None,
                since=earliest(group) or _podsince(index, head),
                evidence=evidence(group),
            )
        )
    return blockers


def _job_of(index: Index, signal: Signal) -> JobView | None:
    pod = index.pods.get((signal.namespace, signal.name))
    if pod is None or pod.job_name is None:
        return None
    return next(
        (
            j
            for j in index.jobs
            if j.ref.name == pod.job_name and j.ref.namespace == signal.namespace
        ),
        None,
    )


def _podsince(index: Index, signal: Signal) -> datetime | None:
    events = index.events_by_object.get(("Pod", signal.namespace, signal.name))
    if events:
        return parse_time(events[0].get("firstTimestamp")) or parse_time(event_time_text(events[0]))
    return None


def _waiting_action(signal: Signal) -> str:
    ns = signal.namespace or "default"
    if signal.reason in {"CrashLoopBackOff", "Error", "OOMKilled"} or signal.source == "exit":
        return (
            f"Read why it exits: `kubectl -n {ns} logs {signal.name} --previous`; fix the cause "
            "and the pod restarts by itself."
        )
    if signal.reason in {"ImagePullBackOff", "ErrImagePull", "InvalidImageName"}:
        return (
            f"Check the image name and registry access: `kubectl -n {ns} describe pod "
            f"{signal.name}` shows the pull error."
        )
    return f"Inspect the pod: `kubectl -n {ns} describe pod {signal.name}` (Events at the bottom)."


@detector(layer=LAYER_JOB, rank=100, specialised=False)
def detect_failed_bootstrap_job(index: Index, covered: Covered) -> list[Blocker]:
    """The bootstrap Job (migrations and seeds) failed and no newer one completed."""
    return _failed_jobs(index, covered, bootstrap=True)


@detector(layer=LAYER_OTHER_JOB, rank=110, specialised=False)
def detect_failed_jobs(index: Index, covered: Covered) -> list[Blocker]:
    """Any other failed Job."""
    return _failed_jobs(index, covered, bootstrap=False)


def _failed_jobs(index: Index, covered: Covered, *, bootstrap: bool) -> list[Blocker]:
    """A failed or suspended Job, unless a newer Job of the same component completed
    (finding-09: r2 won). A suspended Job waits forever: that is said, not waited out."""
    newest_ok: dict[str | None, str] = {}
    for job in index.jobs:
        if job.state is JobState.COMPLETED and job.created > newest_ok.get(job.component, ""):
            newest_ok[job.component] = job.created
    blockers: list[Blocker] = []
    for job in index.jobs:
        if (
            newest_ok.get(job.component, "") > job.created
            or (job.component == BOOTSTRAP_COMPONENT) != bootstrap
            or str(job.ref) in covered.objects
        ):
            continue
        if job.state is not JobState.FAILED:
            if job_health(job).verdict == "Suspended":
                blockers.append(_suspended_job(job, bootstrap=bootstrap))
            continue
        ref, name, namespace = str(job.ref), job.ref.name, job.ref.namespace
        failed = job.conditions.get("Failed")
        message = (failed.message or failed.reason if failed else None) or "Job failed"
        since = failed.since if failed else None
        blockers.append(
            Blocker(
                layer=LAYER_JOB if bootstrap else LAYER_OTHER_JOB,
                component=job.component,
                reason=f"Job {name} failed: {short(message)}",
                next_action=(
                    f"Read its logs: `kubectl -n {namespace or 'msp'} logs job/{name}`; once the "
                    "cause (often Postgres) is fixed, rerun it with `flux -n alga-system reconcile "
                    "helmrelease alga-core --reset --force --with-source`."
                    if bootstrap
                    else f"Read its logs: `kubectl -n {namespace or 'default'} logs job/{name}`."
                ),
                login_blocking=login_critical(signal_tier(job.component, namespace)),
                retryable=False,
                since=since,
                evidence=[Evidence(object=ref, message=message, since=since)],
            )
        )
    return blockers


def _suspended_job(job: JobView, *, bootstrap: bool) -> Blocker:
    name, namespace = job.ref.name, job.ref.namespace or "msp"
    message = "Job suspended (spec.suspend: true)"
    since = job.conditions["Suspended"].since if "Suspended" in job.conditions else None
    return Blocker(
        layer=LAYER_JOB if bootstrap else LAYER_OTHER_JOB,
        component=job.component,
        reason=f"Job {name} is suspended (spec.suspend): it does not run until it is resumed.",
        next_action=(
            f"Resume it: `kubectl -n {namespace} patch job {name} --type=merge "
            '-p \'{"spec":{"suspend":false}}\'`.'
        ),
        login_blocking=login_critical(signal_tier(job.component, job.ref.namespace)),
        retryable=False,
        since=since,
        evidence=[Evidence(object=str(job.ref), message=message, since=since)],
    )


@detector(layer=LAYER_ROLLOUT, rank=95, specialised=False)
def detect_rollouts(index: Index, covered: Covered) -> list[Blocker]:
    """A Deployment whose rollout timed out (ProgressDeadlineExceeded). While its previous
    replicas still serve, login may well work: the settled rollup says so (rollup.py)."""
    blockers: list[Blocker] = []
    for view in index.workloads:
        if view.component in covered.components:
            continue  # a root cause of this component already explains the stalled rollout
        health = workload_health(view)
        if health.verdict != "Degraded":
            continue
        serving = " The previous replicas still serve." if view.ready else ""
        namespace = view.ref.namespace or "msp"
        found = Evidence(object=str(view.ref), message=health.reason, since=health.since)
        kind = view.ref.kind.lower()
        blockers.append(
            Blocker(
                layer=LAYER_ROLLOUT,
                component=view.component,
                reason=f"{view.ref.kind} {view.ref.name}: {short(health.reason)}.{serving}",
                next_action=(
                    f"See why its new pods do not become available: `kubectl -n {namespace} "
                    f"rollout status {kind}/{view.ref.name}` and `kubectl -n {namespace} describe "
                    f"{kind} {view.ref.name}`; fix the cause, or go back with `kubectl -n "
                    f"{namespace} rollout undo {kind}/{view.ref.name}`."
                ),
                login_blocking=login_critical(signal_tier(view.component, view.ref.namespace)),
                retryable=False,
                since=health.since,
                evidence=[found],
            )
        )
    return blockers


@detector(layer=LAYER_PVC, rank=80, specialised=False)
def detect_unbound_pvcs(index: Index, covered: Covered) -> list[Blocker]:
    """PVCs not Bound; stuck (not retryable) once provisioning failed or it has waited long."""
    blockers: list[Blocker] = []
    now = index.snapshot.server_time
    for pvc in index.pvcs:
        if pvc.phase == "Bound":
            continue
        name, namespace, created = pvc.ref.name, pvc.ref.namespace, pvc.created
        events = index.events_by_object.get(("PersistentVolumeClaim", namespace, name), [])
        warnings = [e for e in events if e.get("type") == "Warning"]
        stuck = bool(warnings) or (created is not None and now - created > PERSISTENT)
        # The chart names Postgres' claim after its release (alga-core-<rel>-postgres-data).
        component = "db" if "postgres" in name or name.startswith("db-") else pvc.component
        message = (
            str(warnings[-1].get("message")) if warnings else f"phase {pvc.phase or 'Pending'}"
        )
        blockers.append(
            Blocker(
                layer=LAYER_PVC,
                component=component,
                reason=f"PersistentVolumeClaim {name} is not bound ({short(message, 200)}).",
                next_action=(
                    f"Check the storage provisioner: `kubectl -n {namespace or 'default'} "
                    f"describe pvc {name}` and the local-path provisioner's pod."
                ),
                login_blocking=login_critical(signal_tier(component, namespace)),
                retryable=not stuck,
                since=created,
                evidence=[Evidence(object=str(pvc.ref), message=message, since=created)],
            )
        )
    return blockers


@detector(layer=LAYER_SCHEDULING, rank=130, specialised=False)
def detect_scheduling(index: Index, covered: Covered) -> list[Blocker]:
    """Pods the scheduler cannot place."""
    blockers: list[Blocker] = []
    now = index.snapshot.server_time
    for s in index.signals:
        if s.source != "condition" or s.kind != "Pod" or covered.covers(s):
            continue
        stuck = s.since is not None and now - s.since > PERSISTENT
        blockers.append(
            Blocker(
                layer=LAYER_SCHEDULING,
                component=s.component,
                reason=f"Pod {s.name} cannot be scheduled: {short(s.message)}",
                next_action=f"`kubectl -n {s.namespace or 'default'} describe pod {s.name}`.",
                login_blocking=login_critical(signal_tier(s.component, s.namespace)),
                retryable=not stuck,
                since=s.since,
                evidence=evidence([s]),
            )
        )
    return blockers


@detector(layer=LAYER_UNCLASSIFIED, rank=999, specialised=False)
def detect_unclassified(index: Index, covered: Covered) -> list[Blocker]:
    """Any other warning on a component that is not ready: named, never silenced."""
    now = index.snapshot.server_time
    newest: dict[str, Signal] = {}
    for s in index.signals:
        if not s.warning or s.source not in ("event", "container", "exit") or covered.covers(s):
            continue
        if s.kind in {"Kustomization", "HelmRelease", "GitRepository", "Job"}:
            continue  # their conditions are read by detect_flux / detect_failed_jobs
        if s.kind in {"PersistentVolumeClaim", "Node"}:
            continue
        previous = newest.get(s.object)
        if previous is None or newest_first(s) < newest_first(previous):
            newest[s.object] = s
    blockers: list[Blocker] = []
    for s in newest.values():
        first = s.first_seen or s.since
        stuck = s.occurrences >= 5 or (first is not None and now - first > PERSISTENT)
        blockers.append(
            Blocker(
                layer=LAYER_UNCLASSIFIED,
                component=s.component,
                reason=f"{s.object}: {s.reason or 'Warning'}: {short(s.message)}",
                next_action=(
                    f"Inspect it: `kubectl -n {s.namespace or 'default'} describe "
                    f"{s.kind.lower()} {s.name}`."
                ),
                login_blocking=login_critical(signal_tier(s.component, s.namespace)),
                retryable=not stuck,
                since=first,
                evidence=evidence([s]),
            )
        )
    return blockers
