"""A recording turned into a scenario: the first state of each object, then its changes as
scripted actions at their virtual times."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from simulator.api.store.defaults import JOB_UID_LABELS
from simulator.replay.kubeclient import KubeClient
from simulator.replay.recording import DEFAULT_KINDS, Change, Recorder

__all__ = ["clean", "merge_diff", "recording_to_scenario", "run_recording"]

Obj = dict[str, Any]
StateKey = tuple[str, str, str, str]
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
    if isinstance(meta.get("ownerReferences"), list):
        # An owner's uid is the recorded cluster's; the replay's world binds each reference to
        # its own owner of that name (world/objects.py), as it gives every object a new uid.
        meta["ownerReferences"] = [
            {k: v for k, v in ref.items() if k != "uid"} if isinstance(ref, dict) else ref
            for ref in meta["ownerReferences"]
        ]
    out["metadata"] = meta
    if obj.get("kind") == "Event":
        involved = dict(out.get("involvedObject") or {})
        involved.pop("resourceVersion", None)
        involved.pop("uid", None)
        out["involvedObject"] = involved
    if obj.get("kind") == "CustomResourceDefinition":
        out = _slim_crd(out)
    if obj.get("kind") == "Job" and obj.get("apiVersion") == "batch/v1":
        out = _without_generated_selector(out)
    return out


def _without_generated_selector(job: Obj) -> Obj:
    """A Job without the selector and uid labels the recorded API server generated from the
    job's uid: the replay's API server generates its own, and refuses a selector it did not
    generate (`selector not auto-generated`) unless `spec.manualSelector`."""
    spec = dict(job.get("spec") or {})
    if spec.get("manualSelector") is True:
        return job
    spec.pop("selector", None)
    template = dict(spec.get("template") or {})
    template_meta = dict(template.get("metadata") or {})
    if isinstance(template_meta.get("labels"), dict):
        template_meta["labels"] = _without_uid(template_meta["labels"])
        template["metadata"] = template_meta
        spec["template"] = template
    meta = dict(job["metadata"])
    if isinstance(meta.get("labels"), dict):
        meta["labels"] = _without_uid(meta["labels"])
    return {**job, "metadata": meta, "spec": spec}


def _without_uid(labels: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in labels.items() if k not in JOB_UID_LABELS}


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


# Server-owned identity and bookkeeping: the replaying server assigns its own.


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
