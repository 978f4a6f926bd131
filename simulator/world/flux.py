"""The Flux model: GitRepository, Kustomization (dependsOn, wait, health) and HelmRelease status.

A GitRepository whose url is a local path or `file://` git repository is read with `git`
(`flux_fetch.py`, source-controller's part), so the Kustomizations apply the real bootstrapper's
own manifests from the branch under test, built as kustomize-controller builds them: Flux's
generator (`spec.images`, `spec.targetNamespace`) and real kustomize (`flux_sources.py`). Remote
urls (https://github.com/...) become Ready with a revision derived from url and branch, and
apply nothing (the scenario scripts what such a source would have brought).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from simulator.api.kind_table import api_version_of
from simulator.world.durations import format_go_duration
from simulator.world.flux_apply import ApplyRejected, apply_objects
from simulator.world.flux_conditions import (
    checks_health,
    interval_of,
    reconciling_stage,
    requested_at,
    retry_interval_of,
    timeout_of,
)
from simulator.world.flux_dependencies import dependency_problem
from simulator.world.flux_fetch import fetch, local_repo
from simulator.world.flux_health import HealthCheck, check_health, targets
from simulator.world.flux_helm import reconcile_release
from simulator.world.flux_inventory import finalize, keep_finalizer
from simulator.world.flux_sources import FluxError, PathNotFound, build_kustomization
from simulator.world.flux_status import write_status
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
# A Kustomization is reconciled again `spec.interval` after a reconcile ends Ready, and
# `retryInterval` after one fails with these reasons (RequeueAfter); between two, nothing it
# applied is looked at (the controller watches no workload).
_RETRIED = frozenset({"ArtifactFailed", "BuildFailed", "ReconciliationFailed", "HealthCheckFailed"})


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
        self._retry_due: set[tuple[str, str]] = set()  # a failed one's retry scheduled
        self._generations: dict[tuple[str, str], object] = {}  # the generation last reconciled
        self._requests: dict[tuple[str, str, str], str | None] = {}  # (kind, ns, name) -> request
        self._checking: set[tuple[str, str]] = set()  # a health check under way
        self._deferred: set[tuple[str, str]] = set()  # asked for while one was under way
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
        asked = self._asked(obj)  # a new reconcile request (`flux reconcile`)
        if kind == "GitRepository":
            uid = str(meta(obj).get("uid"))
            gen = meta(obj).get("generation")
            observed = (obj.get("status") or {}).get("observedGeneration")
            fetching = f"{uid}/{gen}/{requested_at(obj) if asked else ''}"
            if (gen != observed or asked) and fetching not in self._fetching:
                self._fetching.add(fetching)
                self.scheduler.call_later(
                    FETCH_SECONDS, lambda: fetch(self.objects, obj, self.base_dir)
                )
            else:
                revision = ((obj.get("status") or {}).get("artifact") or {}).get("revision")
                changed = isinstance(revision, str) and self._artifacts.get(_key(obj)) != revision
                if changed:
                    self._artifacts[_key(obj)] = str(revision)
                    self._reconcile_all(source=_key(obj))
        elif kind == "Kustomization":
            # GenerationChangedPredicate: a new Kustomization, or a changed spec, is reconciled
            # at once, or once the reconcile under way has ended.
            key, generation = _key(obj), meta(obj).get("generation")
            if self._generations.get(key) != generation or asked:
                self._generations[key] = generation
                self._reconcile_when_free(obj)
        if kind == "HelmRelease":
            reconcile_release(self.objects, obj)

    def _asked(self, obj: Obj) -> bool:
        """ReconcileRequestedPredicate: the object's reconcile request changed since the last
        version seen (its first version asks nothing: a new object is reconciled anyway)."""
        key, requested = (str(obj.get("kind")), *_key(obj)), requested_at(obj)
        seen = key in self._requests
        asked = seen and requested is not None and self._requests[key] != requested
        self._requests[key] = requested
        return asked

    def _forget(self, kustomization: Obj) -> None:
        self._requests.pop(("Kustomization", *_key(kustomization)), None)
        for book in (self._applied, self._applied_objects, self._applied_at, self._generations):
            book.pop(_key(kustomization), None)
        for keys in (self._failed, self._checking, self._deferred):
            keys.discard(_key(kustomization))

    # -- kustomize-controller ---------------------------------------------------------------------

    def _reconcile_all(self, *, source: tuple[str, str]) -> None:
        """Reconcile each Kustomization of `source`, whose artifact just changed
        (kustomize-controller watches its sources' revisions; a requeued one is reconciled
        now, one whose reconcile is under way once it has ended)."""
        for kust in self.objects.list(KUSTOMIZE_API, "Kustomization"):
            if _source_of(kust) == source:
                self._reconcile_when_free(kust)

    def _reconcile_when_free(self, kust: Obj) -> None:
        """Reconcile now, or, while its reconcile runs (the apply, the health check: the
        controller's worker is busy with it; v1.9.6 does not cancel a health check unless the
        CancelHealthCheckOnNewRevision gate is on, off by default), once it has ended."""
        key = _key(kust)
        if key in self._pending or key in self._checking:
            self._deferred.add(key)
        else:
            self._reconcile(kust)

    def _ended(self, kust: Obj) -> None:
        """A reconcile ended (Ready, or failed after its apply): a request that came meanwhile
        is served now."""
        key = _key(kust)
        self._checking.discard(key)
        if key in self._deferred and (current := self.objects.fresh(kust)) is not None:
            self._deferred.discard(key)
            self._reconcile(current)

    def _reconcile(self, kust: Obj) -> None:
        """kustomize-controller's Reconcile up to the apply: the source, its artifact, then the
        dependencies (checkDependencies), in that order, then reconcile() of the revision,
        applied before or not (a new spec, a new artifact, the interval's, a retry's, a
        requeue's: every reconcile applies again). Between two, the controller looks at
        nothing it applied (it watches no workload)."""
        key = _key(kust)
        spec = kust.get("spec") or {}
        if spec.get("suspend"):
            return
        source_ref = spec.get("sourceRef") or {}
        source_name = str(source_ref.get("name"))
        source = self.objects.get(
            SOURCE_API, "GitRepository", source_name, source_ref.get("namespace") or key[0]
        )
        if source is None:  # getSource's NotFound, in the client's words
            message = f'gitrepositories.source.toolkit.fluxcd.io "{source_name}" not found'
            self._status(kust, ("False", "ArtifactFailed", message))
            return
        revision = (((source.get("status") or {}).get("artifact")) or {}).get("revision")
        if not revision:
            message = "Source artifact not found, retrying in 30s"
            self._status(kust, ("False", "ArtifactFailed", message))
            self._requeue(kust)
            return
        problem = dependency_problem(self.objects, kust, revision)
        if problem is not None:
            self._status(kust, ("False", "DependencyNotReady", problem))
            self.objects.event(
                self.objects.fresh(kust) or kust,
                "DependencyNotReady",  # the event's reason is Ready's (r.event)
                "Dependencies do not meet ready condition, retrying in 30s",
                source="kustomize-controller",
            )
            self._requeue(kust)
            return
        self._reconcile_revision(kust, source, revision)

    def _current(self, kust: Obj) -> bool:
        """Whether it applied its source's artifact, and the apply went through."""
        key = _key(kust)
        applied = self._applied.get(key)
        if applied is None or key in self._failed or key in self._pending:
            return False
        return self._artifacts.get(_source_of(kust)) in (None, applied)

    def _requeue_after(
        self, kust: Obj, seconds: float, book: set[tuple[str, str]], wanted: Callable[[Obj], bool]
    ) -> None:
        """RequeueAfter: a full reconcile `seconds` from now, if then `wanted` of it; one wait
        per book and Kustomization (one already waiting is earlier, and stays: controller-
        runtime's queue keeps the earliest)."""
        key = _key(kust)
        if key in book:
            return
        book.add(key)

        def due() -> None:
            book.discard(key)
            current = self.objects.fresh(kust)
            busy = key in self._pending or key in self._checking  # it will requeue itself
            if current is not None and not busy and wanted(current):
                self._reconcile(current)

        self.scheduler.call_later(seconds, due)

    def _schedule_interval(self, kust: Obj) -> None:
        """RequeueAfter `spec.interval` once a reconcile ends Ready: the routine reconcile (not
        when it is no longer Ready: another reconcile has it)."""
        spec = kust.get("spec") or {}
        self._requeue_after(kust, interval_of(spec), self._interval_due, _is_ready)

    def _schedule_retry(self, kust: Obj) -> None:
        """RequeueAfter `retryInterval` once a reconcile fails (its build, its apply, its health
        check): the controller reconciles it again then, in full, with a fresh timeout."""
        spec = kust.get("spec") or {}
        self._requeue_after(kust, retry_interval_of(spec), self._retry_due, _has_failed)

    def _requeue(self, kust: Obj) -> None:
        """RequeueAfter the dependency interval (30 s): its source had no artifact, or a
        dependency was not ready. One Ready since (a new artifact came first) is left to its
        interval: the controller would reconcile it once more now; here that reconcile would
        race other requeues of the same instant for the dependents' checks."""

        def still_waiting(current: Obj) -> bool:
            return not (self._current(current) and _is_ready(current))

        self._requeue_after(kust, REQUEUE_DEPENDENCY_SECONDS, self._requeued, still_waiting)

    def _reconcile_revision(self, kust: Obj, source: Obj, revision: str) -> None:
        """kustomize-controller's reconcile() of a revision, new or applied before (the
        interval's, a retry's): Ready Unknown from its first stage, as v1.9.6 writes it, then
        the apply (which puts back what drifted: a deleted object, a changed field the
        manifests set) and its health check."""
        key = _key(kust)
        spec = kust.get("spec") or {}
        fetching = reconciling_stage("Fetching manifests", revision, spec)
        self._status(
            kust,
            ("Unknown", "Progressing", "Reconciliation in progress"),
            reconciling=fetching,
        )
        self._pending.add(key)
        self.scheduler.call_later(APPLY_SECONDS, lambda: self._apply(kust, source, revision))

    def _apply(self, kust: Obj, source: Obj, revision: str) -> None:
        key = _key(kust)
        self._pending.discard(key)
        current = self.objects.fresh(kust)
        if current is None:
            return
        spec = current.get("spec") or {}
        local = local_repo(str((source.get("spec") or {}).get("url", "")), self.base_dir)
        applied: list[Obj] = []
        if local is not None:
            sha = revision.rsplit("sha1:", 1)[-1]
            try:
                docs = build_kustomization(local, sha, spec)
            except FluxError as exc:  # a missing path is found before the build, as it fetches
                fetching = isinstance(exc, PathNotFound)
                reason = "ArtifactFailed" if fetching else "BuildFailed"
                doing = "Fetching manifests" if fetching else "Building manifests"
                stage = reconciling_stage(doing, revision, spec)
                self._status(current, ("False", reason, str(exc)), reconciling=stage)
                self.objects.event(
                    current, reason, str(exc), type="Warning", source="kustomize-controller"
                )
                self._applied[key] = revision
                self._failed.add(key)
                self._schedule_retry(current)
                self._ended(current)
                return
            try:
                applied, changes = apply_objects(self.objects, key, docs)
            except ApplyRejected as exc:
                stage = reconciling_stage("Detecting drift", revision, spec)
                self._status(
                    current,
                    ("False", "ReconciliationFailed", str(exc)),
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
                self._schedule_retry(current)
                self._ended(current)
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

        self.scheduler.call_later(
            timeout_of(spec), lambda: self._health(current, revision, started, timed_out=True)
        )
        self._checking.add(key)
        self._health(current, revision, started, first=True)

    def _health(
        self,
        kust: Obj,
        revision: str,
        started: float,
        *,
        first: bool = False,
        timed_out: bool = False,
    ) -> None:
        """One poll of the health check the apply at `started` began, of `kust` as it was
        then (its last at its timeout); nothing once it has ended, or another apply has begun.
        The status is written when the check begins and when it ends, not at each poll (a
        write carries the generation of the object as it is then, as Flux's patch helper sets
        conditions on the latest object)."""
        current = self.objects.fresh(kust)
        if current is None:
            return
        key = _key(current)
        if self._applied_at.get(key) != started or key not in self._checking:
            return
        spec = kust.get("spec") or {}
        elapsed = self.objects.clock.elapsed() - self._applied_at.get(key, 0.0)
        timeout = timeout_of(spec)
        waiting_on = targets(kust, self._applied_objects.get(key, []))
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
                ("True", "ReconciliationSucceeded", message),
                revision=revision,
                healthy=("True", "Succeeded", passed) if checked else None,
            )
            self._schedule_interval(current)
            self._ended(current)
            return
        if verdict.outcome == "failed":
            # The Ready message is checkHealth's error as reconcile wraps it (lower case); a
            # timeout's comes when the timeout does, a fail-fast one at the poll that saw it.
            after = elapsed if verdict.stalled else max(elapsed, timeout)
            message = f"health check failed after {format_go_duration(after)}: {verdict.error}"
            self.objects.event(
                current, "HealthCheckFailed", message, type="Warning", source="kustomize-controller"
            )
            self._status(
                current,
                ("False", "HealthCheckFailed", message),
                healthy=("False", "HealthCheckFailed", verdict.error),
            )
            self._schedule_retry(current)
            self._ended(current)
        else:
            if first:
                self._status(
                    current,
                    ("Unknown", "Progressing", "Reconciliation in progress"),
                    reconciling=checking,
                    healthy=("Unknown", "Progressing", checking),
                )
            self.scheduler.call_later(
                HEALTH_POLL_SECONDS, lambda: self._health(kust, revision, started)
            )

    def _status(
        self,
        kust: Obj,
        ready: tuple[str, str, str],
        *,
        revision: str | None = None,
        reconciling: str | None = None,
        healthy: tuple[str, str, str] | None = None,
    ) -> None:
        applied = self._applied_objects.get(_key(kust))
        write_status(
            self.objects,
            kust,
            ready,
            applied=applied,
            revision=revision,
            reconciling=reconciling,
            healthy=healthy,
        )


def _is_ready(kust: Obj) -> bool:
    return (condition(kust, "Ready") or {}).get("status") == "True"


def _has_failed(kust: Obj) -> bool:
    """Whether its last reconcile failed (and none has begun since)."""
    ready = condition(kust, "Ready") or {}
    return ready.get("status") == "False" and ready.get("reason") in _RETRIED


def _source_of(kust: Obj) -> tuple[str, str]:
    """The (namespace, name) of a Kustomization's GitRepository."""
    ref = (kust.get("spec") or {}).get("sourceRef") or {}
    return str(ref.get("namespace") or _key(kust)[0]), str(ref.get("name"))


def _key(obj: Obj) -> tuple[str, str]:
    """(namespace, name): how the controllers' books know a Kustomization."""
    return str(meta(obj).get("namespace")), str(meta(obj).get("name"))
