"""An informer-style cache: list + watch per kind, so a snapshot never waits on the API.

The status service answers every request from memory. One thread per kind lists the collection,
then watches from the list's resourceVersion; on 410 Gone, an ERROR event, a dropped connection
or the end of a watch it lists again (a relist also catches deletions missed in the gap). A
heartbeat thread reads `/version` every second to keep the cluster's clock (its `Date` header)
and to notice an unreachable API quickly, since a silent watch looks the same as a quiet cluster.

When the API fails, the cache keeps the objects it had and `snapshot()` says what failed in
`api_error`; the caller decides whether to trust the last known state.

Every wait goes through a `Clock` (appliance/clocking.py). With the test clock, each thread holds
a token while it works and releases it while its watch stream is open or it sleeps, and the
cache counts the watch lines it applied: a `Mark` (generation, lines) the collector acknowledges
with its sleep, so a simulated cluster knows when this process has acted on all it was sent.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from appliance.clocking import Clock, SystemClock
from appliance.cluster.calls import ApiCalls
from appliance.cluster.connecting import Cluster
from appliance.cluster.reading import crashed_containers
from appliance.cluster.streams import (
    _ApiFailure,
    _Missing,
    _Relist,
    check_status,
    close_quietly,
    events,
)
from appliance.cluster.waiting import Mark, Waits
from appliance.snapshot import ContainerRef, RawObject, Snapshot

__all__ = ["RESOURCES", "Mark", "WatchCache", "WatchedResource"]


@dataclass(frozen=True)
class WatchedResource:
    """One collection to mirror: the Snapshot field it fills and its cluster-wide path."""

    field: str
    kind: str
    path: str
    # A Flux CRD may not be installed yet: a 404 then means "none yet", not an error.
    optional: bool = False


RESOURCES: tuple[WatchedResource, ...] = (
    WatchedResource("nodes", "Node", "/api/v1/nodes"),
    WatchedResource("pods", "Pod", "/api/v1/pods"),
    WatchedResource("events", "Event", "/api/v1/events"),
    WatchedResource("deployments", "Deployment", "/apis/apps/v1/deployments"),
    WatchedResource("statefulsets", "StatefulSet", "/apis/apps/v1/statefulsets"),
    WatchedResource("jobs", "Job", "/apis/batch/v1/jobs"),
    WatchedResource("pvcs", "PersistentVolumeClaim", "/api/v1/persistentvolumeclaims"),
    WatchedResource(
        "git_repositories",
        "GitRepository",
        "/apis/source.toolkit.fluxcd.io/v1/gitrepositories",
        optional=True,
    ),
    WatchedResource(
        "kustomizations",
        "Kustomization",
        "/apis/kustomize.toolkit.fluxcd.io/v1/kustomizations",
        optional=True,
    ),
    WatchedResource(
        "helm_releases",
        "HelmRelease",
        "/apis/helm.toolkit.fluxcd.io/v2/helmreleases",
        optional=True,
    ),
)


def _key(obj: RawObject) -> str:
    meta = obj.get("metadata") or {}
    uid = meta.get("uid")
    if isinstance(uid, str) and uid:
        return uid
    return f"{meta.get('namespace') or ''}/{meta.get('name') or ''}"


class WatchCache:
    """Mirror of the watched collections, kept current by background threads.

    `snapshot()` and `mark()` only read memory. `wait_for_change(after, timeout)` lets a
    collector sleep until something changed (an object, the API's reachability, or a watch line
    arrived that the collector has not acknowledged yet).
    """

    def __init__(
        self,
        cluster: Cluster,
        *,
        resources: tuple[WatchedResource, ...] = RESOURCES,
        watch_timeout_seconds: int = 60,
        retry_seconds: float = 1.0,
        missing_retry_seconds: float = 15.0,
        heartbeat_seconds: float = 1.0,
        request_timeout: tuple[float, float] = (3.0, 10.0),
        monotonic: Callable[[], float] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._cluster = cluster
        self._resources = resources
        self._watch_timeout = watch_timeout_seconds
        self._retry = retry_seconds
        self._missing_retry = missing_retry_seconds
        self._heartbeat = heartbeat_seconds
        self._request_timeout = request_timeout
        self._clock = clock or SystemClock()
        self._monotonic = monotonic or self._clock.monotonic
        self._lock = threading.Condition()
        self._stores: dict[str, dict[str, RawObject]] = {r.field: {} for r in resources}
        self._synced: set[str] = set()
        self._missing: set[str] = set()
        self._errors: dict[str, str] = {}
        self._heartbeat_error: str | None = None
        self._server_time: tuple[datetime, float] | None = None
        self._generation = 0
        self._lines = 0
        # A wake() no wait_for_change was there to see (its caller was busy): the next one ends
        # at once, so the news (a login probe's answer) is not left for the next change.
        self._woken = False
        self._stopping = threading.Event()
        # Every thread's wait (the cache's own and its callers'), interrupted on stop or change.
        self._waits = Waits(self._clock, self._stopping)
        self._threads: list[threading.Thread] = []
        self._api = ApiCalls(cluster, request_timeout=request_timeout)
        # Previous logs of crashed containers: (text, monotonic time read), re-read after a while.
        self._logs: dict[ContainerRef, tuple[str, float]] = {}
        self._log_max_age = 30.0

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Start the heartbeat and one list+watch thread per resource (daemon threads)."""
        if self._threads:
            return
        self._ensure_pool_size(len(self._resources) + 2)
        self._threads.append(
            threading.Thread(target=self._heartbeat_loop, name="watch-heartbeat", daemon=True)
        )
        for resource in self._resources:
            self._threads.append(
                threading.Thread(
                    target=self._resource_loop,
                    args=(resource,),
                    name=f"watch-{resource.field}",
                    daemon=True,
                )
            )
        # The tokens the threads work with are taken here, so no moment passes in which the
        # process looks idle to a test clock before a thread has started.
        self._clock.hold(len(self._threads))
        for thread in self._threads:
            thread.start()

    def _ensure_pool_size(self, needed: int) -> None:
        """One long-lived watch per kind plus the heartbeat must fit in the connection pool.

        The client's default pool (5 per core) is smaller than our concurrent streams on a
        2-core appliance; connections beyond it are discarded after every request, so the
        heartbeat would pay a new TLS handshake each second.
        """
        from kubernetes.client import rest

        api = self._cluster.api_client
        configuration = api.configuration
        current = configuration.connection_pool_maxsize or 0
        if current < needed:
            configuration.connection_pool_maxsize = needed
            api.rest_client = rest.RESTClientObject(configuration)

    def stop(self, *, timeout: float = 5.0) -> None:
        """Stop every thread; open watch streams are closed so no thread waits on a read."""
        self._stopping.set()
        with self._lock:
            self._lock.notify_all()
        self._api.close_all()
        self._waits.notify()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    # --- reading (never touches the network) ------------------------------------------------

    @property
    def generation(self) -> int:
        """A counter that increases whenever the mirrored state or the API's health changes."""
        with self._lock:
            return self._generation

    def mark(self) -> Mark:
        """The generation and the watch lines applied so far, read together."""
        with self._lock:
            return Mark(self._generation, self._lines)

    @property
    def synced(self) -> bool:
        """True once every resource has been listed (or found missing) at least once."""
        with self._lock:
            return all(r.field in self._synced for r in self._resources)

    def wait_for_change(self, after: Mark, *, timeout: float) -> Mark:
        """Block until the cache moved past `after` (or timeout, `wake()` or stop).

        `after` is what the caller has acted on; with a test clock, the wait tells the clock so.
        """

        def moved() -> bool:
            with self._lock:
                return self._woken or self._moved(after)

        self._waits.until_moved(moved, timeout, acked=after.lines)
        with self._lock:
            self._woken = False
        return self.mark()

    def settle(self, after: Mark) -> Mark:
        """Let a change settle, then the mark to read at: waits of no time until one ends
        uninterrupted with nothing new. At once on the machine's clock; on a test clock, once
        every other process waits too, so one reading covers a whole change on every run."""
        while not self._stopping.is_set():
            current = self.mark()

            def moved(current: Mark = current) -> bool:
                with self._lock:
                    return self._moved(current)

            if self._waits.until_settled(moved, acked=current.lines) and self.mark() == current:
                return current
        return self.mark()

    def wake(self) -> None:
        """End every `wait_for_change` now, or the next one when none is waiting (something
        outside the cache changed)."""
        with self._lock:
            self._woken = True
        self._waits.notify()

    def _moved(self, after: Mark) -> bool:
        return self._generation > after.generation or self._lines > after.lines

    def snapshot(self) -> Snapshot:
        """The mirrored objects now, with the cluster's clock and what (if anything) failed."""
        with self._lock:
            collections = {field: tuple(store.values()) for field, store in self._stores.items()}
            missing = tuple(r.kind for r in self._resources if r.field in self._missing)
            error = self._describe_error()
            server_time = self._estimate_server_time()
        # Keyword unpacking of mixed types defeats mypy; build the kwargs as Any on purpose.
        fields: dict[str, Any] = dict(collections)
        return Snapshot(
            server_time=server_time,
            source="live",
            api_error=error,
            missing_kinds=missing,
            **fields,
        )

    def with_previous_logs(self, snapshot: Snapshot) -> Snapshot:
        """`snapshot` plus the previous log of its crashed containers (bounded, memoised).

        This does call the API, so only the background collector uses it, never a request.
        """
        refs = crashed_containers(snapshot.pods)
        now = self._monotonic()
        logs: dict[ContainerRef, str] = {}
        for ref in refs:
            cached = self._logs.get(ref)
            if cached is None or now - cached[1] > self._log_max_age:
                cached = (self._api.previous_log(ref), now)
                self._logs[ref] = cached
            if cached[0].strip():
                logs[ref] = cached[0]
        for stale in set(self._logs) - set(refs):
            del self._logs[stale]
        return replace(snapshot, container_logs=logs) if logs else snapshot

    def _describe_error(self) -> str | None:
        if self._heartbeat_error is not None:
            return self._heartbeat_error
        if self._errors:
            field = sorted(self._errors)[0]
            return self._errors[field]
        unsynced = [r.kind for r in self._resources if r.field not in self._synced]
        if unsynced:
            return (
                f"still reading the cluster: {', '.join(unsynced)} not listed yet; "
                "wait a few seconds"
            )
        return None

    def _estimate_server_time(self) -> datetime:
        if self._server_time is None:
            return datetime.now(UTC)
        server, local = self._server_time
        return server + timedelta(seconds=max(0.0, self._monotonic() - local))

    # --- state changes ----------------------------------------------------------------------

    def _bump(self) -> None:
        self._generation += 1
        self._lock.notify_all()

    def _set_error(self, field: str, message: str | None) -> None:
        with self._lock:
            before = self._errors.get(field)
            if message is None:
                self._errors.pop(field, None)
            else:
                self._errors[field] = message
            if before != message:
                self._bump()

    def _note_server_time(self) -> None:
        now = self._cluster.last_server_time
        if now is not None:
            with self._lock:
                self._server_time = (now, self._monotonic())

    # --- heartbeat --------------------------------------------------------------------------

    def _worker(self, loop: Callable[[], None]) -> None:
        """Run a thread's loop; its token (taken in start()) is given back when it ends."""
        try:
            loop()
        finally:
            with contextlib.suppress(Exception):  # the clock may be gone with the process
                self._clock.release()

    def _heartbeat_loop(self) -> None:
        self._worker(self._heartbeat_rounds)

    def _heartbeat_rounds(self) -> None:
        while not self._stopping.is_set():
            try:
                self._api.json("/version")
                self._note_server_time()
                error: str | None = None
            except _ApiFailure as exc:
                error = str(exc)
            except _Missing:
                error = None
            with self._lock:
                changed = error != self._heartbeat_error
                if changed:
                    self._heartbeat_error = error
                    self._bump()
            if changed:
                self._notify_waiters()
            self._waits.heartbeat(self._heartbeat)

    # --- list + watch -----------------------------------------------------------------------

    def _resource_loop(self, resource: WatchedResource) -> None:
        self._worker(lambda: self._resource_rounds(resource))

    def _resource_rounds(self, resource: WatchedResource) -> None:
        while not self._stopping.is_set():
            try:
                version = self._list(resource)
                self._set_error(resource.field, None)
                self._notify_waiters()
                self._watch(resource, version)
            except _Relist:
                continue
            except _Missing:
                self._mark_missing(resource)
                self._notify_waiters()
                self._waits.retry(self._missing_retry)
            except _ApiFailure as exc:
                self._set_error(resource.field, str(exc))
                self._notify_waiters()
                self._waits.retry(self._retry)
            except Exception as exc:  # a broken stream must never kill the mirror
                self._set_error(
                    resource.field,
                    f"watching {resource.kind}: {type(exc).__name__}: {exc}; retrying",
                )
                self._notify_waiters()
                self._waits.retry(self._retry)

    def _notify_waiters(self) -> None:
        """The cache moved: its callers' waits end (they decide whether it matters)."""
        self._waits.notify()

    def _mark_missing(self, resource: WatchedResource) -> None:
        with self._lock:
            changed = resource.field not in self._missing or bool(self._stores[resource.field])
            self._missing.add(resource.field)
            self._synced.add(resource.field)
            self._stores[resource.field] = {}
            self._errors.pop(resource.field, None)
            if changed:
                self._bump()

    def _list(self, resource: WatchedResource) -> str:
        body = self._api.json(resource.path, optional=resource.optional, kind=resource.kind)
        self._note_server_time()
        items = body.get("items") or []
        fresh: dict[str, RawObject] = {}
        for item in items:
            if isinstance(item, dict):
                # List items omit kind/apiVersion; the engine and dumps expect them.
                item.setdefault("kind", resource.kind)
                fresh[_key(item)] = item
        version = str((body.get("metadata") or {}).get("resourceVersion") or "")
        with self._lock:
            changed = (
                fresh != self._stores[resource.field]
                or resource.field not in self._synced
                or resource.field in self._missing
            )
            self._stores[resource.field] = fresh
            self._synced.add(resource.field)
            self._missing.discard(resource.field)
            if changed:
                self._bump()
        return version

    def _watch(self, resource: WatchedResource, version: str) -> None:
        query = f"?watch=true&allowWatchBookmarks=true&timeoutSeconds={self._watch_timeout}"
        if version:
            query += f"&resourceVersion={version}"
        # The read timeout outlives the server-side timeout so a silent, dead stream still ends.
        timeout = (self._request_timeout[0], float(self._watch_timeout) + 10.0)
        response = self._api.open(resource.path + query, timeout=timeout)
        try:
            check_status(response, resource.path, kind=resource.kind)
            # The open stream is what this thread waits on now: a test clock counts its lines.
            self._clock.release()
            try:
                for event in events(response):
                    if self._stopping.is_set():
                        return
                    self._apply(resource, event)
                    self._notify_waiters()
            finally:
                self._clock.hold()
        finally:
            self._api.done(response)
            close_quietly(response)
        # Any end of the stream (server timeout or a drop) leads to a relist by the caller.
        raise _Relist

    def _apply(self, resource: WatchedResource, event: dict[str, Any]) -> None:
        kind = event.get("type")
        obj = event.get("object")
        if not isinstance(obj, dict) or kind not in {"ADDED", "MODIFIED", "DELETED"}:
            self._count_line()
        if not isinstance(obj, dict):
            return
        if kind == "ERROR":
            code = obj.get("code")
            if code == 410:
                raise _Relist
            raise _ApiFailure(
                f"watching {resource.kind}: API sent an error event "
                f"({code}: {obj.get('message') or obj.get('reason')}); relisting"
            )
        if kind == "BOOKMARK":
            return
        obj.setdefault("kind", resource.kind)
        with self._lock:
            store = self._stores[resource.field]
            if kind == "DELETED":
                store.pop(_key(obj), None)
            elif kind in {"ADDED", "MODIFIED"}:
                store[_key(obj)] = obj
            else:
                return
            # Counted with the change itself: a mark never covers a line not yet in the mirror.
            self._lines += 1
            self._bump()

    def _count_line(self) -> None:
        """Every watch line counts, bookmarks and errors too: a test clock counted them sent."""
        with self._lock:
            self._lines += 1
            self._lock.notify_all()

    # --- HTTP through the official client ------------------------------------------------------
