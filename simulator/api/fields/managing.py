"""`metadata.managedFields` as kube-apiserver keeps them: k8s.io/apimachinery's field manager.

The layers of its default field manager, in order: an apply must name this kind and version and
carry no managedFields; kubectl's apply may take fields its client-side `last-applied`
annotation says it set (and keeps the annotation current); an object nobody applied keeps no
managedFields through updates, and on its first apply its existing fields go to
`before-first-apply`; at most ten Update managers are kept (older ones merge into
`ancient-changes`); each manager is identified by name, operation, API version (Update only) and
subresource; `apiVersion`, `kind` and the identity fields of `metadata` are never owned; the
write's reset fields (status on the main resource, spec on /status) are never owned either.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import Any

import msgspec

from simulator.api.fields.fieldsets import FieldsError, FieldSet, Path, path_string
from simulator.api.fields.schema import Ref, skeleton
from simulator.api.fields.typed import compare, created_fields, to_set
from simulator.api.fields.updater import Conflicts, Managers, Owned, Updater
from simulator.api.fields.validation import check_typed
from simulator.errors import SimulatorError

__all__ = ["ApplyConflict", "FieldManager", "decode_managed", "encode_managed"]

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_MAX_UPDATERS = 10
# Never owned: the identity of an object (structured-merge-diff's strip-meta manager).
_UNOWNED_TOP = frozenset({"apiVersion", "kind"})
_UNOWNED_META = frozenset(
    {
        "name",
        "namespace",
        "creationTimestamp",
        "selfLink",
        "uid",
        "clusterName",
        "generation",
        "managedFields",
        "resourceVersion",
    }
)
# A create's fields depend only on the owned view of the object (and the kind): objects made
# from one template (a ReplicaSet's pods, a generateName loop) share it, so the walk is memoised
# per field manager on the view's JSON, a bounded number of views each.
_CREATED_MEMO_SIZE = 256
_ENCODE = msgspec.json.Encoder()
_DECODE = msgspec.json.Decoder()
_STRIPPED = FieldSet()
for _name in (*_UNOWNED_TOP, "metadata"):
    _STRIPPED.insert(("f:" + _name,))
for _name in _UNOWNED_META:
    _STRIPPED.insert(("f:metadata", "f:" + _name))


class ApplyConflict(SimulatorError):
    """409: an apply would change fields other managers own. `causes` as the Status has them."""

    def __init__(self, conflicts: list[tuple[str, Path]]) -> None:
        self.causes = [
            {
                "reason": "FieldManagerConflict",
                "message": f"conflict with {print_manager(manager)}",
                "field": path_string(path),
            }
            for manager, path in conflicts
        ]
        if len(conflicts) == 1:
            manager, path = conflicts[0]
            text = f"conflict with {print_manager(manager)}: {path_string(path)}"
            message = f"Apply failed with 1 conflict: {text}"
        else:
            lines = []
            for manager in sorted({m for m, _ in conflicts}):
                lines.append(f"conflicts with {print_manager(manager)}:")
                lines.extend(f"- {path_string(p)}" for m, p in conflicts if m == manager)
            message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
        super().__init__(message)
        self.message = message


@functools.lru_cache(maxsize=1024)
def manager_id(manager: str, operation: str, api_version: str, subresource: str) -> str:
    """The JSON of a managedFields entry without its fields and time (the manager's identity)."""
    entry = {"manager": manager or "unknown", "operation": operation}
    if operation == "Update" and api_version:
        entry["apiVersion"] = api_version
    if subresource:
        entry["subresource"] = subresource
    return json.dumps(entry, separators=(",", ":"))


@functools.lru_cache(maxsize=1024)
def _identity(identity: str) -> dict[str, str]:
    parsed: dict[str, str] = json.loads(identity)
    return parsed


def print_manager(identity: str) -> str:
    """`"kubectl-edit" using v1`: how a conflict names a manager."""
    entry = _identity(identity)
    text = json.dumps(entry.get("manager", ""))
    if entry.get("subresource"):
        text += f" with subresource {json.dumps(entry['subresource'])}"
    if entry.get("operation") == "Update":
        text += f" using {entry.get('apiVersion', '')}"
    return text


@dataclass
class Managed:
    fields: Managers = field(default_factory=dict)
    times: dict[str, str | None] = field(default_factory=dict)


def decode_managed(entries: Any) -> Managed:
    """Read `metadata.managedFields`; FieldsError when an entry is malformed."""
    out = Managed()
    for entry in entries or []:
        if not isinstance(entry, dict):
            raise FieldsError("a managedFields entry must be an object")
        operation = entry.get("operation")
        if operation not in ("Apply", "Update"):
            raise FieldsError("operation must be `Apply` or `Update`")
        if not entry.get("apiVersion"):
            raise FieldsError("apiVersion must not be empty")
        if entry.get("fieldsType") != "FieldsV1":
            raise FieldsError("missing or invalid fieldsType in managed fields entry")
        identity = manager_id(
            str(entry.get("manager", "")),
            str(operation),
            str(entry["apiVersion"]),
            str(entry.get("subresource", "")),
        )
        fields = FieldSet.from_json(entry.get("fieldsV1") or {})
        out.fields[identity] = Owned(fields, str(entry["apiVersion"]), operation == "Apply")
        out.times[identity] = entry.get("time")
    return out


def _entry_order(entry: dict[str, Any]) -> tuple[str, str, str, str, str]:
    return (
        entry["operation"],
        entry.get("time") or "",
        entry["manager"],
        entry["apiVersion"],
        entry.get("subresource", ""),
    )


def encode_managed(managed: Managed) -> list[dict[str, Any]] | None:
    """`metadata.managedFields` in kube-apiserver's order (Apply first, then by time)."""
    entries = []
    for identity, owned in managed.fields.items():
        who = _identity(identity)
        operation = "Apply" if owned.applied else "Update"
        time = managed.times.get(identity)
        fields = owned.fields.to_json()
        subresource = who.get("subresource", "")
        entries.append(
            _entry(who["manager"], operation, owned.api_version, time, fields, subresource)
        )
    return sorted(entries, key=_entry_order) or None


def _entry(  # noqa: PLR0917 - the fields of a managedFields entry, in its order
    manager: str,
    operation: str,
    api_version: str,
    time: str | None,
    fields: dict[str, Any],
    subresource: str,
) -> dict[str, Any]:
    """One managedFields entry, keys in kube-apiserver's order."""
    entry: dict[str, Any] = {
        "manager": manager or "unknown",
        "operation": operation,
        "apiVersion": api_version,
    }
    if time:
        entry["time"] = time
    entry["fieldsType"] = "FieldsV1"
    entry["fieldsV1"] = fields
    if subresource:
        entry["subresource"] = subresource
    return entry


class FieldManager:
    """The field manager of one kind and version, for writes to `subresource` ("" = main)."""

    def __init__(self, root: Ref, api_version: str, subresource: str, reset: FieldSet) -> None:
        self.root = root
        self.api_version = api_version
        self.subresource = subresource
        self.updater = Updater(root, reset if not reset.empty() else None)
        self._zero: dict[str, Any] | None = None
        self._created_memo: dict[bytes, bytes] = {}

    @property
    def zero(self) -> dict[str, Any]:
        """The JSON of the kind's Go zero value, which a create is compared with."""
        if self._zero is None:
            self._zero = skeleton(self.root)
        return self._zero

    def update(
        self, live: dict[str, Any] | None, new: dict[str, Any], manager: str, now: str
    ) -> None:
        """Set `new`'s managedFields after a create (`live` None) or an update of `live`."""
        meta = new.setdefault("metadata", {})
        asked = meta.pop("managedFields", None)
        live_entries = (live or {}).get("metadata", {}).get("managedFields")
        # A create that sends no managedFields (nearly all) has nothing to decode.
        managed = Managed() if live is None and not asked else None
        if managed is None:
            managed = self._decode_live_or_new(live_entries, asked)
        if not managed.fields and live is not None:
            return  # never applied: not tracked (structured-merge-diff's skip-non-applied)
        if live is None and not managed.fields:
            # A create: one Update entry, written directly (the view holds no identity or reset
            # fields; `metadata` itself is never owned).
            fields = self._created(self._owned_view(new))
            if fields:
                entry = _entry(manager, "Update", self.api_version, now, fields, self.subresource)
                meta["managedFields"] = [entry]
            return
        if self.subresource == "status" and live is not None:
            # Only status changes through /status: compare that, not the whole object.
            before, after = ({"status": o["status"]} if "status" in o else {} for o in (live, new))
            managed = self._update(before, after, managed, manager, now)
        else:
            old = self.zero if live is None else self._without_managed(live)
            managed = self._update(old, new, managed, manager, now)
        self._encode(meta, managed)

    def _created(self, view: dict[str, Any]) -> dict[str, Any]:
        """The FieldsV1 a create of `view` owns (a fresh copy the caller may keep)."""
        try:
            key = _ENCODE.encode(view)
        except TypeError:  # a value JSON cannot hold (a trusted write's): walk it every time
            key = b""
        known = self._created_memo.get(key) if key else None
        if known is None:
            fields = created_fields(view, self.zero, self.root)
            metadata = fields.get("f:metadata")
            if metadata is not None:
                metadata.pop(".", None)  # `metadata` itself is never owned
                if not metadata:
                    del fields["f:metadata"]
            known = _ENCODE.encode(fields)
            if len(self._created_memo) >= _CREATED_MEMO_SIZE:
                self._created_memo.clear()
            if key:
                self._created_memo[key] = known
        fresh: dict[str, Any] = _DECODE.decode(known)
        return fresh

    def apply(
        self,
        live: dict[str, Any] | None,
        config: dict[str, Any],
        manager: str,
        *,
        force: bool,
        now: str,
    ) -> dict[str, Any]:
        """The object after applying `config` (with its managedFields); ApplyConflict."""
        if (config.get("metadata") or {}).get("managedFields") is not None:
            raise FieldsError("metadata.managedFields must be nil")
        check_typed(config, self.root)
        base = live if live is not None else {}
        try:
            managed = decode_managed(base.get("metadata", {}).get("managedFields"))
        except FieldsError:
            managed = Managed()
        current = self._without_managed(base)
        if not managed.fields and live is not None:
            managed = self._update(self.zero, current, managed, "before-first-apply", now)
        identity = manager_id(manager, "Apply", self.api_version, self.subresource)
        try:
            new, fields = self.updater.apply(
                current, config, self.api_version, managed.fields, identity, force=force
            )
        except Conflicts as exc:
            allowed = self._last_applied(live, manager)
            if allowed is None or any(not allowed.has(p) for _, p in exc.conflicts):
                raise ApplyConflict(
                    [c for c in exc.conflicts if allowed is None or not allowed.has(c[1])]
                ) from exc
            new, fields = self.updater.apply(
                current, config, self.api_version, managed.fields, identity, force=True
            )
        managed.fields = {k: self._strip(v) for k, v in fields.items()}
        managed.fields = {k: v for k, v in managed.fields.items() if not v.fields.empty()}
        if new is not None:
            managed.times[identity] = now
        out = dict(new if new is not None else current)
        out["metadata"] = dict(out.get("metadata") or {})
        if manager == "kubectl" and LAST_APPLIED in (out["metadata"].get("annotations") or {}):
            self._record_last_applied(out, config)
        self._encode(out["metadata"], managed)
        return out

    # -- layers ------------------------------------------------------------------------------

    @staticmethod
    def _decode_live_or_new(live_entries: Any, asked: Any) -> Managed:
        def decoded(entries: Any) -> Managed:
            try:
                return decode_managed(entries)
            except FieldsError:
                return Managed()

        if asked in ([], [{}]) or (not asked and not live_entries):
            return Managed()  # none, or a client resets managedFields by sending none
        mine = decoded(asked) if asked else Managed()
        return mine if mine.fields else decoded(live_entries)

    def _update(self, old: Any, new: Any, managed: Managed, manager: str, now: str) -> Managed:
        current = "current-operation"
        fields = self.updater.update(old, new, self.api_version, dict(managed.fields), current)
        done = fields.pop(current, None)
        if done is None:
            return self._cap(Managed(fields, dict(managed.times)))
        return self._record(Managed(fields, managed.times), self._strip(done), manager, now)

    def _record(self, managed: Managed, done: Owned, manager: str, now: str) -> Managed:
        """An update's fields joined to what its manager owned before (if it changed any)."""
        identity = manager_id(manager, "Update", self.api_version, self.subresource)
        fields, times = dict(managed.fields), dict(managed.times)
        if not done.fields.empty():
            previous = fields.get(identity)
            union = done.fields.union(previous.fields) if previous else done.fields
            fields[identity] = Owned(union, self.api_version, applied=False)
            # A write through /scale is translated back to its owner's entries by
            # apimachinery's ScaleHandler.ToParent, which takes each entry's time from the
            # owner's entries: a manager new to the owner gets none, and keeps none after.
            times[identity] = times.get(identity) if self.subresource == "scale" else now
        return self._cap(Managed(fields, times))

    def _owned_view(self, obj: dict[str, Any]) -> dict[str, Any]:
        """`obj` without what no manager can own (identity fields, reset fields): less to walk."""
        view = {k: v for k, v in obj.items() if k not in _UNOWNED_TOP}
        meta = obj.get("metadata")
        if isinstance(meta, dict):
            view["metadata"] = {k: v for k, v in meta.items() if k not in _UNOWNED_META}
        if self.updater.ignored is not None:
            for element in self.updater.ignored.members:
                view.pop(element[2:], None)
        return view

    @staticmethod
    def _without_managed(obj: dict[str, Any]) -> dict[str, Any]:
        meta = obj.get("metadata")
        if not isinstance(meta, dict) or "managedFields" not in meta:
            return obj
        return {**obj, "metadata": {k: v for k, v in meta.items() if k != "managedFields"}}

    @staticmethod
    def _strip(owned: Owned) -> Owned:
        return Owned(owned.fields.difference(_STRIPPED), owned.api_version, owned.applied)

    @staticmethod
    def _cap(managed: Managed) -> Managed:
        """At most ten Update managers: the oldest merge into `ancient-changes` per version."""
        updaters = [m for m, owned in managed.fields.items() if not owned.applied]
        if len(updaters) <= _MAX_UPDATERS:
            return managed
        updaters.sort(key=lambda m: (managed.times.get(m) or "", m))
        first_of_version: dict[str, str] = {}
        length = len(updaters)
        for identity in updaters:
            if length <= _MAX_UPDATERS:
                break
            owned = managed.fields[identity]
            bucket = manager_id("ancient-changes", "Update", owned.api_version, "")
            first = first_of_version.setdefault(owned.api_version, identity)
            if first == identity:
                continue
            if bucket not in managed.fields:
                managed.fields[bucket] = managed.fields.pop(first)
            merged = owned.fields.union(managed.fields[bucket].fields)
            managed.fields[bucket] = Owned(merged, owned.api_version, applied=False)
            del managed.fields[identity]
            managed.times[bucket] = managed.times.pop(identity, None)
            length -= 1
        return managed

    def _last_applied(self, live: dict[str, Any] | None, manager: str) -> FieldSet | None:
        """Fields kubectl's last-applied annotation set that live still has: not conflicts."""
        annotations = ((live or {}).get("metadata") or {}).get("annotations") or {}
        if manager != "kubectl" or not annotations.get(LAST_APPLIED):
            return None
        try:
            last = json.loads(annotations[LAST_APPLIED])
        except ValueError:
            return None
        if not isinstance(last, dict) or last.get("apiVersion") != self.api_version:
            return None
        changed = compare(last, live, self.root)
        return (
            to_set(last, self.root)
            .difference(changed.modified)
            .difference(changed.added)
            .difference(changed.removed)
        )

    @staticmethod
    def _record_last_applied(obj: dict[str, Any], config: dict[str, Any]) -> None:
        applied = json.loads(json.dumps(config))
        annotations = (applied.get("metadata") or {}).get("annotations") or {}
        annotations.pop(LAST_APPLIED, None)
        obj["metadata"]["annotations"] = {
            **obj["metadata"]["annotations"],
            LAST_APPLIED: json.dumps(applied, separators=(",", ":")) + "\n",
        }

    @staticmethod
    def _encode(meta: dict[str, Any], managed: Managed) -> None:
        entries = encode_managed(managed)
        if entries is None:
            meta.pop("managedFields", None)
        else:
            meta["managedFields"] = entries
