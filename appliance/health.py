"""What the Kubernetes ecosystem agrees "healthy" means, per object (issue 10).

The verdicts follow Argo CD's health checks (gitops-engine `pkg/health`, argo-cd's Flux
customizations): Healthy, Progressing, Degraded or Suspended, each with a sentence. The engine
reads them where the object alone decides (a rollout that timed out, a paused Deployment, a
suspended Job, a foreign object), and keeps its own rules where the appliance knows more (tiers,
login first, background never blocks login). docs/architecture.md lists where they differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from appliance.flux_views import FluxView
from appliance.views import JobView, PodView, PvcView, WorkloadView

__all__ = [
    "FAILING_WAIT",
    "Health",
    "failing_wait",
    "flux_health",
    "job_health",
    "pod_health",
    "pvc_health",
    "termination_text",
    "workload_health",
]

Verdict = Literal["Healthy", "Progressing", "Degraded", "Suspended"]

# Waiting reasons that are failures, not progress (Argo: Err*, *Error, *BackOff).
FAILING_WAIT = frozenset(
    {
        "CreateContainerConfigError",
        "CreateContainerError",
        "InvalidImageName",
        "RunContainerError",
        "PreCreateHookError",
        "PostStartHookError",
        "ContainerCannotRun",
    }
)
_FLUX_PROGRESS = frozenset(
    {"Progressing", "DependencyNotReady", "ReconciliationInProgress", "ProgressingWithRetry"}
)


@dataclass(frozen=True)
class Health:
    """A verdict, why, and since when (when the object says)."""

    verdict: Verdict
    reason: str = ""
    since: datetime | None = None

    @property
    def healthy(self) -> bool:
        """The verdict is Healthy."""
        return self.verdict == "Healthy"


HEALTHY = Health("Healthy")


def failing_wait(reason: str | None) -> bool:
    """A waiting reason that is a failure (Err*, *Error, *BackOff and the kubelet's others)."""
    if not reason:
        return False
    return (
        reason.startswith("Err")
        or reason.endswith("BackOff")
        or reason.endswith("Error")
        or reason in FAILING_WAIT
    )


def workload_health(view: WorkloadView) -> Health:
    """A Deployment's or StatefulSet's rollout."""
    if view.ref.kind == "Deployment" and view.paused:
        return Health("Suspended", "its rollout is paused (spec.paused)")
    if view.generation is not None and (view.observed_generation or 0) < view.generation:
        return Health(
            "Progressing",
            f"the controller has not observed its new spec yet (generation {view.generation})",
        )
    if view.ref.kind == "Deployment":
        return _deployment_health(view)
    return _statefulset_health(view)


def _deployment_health(view: WorkloadView) -> Health:
    progressing = view.conditions.get("Progressing")
    if progressing is not None and progressing.reason == "ProgressDeadlineExceeded":
        detail = progressing.message or "the new ReplicaSet did not become available"
        return Health("Degraded", f"its rollout timed out: {detail}", progressing.since)
    updated = view.updated_replicas
    if updated is not None and updated < view.replicas:
        return Health("Progressing", f"rolling out: {updated} of {view.replicas} replicas updated")
    if updated is not None and (view.status_replicas or 0) > updated:
        old = (view.status_replicas or 0) - updated
        return Health("Progressing", f"rolling out: {old} old replica(s) pending termination")
    available = view.available_replicas
    if updated is not None and available is not None and available < updated:
        return Health(
            "Progressing", f"rolling out: {available} of {updated} updated replicas available"
        )
    return HEALTHY


def _statefulset_health(view: WorkloadView) -> Health:
    if view.ready_replicas < view.replicas:
        return Health("Progressing", f"{view.ready_replicas} of {view.replicas} replicas ready")
    if view.update_strategy == "OnDelete":
        return HEALTHY
    if view.update_revision and view.current_revision != view.update_revision:
        return Health("Progressing", "rolling update in progress (revision not yet current)")
    return HEALTHY


def termination_text(name: str | None, exit_code: int | None, reason: str | None) -> str:
    """`container "main" exited with code 1 (Error)`; OOMKilled says so."""
    who = f'container "{name}"' if name else "a container"
    why = f" ({reason})" if reason else ""
    if reason == "OOMKilled":
        return f"{who} was killed for using too much memory (OOMKilled, exit code {exit_code})"
    return f"{who} exited with code {exit_code}{why}"


def pod_health(pod: PodView) -> Health:  # noqa: PLR0911 - Argo's decision list, in order
    """A pod: its phase, restart policy and container states."""
    if pod.terminating:
        return Health("Progressing", "the pod is being deleted")
    failing = [c for c in pod.containers if c.waiting and failing_wait(c.waiting_reason)]
    if failing and pod.restart_policy in (None, "Always"):
        first = failing[0]
        return Health("Degraded", f"{first.waiting_reason}: {first.waiting_message or ''}")
    if pod.phase == "Pending":
        return Health("Progressing", "the pod is pending")
    if pod.phase == "Succeeded":
        return HEALTHY
    if pod.phase == "Failed":
        for c in pod.containers:
            done = c.terminated
            if done is not None and (done.exit_code or done.reason == "OOMKilled"):
                text = done.message or termination_text(c.name, done.exit_code, done.reason)
                return Health("Degraded", f"the pod failed: {text}", done.finished_at)
        return Health("Degraded", "the pod failed")
    if pod.phase == "Running":
        if pod.restart_policy not in (None, "Always"):
            return Health("Progressing", "the pod runs to completion")
        if pod.ready:
            return HEALTHY
        for c in pod.containers:
            done = c.terminated or c.last_terminated
            if not c.init and done is not None and done.exit_code:
                text = termination_text(c.name, done.exit_code, done.reason)
                return Health("Degraded", text, done.finished_at)
        return Health("Progressing", "the pod is not ready yet")
    return Health("Progressing", f"the pod is in phase {pod.phase or 'unknown'}")


def job_health(job: JobView) -> Health:
    """A Job: complete, failed, suspended, or still running."""
    failed = job.conditions.get("Failed")
    if failed is not None and failed.true:
        return Health("Degraded", failed.message or failed.reason or "the Job failed", failed.since)
    complete = job.conditions.get("Complete")
    if complete is not None and complete.true:
        return HEALTHY
    suspended = job.conditions.get("Suspended")
    if job.suspended or (suspended is not None and suspended.true):
        return Health("Suspended", "the Job is suspended (spec.suspend)")
    if job.succeeded > 0 and job.active == 0:
        return HEALTHY
    return Health("Progressing", "the Job is running")


def pvc_health(pvc: PvcView) -> Health:
    """A claim: Bound is healthy, Lost is degraded, anything else is on its way."""
    if pvc.phase == "Bound":
        return HEALTHY
    if pvc.phase == "Lost":
        return Health("Degraded", "the claim lost its volume (phase Lost)")
    return Health("Progressing", f"the claim is {pvc.phase or 'Pending'}")


def flux_health(view: FluxView) -> Health:
    """A Flux GitRepository, Kustomization or HelmRelease (argo-cd's Flux customizations)."""
    if view.suspended:
        return Health("Suspended", "reconciliation is suspended (spec.suspend)")
    cond = view.ready_condition
    if cond is None or cond.status == "Unknown" or (cond.reason or "") in _FLUX_PROGRESS:
        return Health("Progressing", cond.why() if cond else "not reconciled yet")
    if cond.true:
        return HEALTHY
    return Health("Degraded", cond.why(), cond.since)
