"""Record what a cluster does into a scenario: a failed install at a customer becomes a test.

`Recorder` lists, then watches, the kinds that tell an install's story (namespaces, nodes, pods,
events, workloads, PVCs, services, configmaps and the Flux kinds once their CRDs are served;
never Secrets) through any kubeconfig. `recording_to_scenario` turns what it saw into a scenario
document: the objects at the start (with status), then one scripted action per change at its
offset on the API server's clock (`Date` headers and object timestamps), so a recording of a
compressed replay stays in scenario time. Changes become `apply` (new objects), `patch` (a JSON
merge patch from the previous state, status included) and `delete` actions, and the scenario says
`reactive: false`: the world replays it verbatim and adds nothing of its own.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from simulator.errors import SimulatorError
from simulator.replay.kubeclient import ApiError, KubeClient, Resource

__all__ = [
    "DEFAULT_KINDS",
    "Change",
    "Recorder",
    "RecordingError",
    "clean",
    "merge_diff",
    "recording_to_scenario",
    "run_recording",
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
# Server-owned identity and bookkeeping: the replaying server assigns its own.
_DROPPED_META = (
    "uid",
    "resourceVersion",
    "generation",
    "managedFields",
    "creationTimestamp",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
)
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
    resource: Resource
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

    def _list_kind(self, group: str, kind: str, *, initial: bool) -> None:
        if (group, kind) in self._watched:
            return
        version = self._preferred_version(group)
        if version is None:
            return
        resource = self.client.resource(f"{group}/{version}" if group else version, kind)
        if resource is None:
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
        thread = threading.Thread(
            target=self._watch, args=(watched,), name=f"record-{kind}", daemon=True
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
        # A CRD for one of our kinds appeared (e.g. `flux install`): start recording that kind.
        spec = crd.get("spec") or {}
        group, kind = str(spec.get("group", "")), str((spec.get("names") or {}).get("kind", ""))
        if (group, kind) in self.kinds and (group, kind) not in self._watched:
            for version in spec.get("versions") or []:
                self.client.forget(f"{group}/{version.get('name')}")
            try:
                self._list_kind(group, kind, initial=False)
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


def merge_diff(old: Any, new: Any) -> Any:
    """The RFC 7386 merge patch that turns `old` into `new` (nulls remove keys)."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return new
    out: dict[str, Any] = {key: None for key in old if key not in new}
    for key, value in new.items():
        if key not in old:
            out[key] = value
        elif old[key] != value:
            out[key] = merge_diff(old[key], value) if isinstance(value, dict) else value
    return out


def clean(obj: Obj) -> Obj:
    """The object as a scenario carries it: no server-assigned identity, no Secret data."""
    out = dict(obj)
    if obj.get("kind") == "Secret":
        out.pop("data", None)
        out.pop("stringData", None)
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in _DROPPED_META}
    out["metadata"] = meta
    if obj.get("kind") == "Event":
        involved = dict(out.get("involvedObject") or {})
        involved.pop("resourceVersion", None)
        involved.pop("uid", None)
        out["involvedObject"] = involved
    if obj.get("kind") == "CustomResourceDefinition":
        out = _slim_crd(out)
    return out


def _slim_crd(crd: Obj) -> Obj:
    # The replay only needs the kind served; Flux's schemas are hundreds of kilobytes.
    spec = dict(crd.get("spec") or {})
    versions = []
    for version in spec.get("versions") or []:
        slim = {k: v for k, v in version.items() if k != "schema"}
        slim["schema"] = {
            "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
        }
        versions.append(slim)
    spec["versions"] = versions
    spec.pop("conversion", None)
    return {k: v for k, v in crd.items() if k != "status"} | {"spec": spec}


def _ref(obj: Obj) -> Obj:
    meta = obj.get("metadata") or {}
    ref: Obj = {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": meta.get("name")}
    if meta.get("namespace"):
        ref["namespace"] = meta["namespace"]
    return ref


def _order(changes: Sequence[Change]) -> list[Change]:
    # etcd revisions (and the fake API's) are one global sequence: the server's order of events
    # across the separate watch streams. Opaque ones fall back to the order they arrived in.
    if all(change.rv.isdigit() for change in changes):
        return sorted(changes, key=lambda change: (int(change.rv), change.seq))
    return sorted(changes, key=lambda change: change.seq)


def recording_to_scenario(
    recorder: Recorder,
    *,
    name: str,
    description: str = "",
    end: datetime | None = None,
    kind_order: Sequence[tuple[str, str]] = DEFAULT_KINDS,
) -> Obj:
    """The scenario document (a dict ready for YAML) of what `recorder` saw."""
    start = recorder.start or datetime.now(UTC)
    rank = {kind: index for index, (_, kind) in enumerate(kind_order)}
    initial = sorted(recorder.initial, key=lambda o: rank.get(str(o.get("kind")), len(rank)))
    builder = _Script()
    objects = [builder.initial(obj) for obj in initial]
    offset = 0.0
    for change in _order(recorder.changes):
        offset = max(offset, round((change.at - start).total_seconds(), 3))
        builder.change(change, at=offset)
    last = (end - start).total_seconds() if end is not None else offset
    return {
        "name": name,
        "description": description
        or f"Recorded from a cluster starting {start.isoformat()}; replays verbatim.",
        "start": start.isoformat().replace("+00:00", "Z"),
        "duration": round(max(last, offset), 3),
        "reactive": False,
        "objects": objects,
        "events": builder.actions,
    }


StateKey = tuple[str, str, str, str]


def _state_key(obj: Obj) -> StateKey:
    meta = obj.get("metadata") or {}
    group = str(obj.get("apiVersion", "")).rpartition("/")[0]
    return group, str(obj.get("kind")), str(meta.get("namespace") or ""), str(meta.get("name"))


class _Script:
    """Turns changes into actions, tracking the state the replay will have reached."""

    def __init__(self) -> None:
        self.state: dict[StateKey, Obj] = {}
        self.deleting: set[StateKey] = set()
        self.actions: list[Obj] = []

    def initial(self, obj: Obj) -> Obj:
        cleaned = clean(obj)
        self.state[_state_key(obj)] = cleaned
        return cleaned

    def change(self, change: Change, *, at: float) -> None:
        key = _state_key(change.obj)
        previous = self.state.get(key)
        if change.type == "DELETED":
            if previous is not None:
                self._deleted(key, previous, at=at)
            return
        cleaned = clean(change.obj)
        self.state[key] = cleaned
        if previous is None:
            self.deleting.discard(key)
            self.actions.append({"at": at, "action": "apply", "object": cleaned})
            return
        diff = merge_diff(previous, cleaned)
        if diff:
            self.actions.append(
                {"at": at, "action": "patch", "target": _ref(cleaned), "patch": diff}
            )
        deletion = (change.obj.get("metadata") or {}).get("deletionTimestamp")
        if deletion and key not in self.deleting:
            # Graceful deletion began (finalizers or a grace period hold the object).
            self.deleting.add(key)
            self.actions.append({"at": at, "action": "delete", "target": _ref(cleaned)})

    def _deleted(self, key: StateKey, previous: Obj, *, at: float) -> None:
        del self.state[key]
        was_deleting = key in self.deleting
        self.deleting.discard(key)
        if (previous.get("metadata") or {}).get("finalizers"):
            # Drop the finalizers so the replaying server removes the object at once.
            self.actions.append(
                {
                    "at": at,
                    "action": "patch",
                    "target": _ref(previous),
                    "patch": {"metadata": {"finalizers": None}},
                }
            )
        if not was_deleting or not (previous.get("metadata") or {}).get("finalizers"):
            self.actions.append({"at": at, "action": "delete", "target": _ref(previous)})


def run_recording(
    client: KubeClient,
    *,
    name: str,
    duration: float | None = None,
    until_idle: float | None = None,
    namespaces: Iterable[str] = (),
    on_change: Callable[[int], None] | None = None,
) -> Obj:
    """Record until `duration` server seconds passed or nothing changed for `until_idle` wall
    seconds (or Ctrl-C); returns the scenario document."""
    recorder = Recorder(client, namespaces=namespaces).begin()
    seen = 0
    try:
        while True:
            time.sleep(0.1)
            count = len(recorder.changes)
            if on_change is not None and count != seen:
                on_change(count)
            seen = count
            if duration is not None and recorder.server_elapsed() >= duration:
                break
            if until_idle is not None and recorder.idle_for() >= until_idle:
                break
    except KeyboardInterrupt:
        pass
    finally:
        recorder.stop()
    return recording_to_scenario(recorder, name=name, end=client.server_now)
