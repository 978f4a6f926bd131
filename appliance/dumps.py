"""Reading offline dumps: what `kubectl get <kinds> -A -o json` (or `-o yaml`) printed.

A support engineer diagnoses an appliance from these without access to it. The cluster's time
of a dump is the newest timestamp found in it (the moment it was taken, near enough).

A dump is whatever someone hands over, so it is read defensively: regular files only (a FIFO, a
device or a directory is one line naming it), at most `max_bytes` each (512 MiB by default,
`--max-dump-size` raises it), nested no deeper than the decoder allows, UTF-8. Memory is
bounded too: the file is mapped read-only, not copied into the heap; a List's items are decoded
one at a time from that mapping, objects of kinds the engine does not read are dropped at once,
and `metadata.managedFields` and the last-applied annotation (often half of a kubectl object)
are removed. The heap then holds the kept objects only: about twice the size of a kubectl
(indented) dump at most (`tests/unit/engine/test_dumps.py` measures it).

A YAML dump (`-o yaml`, or documents separated by `---`) is read with PyYAML's safe loader: its
text is copied into the heap (YAML has no decoder that reads a mapping piece by piece), timestamps
stay text as in JSON, and an alias (`*name`, which kubectl never writes) is refused, so a small
file cannot expand into a huge one.
"""

from __future__ import annotations

import functools
import mmap
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from appliance.errors import DumpError
from appliance.files import open_regular
from appliance.snapshot import KINDS, RawObject, Snapshot, dicts, parse_time

__all__ = ["DEFAULT_MAX_DUMP_BYTES", "DumpError", "read_dumps", "snapshot_from_objects"]

DEFAULT_MAX_DUMP_BYTES = 512 * 1024 * 1024
_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


class _Document(msgspec.Struct):
    """The top of a dump: a List's items stay raw (slices of the file) until each is read."""

    kind: Any = None
    items: list[msgspec.Raw] | None = None


def read_dumps(paths: Sequence[Path], *, max_bytes: int = DEFAULT_MAX_DUMP_BYTES) -> Snapshot:
    """Merge one or more kubectl JSON dumps into a Snapshot (source "dump")."""
    if not paths:
        raise DumpError("no dump file given; pass --from-dump FILE (kubectl get ... -A -o json)")
    objects: list[RawObject] = []
    for path in paths:
        objects.extend(_read_one(Path(path), max_bytes=max_bytes))
    return snapshot_from_objects(objects, source="dump")


def _read_one(path: Path, *, max_bytes: int) -> list[RawObject]:
    with open_regular(path, what="dump", limit=max_bytes, error=_too_big(max_bytes)) as (
        handle,
        size,
    ):
        if size == 0:
            raise DumpError(f"dump {path} is empty; produce it with `kubectl get ... -A -o json`")
        failure: DumpError | None = None
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            try:
                return _decode(path, mapped)
            except DumpError as exc:
                # A fresh error: the caught one's traceback keeps raw slices of the mapping
                # alive, and a mapping with live slices cannot be closed.
                failure = DumpError(str(exc))
        raise failure


def _too_big(max_bytes: int) -> Any:
    def error(message: str) -> DumpError:
        if "more than the limit" in message:
            message += f"; pass --max-dump-size {max_bytes // (1024 * 1024) * 2}M to read it"
        return DumpError(message)

    return error


def _decode(path: Path, data: mmap.mmap) -> list[RawObject]:
    if not _looks_like_json(data):
        return _decode_yaml(path, data)
    # Errors are raised after their except blocks: a caught error's traceback would hold raw
    # slices of the mapping in a reference cycle, and the mapping could not be closed.
    wrong_shape: str | None = None
    try:
        document = _json(path, data, data, type_=_Document)
    except msgspec.ValidationError as exc:
        wrong_shape = str(exc)
    if wrong_shape is not None:
        # Valid JSON of the wrong shape: say which part, without decoding all of it.
        if " - at `$." not in wrong_shape:  # the top level itself has the wrong type
            raise DumpError(
                f"dump {path} is not a Kubernetes object or List (top level is not a map)"
            )
        raise DumpError(f"dump {path}: a List without an 'items' list ({wrong_shape})")
    kind = document.kind
    if not isinstance(kind, str):
        raise DumpError(f"dump {path} has no 'kind'; expected a v1 List as kubectl -o json writes")
    if kind == "List" or kind.endswith("List"):
        if document.items is None:
            raise DumpError(f"dump {path}: {kind} without an 'items' list")
        return _kept(kind, (_json(path, data, raw, type_=Any) for raw in document.items))
    whole = _json(path, data, data, type_=Any)
    return [whole] if _slim(whole) else []


def _kept(list_kind: str, items: Iterable[Any]) -> list[RawObject]:
    """A List's items the engine reads, each with its kind (`PodList` items are Pods)."""
    item_kind = list_kind[: -len("List")] if list_kind != "List" else None
    out: list[RawObject] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        if item_kind and "kind" not in item:
            item["kind"] = item_kind
        if _slim(item):
            out.append(item)
    return out


def _looks_like_json(data: mmap.mmap) -> bool:
    """JSON starts with `{` or `[` (after blanks); anything else is read as YAML."""
    head = data[: 64 * 1024].lstrip()
    return head[:1] in (b"{", b"[")


def _decode_yaml(path: Path, data: mmap.mmap) -> list[RawObject]:
    import yaml

    problem: str | None = None
    documents: list[Any] = []
    try:
        text = data[:].decode("utf-8")
        loader = _yaml_loader()
        for event in yaml.parse(text, Loader=loader):
            if isinstance(event, yaml.AliasEvent):
                line = event.start_mark.line + 1 if event.start_mark else "?"
                problem = f"uses a YAML alias at line {line} (kubectl never writes one)"
                break
        else:
            documents = [d for d in yaml.load_all(text, Loader=loader) if d is not None]
    except UnicodeDecodeError as exc:
        problem = f"is not UTF-8 text ({exc.reason})"
    except RecursionError:
        problem = "is nested too deeply to be a Kubernetes object"
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = f"is neither JSON nor YAML ({getattr(exc, 'problem', None) or exc}{where})"
    if problem is None and not documents:
        problem = "has no document"
    if problem is not None:
        raise DumpError(
            f"dump {path} {problem}; produce it with `kubectl get <kinds> -A -o json` (or -o yaml)"
        )
    out: list[RawObject] = []
    for document in documents:
        out.extend(_yaml_objects(path, document))
    return out


def _yaml_objects(path: Path, document: Any) -> list[RawObject]:
    if not isinstance(document, dict):
        raise DumpError(f"dump {path} is not a Kubernetes object or List (top level is not a map)")
    kind = document.get("kind")
    if not isinstance(kind, str):
        raise DumpError(f"dump {path} has no 'kind'; expected a v1 List as kubectl -o yaml writes")
    if kind == "List" or kind.endswith("List"):
        items = document.get("items")
        if not isinstance(items, list):
            raise DumpError(f"dump {path}: {kind} without an 'items' list")
        return _kept(kind, items)
    return [document] if _slim(document) else []


TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


@functools.cache
def _yaml_loader() -> Any:
    """PyYAML's safe loader (the C one when built) that keeps timestamps as text.

    A JSON dump has RFC 3339 strings; so must a YAML one, or an unquoted time would become a
    datetime the engine does not expect.
    """
    import yaml

    base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class _TextTimes(base):  # type: ignore[misc]
        yaml_implicit_resolvers = {
            first: [(tag, regexp) for tag, regexp in resolvers if tag != TIMESTAMP_TAG]
            for first, resolvers in base.yaml_implicit_resolvers.items()
        }

    return _TextTimes


def _slim(obj: RawObject) -> bool:
    """Drop what the engine never reads; False when the whole object is of no use."""
    kind = obj.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        return False
    meta = obj.get("metadata")
    if isinstance(meta, dict):
        meta.pop("managedFields", None)
        annotations = meta.get("annotations")
        if isinstance(annotations, dict):
            annotations.pop(_LAST_APPLIED, None)
    return True


def _json(path: Path, whole: mmap.mmap, part: Any, *, type_: Any) -> Any:
    """`part` decoded; a DumpError naming the file and the reason (msgspec.ValidationError, a
    wrong shape, is left to the caller). Raised outside the except blocks, see `_decode`."""
    problem: str | None = None
    try:
        return msgspec.json.decode(part, type=type_)
    except msgspec.ValidationError:
        raise
    except RecursionError:
        problem = (
            "is nested too deeply to be a Kubernetes object (the decoder's limit is about "
            "1000 levels)"
        )
    except UnicodeDecodeError as exc:
        problem = f"is not UTF-8 text ({exc.reason})"
    except msgspec.DecodeError as exc:
        problem = f"is not JSON ({_with_line(str(exc), whole)})"
    raise DumpError(f"dump {path} {problem}; produce it with `kubectl get <kinds> -A -o json`")


def _with_line(reason: str, data: mmap.mmap) -> str:
    """msgspec says `(byte N)`; an admin wants the line."""
    marker = "(byte "
    if marker not in reason:
        return reason
    head, _, tail = reason.partition(marker)
    offset_text = tail.split(")", 1)[0]
    if not offset_text.isdigit():
        return reason
    offset = min(int(offset_text), len(data))
    line = 1
    for start in range(0, offset, 1 << 20):
        line += data[start : min(offset, start + (1 << 20))].count(b"\n")
    return f"{head.strip()} at line {line}"


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
