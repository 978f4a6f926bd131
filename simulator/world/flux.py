"""The Flux model: GitRepository, Kustomization (dependsOn, wait, health) and HelmRelease status.

A GitRepository whose url is a local path or `file://` git repository is read with `git`
(`flux_fetch.py`, source-controller's part), so the Kustomizations apply the real bootstrapper's
own manifests from the branch under test, built as kustomize-controller builds them: Flux's
generator (`spec.images`, `spec.targetNamespace`) and real kustomize (`flux_sources.py`). Remote
urls (https://github.com/...) become Ready with a revision derived from url and branch, and
apply nothing (the scenario scripts what such a source would have brought).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from simulator.api.kind_table import api_version_of
from simulator.world.durations import format_go_duration
from simulator.world.flux_apply import ApplyRejected, apply_objects
from simulator.world.flux_conditions import (
    checks_health,
    finalized,
    interval_of,
    reconciling_stage,
    set_flux_condition,
    timeout_of,
)
from simulator.world.flux_dependencies import dependency_problem
from simulator.world.flux_fetch import fetch, local_repo
from simulator.world.flux_health import HealthCheck, check_health, targets
from simulator.world.flux_helm import reconcile_release
from simulator.world.flux_inventory import finalize, inventory_entries, keep_finalizer
from simulator.world.flux_sources import FluxError, build_kustomization
from simulator.world.objects import Objects, condition, meta
from simulator.world.scheduling import Scheduler

__all__ = ["FluxError", "FluxModel"]

Obj = dict[str, Any]
SOURCE_API = api_version_of("GitRepository")
KUSTOMIZE_API = api_version_of("Kustomization")
FETCH_SECONDS = 3.0
APPLY_SECONDS = 2.0
# kustomize-controller v1.9: a Kustomization whose dependency is not ready is looked at again
# after --requeue-dependency (30s; it does not watch its dependencies), and after an apply with
# `wait` it polls its objects' health every 5s (ssa.WaitOptions{Interval: 5 * time.Second}).
REQUEUE_DEPENDENCY_SECONDS = 30.0
HEALTH_POLL_SECONDS = 5.0
# A Kustomization is reconciled again `spec.interval` after a reconcile ends Ready (RequeueAfter);
# between two, nothing it applied is looked at.
# Changes that make the controllers look again at once: a dependency's readiness, or what a
# failed health check waits on recovering (a health check in progress polls instead).
_WATCHED_KINDS = {
    "Kustomization",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "HelmRelease",
    "Pod",
}


class FluxModel:
    """source-controller, kustomize-controller and helm-controller, as far as the world needs."""

    def __init__(self, objects: Objects, *, scheduler: Scheduler, base_dir: Path) -> None:
        self.objects = objects
        self.scheduler = scheduler
        self.base_dir = base_dir
        self._applied: dict[tuple[str, str], str] = {}
        self._applied_objects: dict[tuple[str, str], list[Obj]] = {}
        self._applied_at: dict[tuple[str, str], float] = {}
        self._pending: set[tuple[str, str]] = set()  # an apply under way
        # Kustomizations requeued (RequeueAfter): looked at again then, not at every change,
        # but at once when their source's artifact changes (kustomize-controller watches it).
        self._requeued: set[tuple[str, str]] = set()
        self._artifacts: dict[tuple[str, str], str] = {}  # GitRepository -> artifact revision
        self._fetching: set[str] = set()
        # Kustomizations whose last apply failed at the revision in `_applied`: no health checks.
        self._failed: set[tuple[str, str]] = set()
        self._interval_due: set[tuple[str, str]] = set()  # a routine reconcile scheduled
        # Applies whose passing health check gets an event: checkHealth emits "Health check
        # passed" when the last one had not passed, or a new revision changed something.
        self._announce_health: set[tuple[str, str]] = set()

    def handle(self, event_type: str, obj: Obj) -> None:
        """React to a change: sources fetch, Kustomizations reconcile, HelmReleases install."""
        if event_type == "DELETED":
            return
        kind = obj.get("kind")
        if kind in ("GitRepository", "Kustomization"):
            if meta(obj).get("deletionTimestamp"):
                if finalize(self.objects, obj):
                    self._forget(obj)
                return
            keep_finalizer(self.objects, obj)
        if kind == "GitRepository":
            uid = str(meta(obj).get("uid"))
            gen = meta(obj).get("generation")
            observed = (obj.get("status") or {}).get("observedGeneration")
            if gen != observed and f"{uid}/{gen}" not in self._fetching:
                self._fetching.add(f"{uid}/{gen}")
                self.scheduler.call_later(
                    FETCH_SECONDS, lambda: fetch(self.objects, obj, self.base_dir)
                )
            else:
                revision = ((obj.get("status") or {}).get("artifact") or {}).get("revision")
                changed = isinstance(revision, str) and self._artifacts.get(_key(obj)) != revision
                if changed:
                    self._artifacts[_key(obj)] = str(revision)
                self._reconcile_all(source=_key(obj) if changed else None)
        elif kind in _WATCHED_KINDS:
            if kind == "Pod" and not self._applied:
                return
            self._reconcile_all()
        if kind == "HelmRelease":
            reconcile_release(self.objects, obj)

    def _forget(self, kustomization: Obj) -> None:
        for book in (self._applied, self._applied_objects, self._applied_at):
            book.pop(_key(kustomization), None)
        self._failed.discard(_key(kustomization))

    # -- kustomize-controller ---------------------------------------------------------------------

    def _reconcile_all(self, *, source: tuple[str, str] | None = None) -> None:
        """Reconcile each Kustomization not applying or requeued; a requeued one too when
        `source`, whose artifact just changed, is its own."""
        for kust in self.objects.list(KUSTOMIZE_API, "Kustomization"):
            key = _key(kust)
            if key in self._pending:
                continue
            if key in self._requeued and (source is None or _source_of(kust) != source):
                continue
            self._reconcile(kust)

    def _reconcile(self, kust: Obj, *, full: bool = False) -> None:
        """kustomize-controller's Reconcile up to the apply: the source, its artifact, then the
        dependencies (checkDependencies), in that order. `full`: a reconcile the controller
        runs (the interval's, a requeue's), which reconciles again what it applied; otherwise
        a change the world reacts to, which leaves an applied one alone but for a failed
        health check's retry."""
        key = _key(kust)
        spec = kust.get("spec") or {}
        conditions = (kust.get("status") or {}).get("conditions") or []
        if spec.get("suspend"):
            return
        observed = (kust.get("status") or {}).get("observedGeneration")
        current = self._current(kust)
        if not full and current and meta(kust).get("generation") == observed:
            # Applied: Ready, the controller does not look at it until its interval; while a
            # reconcile runs, its health poll decides; a failed health check is retried when
            # what it waits on changes (the controller's own retry is retryInterval's). A
            # changed spec is reconciled at once (its GenerationChangedPredicate).
            if (condition(kust, "Ready") or {}).get("reason") == "HealthCheckFailed":
                self._health(kust, self._applied[key])
            return
        full = full or current
        source_ref = spec.get("sourceRef") or {}
        source_name = str(source_ref.get("name"))
        source = self.objects.get(
            SOURCE_API, "GitRepository", source_name, source_ref.get("namespace") or key[0]
        )
        if source is None:  # getSource's NotFound, in the client's words
            message = f'gitrepositories.source.toolkit.fluxcd.io "{source_name}" not found'
            self._status(kust, conditions, "False", "ArtifactFailed", message)
            return
        revision = (((source.get("status") or {}).get("artifact")) or {}).get("revision")
        if not revision:
            message = "Source artifact not found, retrying in 30s"
            self._status(kust, conditions, "False", "ArtifactFailed", message)
            self._requeue(key, kust)
            return
        problem = dependency_problem(self.objects, kust, revision)
        if problem is not None:
            self._status(kust, conditions, "False", "DependencyNotReady", problem)
            self.objects.event(
                self.objects.fresh(kust) or kust,
                "DependencyNotReady",  # the event's reason is Ready's (r.event)
                "Dependencies do not meet ready condition, retrying in 30s",
                source="kustomize-controller",
            )
            self._requeue(key, kust)
            return
        if self._applied.get(key) != revision:
            self._pending.add(key)
            self.scheduler.call_later(APPLY_SECONDS, lambda: self._apply(kust, source, revision))
            return
        if full and key not in self._failed:
            self._reapply(kust, source, revision)
        elif (condition(kust, "Ready") or {}).get("reason") != "Progressing":
            self._health(kust, revision)  # while it is Progressing, the health poll decides

    def _current(self, kust: Obj) -> bool:
        """Whether it applied its source's artifact, and the apply went through."""
        key = _key(kust)
        applied = self._applied.get(key)
        if applied is None or key in self._failed or key in self._pending:
            return False
        return self._artifacts.get(_source_of(kust)) in (None, applied)

    def _schedule_interval(self, kust: Obj) -> None:
        """RequeueAfter `spec.interval` once a reconcile ends Ready: the routine reconcile."""
        key = _key(kust)
        if key in self._interval_due:
            return
        self._interval_due.add(key)

        def due() -> None:
            self._interval_due.discard(key)
            current = self.objects.fresh(kust)
            if current is None or key in self._pending:
                return
            if (condition(current, "Ready") or {}).get("status") == "True":
                self._reconcile(current, full=True)  # else another reconcile has it

        self.scheduler.call_later(interval_of(kust.get("spec") or {}), due)

    def _reapply(self, kust: Obj, source: Obj, revision: str) -> None:
        """The reconcile of a revision already applied (the interval's, or a requeue's after
        its dependencies were not ready): Ready Unknown from its first stage, as v1.9.6
        writes it, then the apply (which puts back what drifted: a deleted object, a changed
        field the manifests set) and its health check, as for a new revision."""
        key = _key(kust)
        spec = kust.get("spec") or {}
        conditions = (kust.get("status") or {}).get("conditions") or []
        fetching = reconciling_stage("Fetching manifests", revision, spec)
        self._status(
            kust,
            conditions,
            "Unknown",
            "Progressing",
            "Reconciliation in progress",
            reconciling=fetching,
        )
        self._pending.add(key)
        self.scheduler.call_later(APPLY_SECONDS, lambda: self._apply(kust, source, revision))

    def _requeue(self, key: tuple[str, str], kust: Obj) -> None:
        """RequeueAfter the dependency interval (30 s); a requeue already waiting is earlier
        and stays (controller-runtime's queue keeps the earliest)."""
        if key in self._requeued:
            return
        self._requeued.add(key)

        def again() -> None:
            self._requeued.discard(key)
            current = self.objects.fresh(kust)
            if current is None or key in self._pending:
                return
            if (
                self._current(current)
                and (condition(current, "Ready") or {}).get("status") == "True"
            ):
                # Ready since (a new artifact came first): left to its interval. The controller
                # would reconcile it once more now; here that reconcile would race other
                # requeues of the same instant for the dependents' checks.
                return
            self._reconcile(current, full=True)

        self.scheduler.call_later(REQUEUE_DEPENDENCY_SECONDS, again)

    def _apply(self, kust: Obj, source: Obj, revision: str) -> None:
        key = _key(kust)
        self._pending.discard(key)
        current = self.objects.fresh(kust)
        if current is None:
            return
        spec = current.get("spec") or {}
        conditions = (current.get("status") or {}).get("conditions") or []
        local = local_repo(str((source.get("spec") or {}).get("url", "")), self.base_dir)
        applied: list[Obj] = []
        if local is not None:
            sha = revision.rsplit("sha1:", 1)[-1]
            try:
                docs = build_kustomization(local, sha, spec)
            except FluxError as exc:
                stage = reconciling_stage("Building manifests", revision, spec)
                self._status(
                    current, conditions, "False", "BuildFailed", str(exc), reconciling=stage
                )
                self.objects.event(
                    current, "BuildFailed", str(exc), type="Warning", source="kustomize-controller"
                )
                self._applied[key] = revision
                self._failed.add(key)
                return
            try:
                applied, changes = apply_objects(self.objects, key, docs)
            except ApplyRejected as exc:
                stage = reconciling_stage("Detecting drift", revision, spec)
                self._status(
                    current,
                    conditions,
                    "False",
                    "ReconciliationFailed",
                    str(exc),
                    reconciling=stage,
                )
                self.objects.event(
                    current,
                    "ReconciliationFailed",
                    str(exc),
                    type="Warning",
                    source="kustomize-controller",
                )
                self._applied[key] = revision
                self._failed.add(key)
                return
            if changes:  # the event's reason is Ready's, Progressing since the reconcile began
                self.objects.event(
                    current, "Progressing", "\n".join(changes), source="kustomize-controller"
                )
            was_healthy = (condition(current, "Healthy") or {}).get("status") == "True"
            if not was_healthy or (changes and self._applied.get(key) != revision):
                self._announce_health.add(key)
        self._applied[key] = revision
        self._failed.discard(key)
        self._applied_objects[key] = applied
        started = self._applied_at[key] = self.objects.clock.elapsed()

        def timed_out() -> None:  # this health check's timeout, unless another apply came since
            if self._applied_at.get(key) == started:
                self._health(current, revision, timed_out=True)

        self.scheduler.call_later(timeout_of(spec), timed_out)
        self._health(current, revision)

    def _health(self, kust: Obj, revision: str, *, timed_out: bool = False) -> None:
        current = self.objects.fresh(kust)
        if current is None:
            return
        key = _key(current)
        if self._applied.get(key) != revision or key in self._failed:
            return
        spec = current.get("spec") or {}
        conditions = (current.get("status") or {}).get("conditions") or []
        elapsed = self.objects.clock.elapsed() - self._applied_at.get(key, 0.0)
        timeout = timeout_of(spec)
        waiting_on = targets(current, self._applied_objects.get(key, []))
        checked = checks_health(spec) and bool(waiting_on)  # nothing to wait on: no Healthy
        verdict = (
            check_health(
                self.objects,
                waiting_on,
                now=self.objects.clock.now(),
                deadline_passed=timed_out or elapsed >= timeout,
            )
            if checked
            else HealthCheck("healthy")
        )
        ready_cond = condition(current, "Ready") or {}
        checking = reconciling_stage("Running health checks", revision, spec)
        if verdict.outcome == "healthy":
            message = f"Applied revision: {revision}"
            passed = f"Health check passed in {format_go_duration(elapsed)}"
            if checked and key in self._announce_health:
                self._announce_health.discard(key)
                self.objects.event(current, "Progressing", passed, source="kustomize-controller")
            if ready_cond.get("status") != "True":
                self.objects.event(
                    current,
                    "ReconciliationSucceeded",
                    f"Reconciliation finished in {format_go_duration(elapsed + APPLY_SECONDS)}, "
                    f"next run in {format_go_duration(interval_of(spec))}",
                    source="kustomize-controller",
                )
            self._status(
                current,
                conditions,
                "True",
                "ReconciliationSucceeded",
                message,
                revision=revision,
                healthy=("True", "Succeeded", passed) if checked else None,
            )
            self._schedule_interval(current)
            return
        if verdict.outcome == "failed" or ready_cond.get("reason") == "HealthCheckFailed":
            # The Ready message is checkHealth's error as reconcile wraps it (lower case); a
            # timeout's comes when the timeout does, a fail-fast one at the poll that saw it.
            after = elapsed if verdict.stalled else max(elapsed, timeout)
            message = f"health check failed after {format_go_duration(after)}: {verdict.error}"
            if ready_cond.get("reason") != "HealthCheckFailed":
                self.objects.event(
                    current,
                    "HealthCheckFailed",
                    message,
                    type="Warning",
                    source="kustomize-controller",
                )
            else:
                message = str(ready_cond.get("message"))
            unhealthy = message.partition(": ")[2]  # checkHealth's own error, unwrapped
            self._status(
                current,
                conditions,
                "False",
                "HealthCheckFailed",
                message,
                healthy=("False", "HealthCheckFailed", unhealthy),
            )
        else:
            self._status(
                current,
                conditions,
                "Unknown",
                "Progressing",
                "Reconciliation in progress",
                reconciling=checking,
                healthy=("Unknown", "Progressing", checking),
            )
            self.scheduler.call_later(HEALTH_POLL_SECONDS, lambda: self._health(current, revision))

    def _status(
        self,
        kust: Obj,
        conditions: list[Obj],
        status: str,
        reason: str,
        message: str,
        *,
        revision: str | None = None,
        reconciling: str | None = None,
        healthy: tuple[str, str, str] | None = None,
    ) -> None:
        """Write Ready (and, from the stage reached, Reconciling and Healthy) as
        kustomize-controller v1.9 leaves them at the end of a reconcile: `finalizeStatus` drops
        Reconciling once Ready is True, and calls it `ProgressingWithRetry` when Ready is False."""
        now = self.objects.clock.now()
        conditions = set_flux_condition(
            kust, conditions, "Ready", status, now=now, reason=reason, message=message
        )
        if reconciling is not None:
            conditions = set_flux_condition(
                kust,
                conditions,
                "Reconciling",
                "True",
                now=now,
                reason="Progressing",
                message=reconciling,
            )
        if healthy is not None:
            health, why, said = healthy
            conditions = set_flux_condition(
                kust, conditions, "Healthy", health, now=now, reason=why, message=said
            )
        conditions = finalized(kust, conditions, now=now)
        patch: Obj = {"observedGeneration": meta(kust).get("generation"), "conditions": conditions}
        # status.inventory: what the last successful apply applied (kept when one fails).
        if (applied := self._applied_objects.get(_key(kust))) is not None:
            patch["inventory"] = {"entries": inventory_entries(applied)}
        if revision:
            patch["lastAppliedRevision"] = revision
            patch["lastAttemptedRevision"] = revision
        current = (self.objects.fresh(kust) or {}).get("status") or {}
        if all(current.get(key) == value for key, value in patch.items()):
            return  # a requeue or health poll that changes nothing writes nothing
        self.objects.patch_status(kust, patch)


def _source_of(kust: Obj) -> tuple[str, str]:
    """The (namespace, name) of a Kustomization's GitRepository."""
    ref = (kust.get("spec") or {}).get("sourceRef") or {}
    return str(ref.get("namespace") or _key(kust)[0]), str(ref.get("name"))


def _key(obj: Obj) -> tuple[str, str]:
    """(namespace, name): how the controllers' books know a Kustomization."""
    return str(meta(obj).get("namespace")), str(meta(obj).get("name"))
