"""Reading offline dumps: the output of `kubectl get <kinds> -A -o json`, one file or several.

A support engineer diagnoses an appliance from these without access to it. The cluster's time
of a dump is the newest timestamp found in it (the moment it was taken, near enough).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from appliance.snapshot import KINDS, RawObject, Snapshot, dicts, parse_time

__all__ = ["DumpError", "read_dumps", "snapshot_from_objects"]


class DumpError(ValueError):
    """A dump file cannot be used; the message names the file and the reason."""


def read_dumps(paths: Sequence[Path]) -> Snapshot:
    """Merge one or more kubectl JSON dumps into a Snapshot (source "dump")."""
    if not paths:
        raise DumpError("no dump file given; pass --from-dump FILE (kubectl get ... -A -o json)")
    objects: list[RawObject] = []
    for path in paths:
        objects.extend(_read_one(Path(path)))
    return snapshot_from_objects(objects, source="dump")


def _read_one(path: Path) -> list[RawObject]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise DumpError(f"dump {path} does not exist") from exc
    except IsADirectoryError as exc:
        raise DumpError(f"dump {path} is a directory, not a kubectl JSON file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise DumpError(f"dump {path} cannot be read: {exc}") from exc
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DumpError(
            f"dump {path} is not JSON ({exc.msg} at line {exc.lineno}); produce it with "
            "`kubectl get <kinds> -A -o json`"
        ) from exc
    if not isinstance(document, dict):
        raise DumpError(f"dump {path} is not a Kubernetes object or List (top level is not a map)")
    kind = document.get("kind")
    if not isinstance(kind, str):
        raise DumpError(f"dump {path} has no 'kind'; expected a v1 List as kubectl -o json writes")
    if kind == "List" or kind.endswith("List"):
        items = document.get("items")
        if not isinstance(items, list):
            raise DumpError(f"dump {path}: {kind} without an 'items' list")
        item_kind = kind[: -len("List")] if kind != "List" else None
        out: list[RawObject] = []
        for item in items:
            if not isinstance(item, dict):
                continue
            if item_kind and "kind" not in item:
                item["kind"] = item_kind
            out.append(item)
        return out
    return [document]


def snapshot_from_objects(
    objects: Iterable[RawObject],
    *,
    source: str = "dump",
    server_time: datetime | None = None,
) -> Snapshot:
    """Sort raw objects of mixed kinds into a Snapshot; unknown kinds are ignored.

    Without `server_time`, the newest timestamp in the objects stands for the moment the dump
    was taken (DESIGN.md: time is the cluster's).
    """
    buckets: dict[str, list[RawObject]] = {name: [] for name in KINDS.values()}
    newest = _Newest()
    for obj in objects:
        name = KINDS.get(str(obj.get("kind")))
        if name is None:
            continue
        buckets[name].append(obj)
        if server_time is None:
            _collect_stamps(obj, newest)
    when = server_time or newest.value() or datetime.fromtimestamp(0, tz=UTC)
    fields: dict[str, Any] = {name: tuple(items) for name, items in buckets.items()}
    return Snapshot(server_time=when, source="live" if source == "live" else "dump", **fields)


class _Newest:
    """The newest of many RFC 3339 texts; UTC `...Z` texts compare as strings (fast path)."""

    def __init__(self) -> None:
        self.utc_text = ""
        self.other: datetime | None = None

    def add(self, value: object) -> None:
        if not isinstance(value, str) or not value:
            return
        if value.endswith("Z") and len(value) >= 20 and value[10] == "T":
            # Compare whole seconds; fractional parts only matter within the same second.
            self.utc_text = max(self.utc_text, value)
            return
        stamp = parse_time(value)
        if stamp is not None and (self.other is None or stamp > self.other):
            self.other = stamp

    def value(self) -> datetime | None:
        utc = parse_time(self.utc_text) if self.utc_text else None
        candidates = [t for t in (utc, self.other) if t is not None]
        return max(candidates) if candidates else None


def _collect_stamps(obj: RawObject, newest: _Newest) -> None:
    meta = obj.get("metadata")
    if isinstance(meta, dict):
        newest.add(meta.get("creationTimestamp"))
    for key in ("lastTimestamp", "eventTime", "firstTimestamp"):
        newest.add(obj.get(key))
    series = obj.get("series")
    if isinstance(series, dict):
        newest.add(series.get("lastObservedTime"))
    status = obj.get("status")
    if isinstance(status, dict):
        for cond in dicts(status.get("conditions")):
            newest.add(cond.get("lastTransitionTime"))
            newest.add(cond.get("lastHeartbeatTime"))
        for key in ("startTime", "completionTime"):
            newest.add(status.get(key))
