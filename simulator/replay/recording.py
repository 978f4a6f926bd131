"""Record what a cluster does into a scenario: a failed install at a customer becomes a test.

`Recorder` lists, then watches, the kinds that tell an install's story (namespaces, nodes, pods,
events, workloads, PVCs, services, configmaps and the Flux kinds once their CRDs are served; never
Secrets, nor the `kube-root-ca.crt` ConfigMaps, which the cluster a recording is replayed on
publishes itself with its own CA) through any kubeconfig. `recording_to_scenario` turns what it saw
into a scenario document: the objects at the start (with status), then one scripted action per
change at its offset on the API server's clock (`Date` headers and object timestamps), so a
recording of a compressed replay stays in scenario time. Changes become `apply` (new objects),
`patch` (a JSON merge patch from the previous state, status included) and `delete` actions, and the
scenario says `reactive: false`: the world replays it verbatim and adds nothing of its own.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from simulator.api.kinds import KindInfo
from simulator.api.namespace_publisher import ROOT_CA_CONFIGMAP
from simulator.errors import SimulatorError
from simulator.replay.kubeclient import ApiError, KubeClient

__all__ = [
    "DEFAULT_KINDS",
    "Change",
    "Recorder",
    "RecordingError",
]

_log = logging.getLogger(__name__)
Obj = dict[str, Any]

# (group, kind) in replay order: CRDs and namespaces before what lives in them.
DEFAULT_KINDS: tuple[tuple[str, str], ...] = (
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("", "Namespace"),
    ("", "Node"),
    ("", "ConfigMap"),
    ("", "Service"),
    ("", "PersistentVolumeClaim"),
    ("apps", "Deployment"),
    ("apps", "StatefulSet"),
    ("apps", "DaemonSet"),
    ("apps", "ReplicaSet"),
    ("batch", "Job"),
    ("source.toolkit.fluxcd.io", "GitRepository"),
    ("kustomize.toolkit.fluxcd.io", "Kustomization"),
    ("helm.toolkit.fluxcd.io", "HelmRelease"),
    ("", "Pod"),
    ("", "Event"),
)
_CRD = ("apiextensions.k8s.io", "CustomResourceDefinition")
_TIME_KEYS = frozenset(
    {
        "creationTimestamp",
        "lastTransitionTime",
        "lastUpdateTime",
        "lastHeartbeatTime",
        "lastProbeTime",
        "startedAt",
        "finishedAt",
        "startTime",
        "completionTime",
        "firstTimestamp",
        "lastTimestamp",
        "eventTime",
        "time",
    }
)


class RecordingError(SimulatorError):
    """The cluster cannot be recorded; the message names the request and what to check."""


@dataclass(frozen=True)
class Change:
    """One observed change: ADDED/MODIFIED/DELETED of `obj` at server time `at`."""

    seq: int
    type: str
    obj: Obj
    at: datetime
    rv: str


@dataclass
class _Watched:
    resource: KindInfo
    rv: str
    thread: threading.Thread | None = None
    known: dict[tuple[str, str], Obj] = field(default_factory=dict)


class Recorder:
    """Lists then watches a cluster; `changes` and `initial` feed `recording_to_scenario`."""

    def __init__(
        self,
        client: KubeClient,
        *,
        kinds: Sequence[tuple[str, str]] = DEFAULT_KINDS,
        namespaces: Iterable[str] = (),
        clock_poll: float = 0.05,
        watch_timeout: int = 5,
    ) -> None:
        self.client = client
        self.kinds = tuple(kinds)
        self.namespaces = frozenset(namespaces)
        self.clock_poll = clock_poll
        self.watch_timeout = watch_timeout
        self.start: datetime | None = None
        self.initial: list[Obj] = []
        self.changes: list[Change] = []
        self._lock = threading.Lock()
        self._seq = 0
        self._stopping = threading.Event()
        self._watched: dict[tuple[str, str], _Watched] = {}
        # The resourceVersion at which each watched CRD was first seen (`_crd_served`).
        self._crd_seen: dict[tuple[str, str], str] = {}
        self._threads: list[threading.Thread] = []
        self._last_change = time.monotonic()
        self.errors: list[str] = []

    # ----------------------------------------------------------------- lifecycle

    def begin(self) -> Recorder:
        """Read the server clock, list every served kind, then start watching."""
        try:
            self.start = self.client.now() or datetime.now(UTC)
            for group, kind in self.kinds:
                self._list_kind(group, kind, initial=True)
        except ApiError as exc:
            raise RecordingError(
                f"cannot record the cluster at {self.client.server}: {exc}; check the kubeconfig "
                "and that its user may list and watch these kinds"
            ) from exc
        poller = threading.Thread(target=self._poll_clock, name="record-clock", daemon=True)
        poller.start()
        self._threads.append(poller)
        return self

    def stop(self) -> None:
        """Stop watching and close the client (changes seen so far stay)."""
        self._stopping.set()
        # Closing the connections ends the open watch streams at once.
        self.client.close()
        for thread in list(self._threads):
            thread.join(timeout=self.watch_timeout + 5)

    def idle_for(self) -> float:
        """Wall seconds since the last observed change."""
        with self._lock:
            return time.monotonic() - self._last_change

    def wait_idle(self, quiet: float, *, timeout: float) -> bool:
        """Wait until nothing changed for `quiet` wall seconds (False when `timeout` passes)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.idle_for() >= quiet:
                return True
            self._stopping.wait(min(0.05, quiet))
        return False

    def server_elapsed(self) -> float:
        """Server-clock seconds since the recording began."""
        now = self.client.server_now
        if now is None or self.start is None:
            return 0.0
        return (now - self.start).total_seconds()

    # ----------------------------------------------------------------- listing and watching

    def _list_kind(self, group: str, kind: str, *, initial: bool, since: str | None = None) -> None:
        """List the kind, then watch it from the list's resourceVersion; or, with `since`,
        watch from there without a list (see `_crd_served`)."""
        if (group, kind) in self._watched:
            return
        version = self._preferred_version(group)
        if version is None:
            return
        resource = self.client.resource(f"{group}/{version}" if group else version, kind)
        if resource is None:
            return
        if since is not None:
            self._watch_in_background(_Watched(resource, since))
            return
        answer = self.client.request("GET", resource.path())
        watched = _Watched(resource, str((answer.get("metadata") or {}).get("resourceVersion", "")))
        self._watched[(group, kind)] = watched
        for listed in answer.get("items") or []:
            item = {"apiVersion": resource.api_version, "kind": kind, **listed}
            if not self._wanted(item):
                continue
            watched.known[_key(item)] = item
            if initial:
                self.initial.append(item)
            else:
                self._observe("ADDED", item)
        self._watch_in_background(watched)

    def _watch_in_background(self, watched: _Watched) -> None:
        key = (watched.resource.group, watched.resource.kind)
        self._watched[key] = watched
        thread = threading.Thread(
            target=self._watch, args=(watched,), name=f"record-{key[1]}", daemon=True
        )
        watched.thread = thread
        thread.start()
        self._threads.append(thread)

    def _preferred_version(self, group: str) -> str | None:
        if not group:
            return "v1"
        try:
            answer = self.client.request("GET", f"/apis/{group}")
        except ApiError as exc:
            if exc.code == 404:
                return None  # not served (yet): a CRD watch starts it later
            raise
        preferred = (answer.get("preferredVersion") or {}).get("version")
        return str(preferred) if preferred else None

    def _watch(self, watched: _Watched) -> None:
        path = watched.resource.path()
        expired = False
        while not self._stopping.is_set():
            try:
                if expired:
                    self._relist(watched)
                    expired = False
                for event in self.client.watch(
                    path, resource_version=watched.rv, timeout=self.watch_timeout
                ):
                    if self._stopping.is_set():
                        return
                    self._handle(watched, event)
            except _Expired:
                expired = True
            except ApiError as exc:
                if exc.code == 429:
                    # kube-apiserver's cache of a kind just served is still starting ("storage
                    # is (re)initializing", Retry-After: 1): not a failure of the recording.
                    self._stopping.wait(1.0)
                    continue
                expired = exc.code == 410
                if not expired:
                    self._failed(watched, str(exc))
            except Exception as exc:  # a broken stream is retried; when stopping it is the end
                if self._stopping.is_set():
                    return
                self._failed(watched, str(exc))

    def _failed(self, watched: _Watched, message: str) -> None:
        _log.warning("watching %s failed: %s; retrying", watched.resource.plural, message)
        with self._lock:
            self.errors.append(f"{watched.resource.plural}: {message}")
        self._stopping.wait(0.5)

    def _handle(self, watched: _Watched, event: Obj) -> None:
        kind = str(event.get("type", ""))
        obj = event.get("object") or {}
        if kind == "ERROR":
            if obj.get("code") == 410:
                raise _Expired
            raise ApiError(str(obj.get("message", "watch error")), code=int(obj.get("code") or 0))
        rv = str((obj.get("metadata") or {}).get("resourceVersion", ""))
        if rv:
            watched.rv = rv
        if kind == "BOOKMARK":
            return
        obj = {"apiVersion": watched.resource.api_version, "kind": watched.resource.kind, **obj}
        if not self._wanted(obj):
            return
        if kind == "DELETED":
            watched.known.pop(_key(obj), None)
        else:
            watched.known[_key(obj)] = obj
        self._observe(kind, obj)
        if (watched.resource.group, watched.resource.kind) == _CRD and kind != "DELETED":
            self._crd_served(obj)

    def _relist(self, watched: _Watched) -> None:
        """After 410 Gone: list again and record the difference as changes."""
        answer = self.client.request("GET", watched.resource.path())
        watched.rv = str((answer.get("metadata") or {}).get("resourceVersion", ""))
        seen: dict[tuple[str, str], Obj] = {}
        for listed in answer.get("items") or []:
            item = {
                "apiVersion": watched.resource.api_version,
                "kind": watched.resource.kind,
                **listed,
            }
            if self._wanted(item):
                seen[_key(item)] = item
        for key, obj in seen.items():
            old = watched.known.get(key)
            if old is None:
                self._observe("ADDED", obj)
            elif old != obj:
                self._observe("MODIFIED", obj)
        for key, obj in list(watched.known.items()):
            if key not in seen:
                self._observe("DELETED", obj)
        watched.known = seen

    def _crd_served(self, crd: Obj) -> None:
        """A CRD for one of our kinds appeared (e.g. `flux install`): record that kind.

        Its objects are all younger than the CRD, so the kind is watched from the CRD's first
        resourceVersion seen, not listed: a list comes a moment later, and on a fast replay an
        object made and changed within that moment would be recorded in its last state only.
        A server whose watch cache for the new kind starts later answers 410; the watch then
        lists (`_relist`), as it would have at once."""
        spec = crd.get("spec") or {}
        group, kind = str(spec.get("group", "")), str((spec.get("names") or {}).get("kind", ""))
        if (group, kind) in self.kinds and (group, kind) not in self._watched:
            rv = str((crd.get("metadata") or {}).get("resourceVersion", ""))
            since = self._crd_seen.setdefault((group, kind), rv) or None
            for version in spec.get("versions") or []:
                self.client.forget(f"{group}/{version.get('name')}")
            try:
                self._list_kind(group, kind, initial=False, since=since)
            except ApiError as exc:
                _log.warning("cannot record %s yet: %s", kind, exc)

    def _wanted(self, obj: Obj) -> bool:
        meta = obj.get("metadata") or {}
        kind = obj.get("kind")
        if kind == "CustomResourceDefinition":
            spec = obj.get("spec") or {}
            return (str(spec.get("group", "")), str((spec.get("names") or {}).get("kind"))) in (
                self.kinds
            )
        if kind == "ConfigMap" and meta.get("name") == ROOT_CA_CONFIGMAP:
            return False
        if not self.namespaces:
            return True
        if kind == "Namespace":
            return str(meta.get("name")) in self.namespaces
        namespace = meta.get("namespace")
        return namespace is None or str(namespace) in self.namespaces

    def _observe(self, kind: str, obj: Obj) -> None:
        at = self.client.server_now or datetime.now(UTC)
        newest = _newest_timestamp(obj)
        if kind != "DELETED" and newest is not None and newest > at:
            at = newest
        with self._lock:
            self._seq += 1
            rv = str((obj.get("metadata") or {}).get("resourceVersion", ""))
            self.changes.append(Change(self._seq, kind, obj, at, rv))
            self._last_change = time.monotonic()

    def _poll_clock(self) -> None:
        while not self._stopping.wait(self.clock_poll):
            try:
                self.client.now()
            except Exception as exc:  # the clock is best effort; object timestamps remain
                if self._stopping.is_set():
                    return
                _log.debug("clock poll failed: %s", exc)


class _Expired(Exception):
    """A watch's resourceVersion was compacted (410): relist."""


def _key(obj: Obj) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return str(meta.get("namespace") or ""), str(meta.get("name", ""))


def _newest_timestamp(obj: Any) -> datetime | None:
    newest: datetime | None = None

    def visit(value: Any) -> None:
        nonlocal newest
        if isinstance(value, dict):
            for key, item in value.items():
                if key in _TIME_KEYS and isinstance(item, str):
                    when = _parse_time(item)
                    if when is not None and (newest is None or when > newest):
                        newest = when
                else:
                    visit(item)
        elif isinstance(value, list):
            for item in value:
                visit(item)

    visit(obj)
    return newest


def _parse_time(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


# ----------------------------------------------------------------- scenario building
