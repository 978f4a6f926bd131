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

from appliance.errors import DumpError
from appliance.snapshot import KINDS, RawObject, Snapshot, dicts, parse_time

__all__ = ["DumpError", "read_dumps", "snapshot_from_objects"]


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
    was taken (docs/architecture.md, "Time is the cluster's").
    """
    buckets: dict[str, list[RawObject]] = {name: [] for name in KINDS.values()}
    newest = ""  # RFC 3339 UTC texts (`...Z`) order like the times they name: compare as text
    other: list[object] = []
    collect = server_time is None
    for obj in objects:
        kind = obj.get("kind")
        name = KINDS.get(kind) if isinstance(kind, str) else None
        if name is None:
            continue
        buckets[name].append(obj)
        if not collect:
            continue
        # An Event's last sighting is its newest time; other objects, their conditions.
        stamps = _event_stamps(obj) if kind == "Event" else _object_stamps(obj)
        for value in stamps:
            if isinstance(value, str) and value:
                if value[-1] == "Z":
                    newest = max(newest, value)
                else:
                    other.append(value)
    when = server_time or _newest_time(newest, other) or datetime.fromtimestamp(0, tz=UTC)
    fields: dict[str, Any] = {name: tuple(items) for name, items in buckets.items()}
    return Snapshot(server_time=when, source="live" if source == "live" else "dump", **fields)


def _event_stamps(event: RawObject) -> tuple[object, ...]:
    series = event.get("series")
    last = series.get("lastObservedTime") if isinstance(series, dict) else None
    return (event.get("lastTimestamp"), event.get("eventTime"), last)


def _object_stamps(obj: RawObject) -> list[object]:
    stamps: list[object] = []
    meta = obj.get("metadata")
    if isinstance(meta, dict):
        stamps.append(meta.get("creationTimestamp"))
    status = obj.get("status")
    if isinstance(status, dict):
        for cond in dicts(status.get("conditions")):
            stamps.append(cond.get("lastTransitionTime"))
            stamps.append(cond.get("lastHeartbeatTime"))
        stamps.append(status.get("startTime"))
        stamps.append(status.get("completionTime"))
    return stamps


def _newest_time(utc_text: str, others: list[object]) -> datetime | None:
    candidates = [parse_time(utc_text)] if utc_text else []
    candidates.extend(parse_time(value) for value in others)
    times = [t for t in candidates if t is not None]
    return max(times) if times else None
