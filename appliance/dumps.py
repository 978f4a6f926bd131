"""Reading offline dumps: what `kubectl get <kinds> -A -o json` (or `-o yaml`) printed.

A support engineer diagnoses an appliance from these without access to it. The cluster's time
of a dump is the newest timestamp found in it (the moment it was taken, near enough).

A dump is whatever someone hands over, so it is read defensively: regular files only (a FIFO, a
device or a directory is one line naming it), at most `max_bytes` each (512 MiB by default,
`--max-dump-size` raises it), nested no deeper than the decoder allows, UTF-8. Memory is
bounded too: the file is mapped read-only, not copied into the heap, and a List is decoded in one
pass of msgspec that builds only the fields the engine reads (`_Read`: every kind's metadata
names, labels, owners and times, spec and status, an Event's own fields); managedFields, the
last-applied annotation (often half of a kubectl object), an Event's source and the like are
skipped unread, and objects of kinds the engine does not read are dropped. The heap then holds
the kept objects only: less than twice the size of a kubectl (indented) dump
(`tests/unit/engine/test_dumps.py` and `bench/status_engine.py` measure it). A List with an odd
field somewhere (an `involvedObject` that is no map) is read item by item instead, each decoded
whole from the mapping, the kinds the engine does not read dropped at once and managedFields and
the annotation removed: the same objects, at the old cost.

A YAML dump (`-o yaml`, or documents separated by `---`) is read with PyYAML's safe loader: its
text is copied into the heap (YAML has no decoder that reads a mapping piece by piece), timestamps
stay text as in JSON, and an alias (`*name`, which kubectl never writes) is refused, so a small
file cannot expand into a huge one.
"""

from __future__ import annotations

import functools
import mmap
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from itertools import compress, groupby, repeat
from pathlib import Path
from typing import Any, TypedDict

import msgspec

from appliance.errors import DumpError
from appliance.files import open_regular
from appliance.snapshot import KINDS, RawObject, Snapshot, dicts, parse_time

__all__ = ["DEFAULT_MAX_DUMP_BYTES", "DumpError", "read_dumps", "snapshot_from_objects"]

DEFAULT_MAX_DUMP_BYTES = 512 * 1024 * 1024
_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_get: Any = dict.get  # unbound, so that `map` calls it in C


class _Document(msgspec.Struct):
    """The top of a dump: a List's items stay raw (slices of the file) until each is read."""

    kind: Any = None
    items: list[msgspec.Raw] | None = None


class _Involved(TypedDict, total=False):
    """What the engine reads of the object an Event is about."""

    kind: Any
    namespace: Any
    name: Any


class _Metadata(TypedDict, total=False):
    """What the engine reads of an object's metadata (never managedFields or annotations)."""

    name: Any
    namespace: Any
    labels: Any
    ownerReferences: Any
    creationTimestamp: Any
    deletionTimestamp: Any
    generation: Any


class _Read(TypedDict, total=False):
    """The fields of an object the engine reads: every kind's first five, and an Event's own.

    The decoder skips every other field unread (managedFields, the last-applied annotation, an
    Event's source and reporting fields, a ConfigMap's data): less to build, less to keep.
    """

    apiVersion: Any
    kind: Any
    metadata: _Metadata
    spec: Any
    status: Any
    type: Any
    reason: Any
    message: Any
    count: Any
    firstTimestamp: Any
    lastTimestamp: Any
    eventTime: Any
    deprecatedLastTimestamp: Any
    series: Any
    involvedObject: _Involved
    regarding: _Involved


class _ReadList(msgspec.Struct):
    """A whole List in one pass of the decoder, each item as `_Read` (a plain dict)."""

    kind: Any = None
    items: list[_Read] | None = None


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
            except (msgspec.MsgspecError, ValueError, RecursionError) as exc:
                # What a decoder met deeper than the shape checks look (a number of 5,000
                # digits, 1e999: "Number out of range - at `$[...]`").
                failure = DumpError(f"dump {path} cannot be read: {str(exc) or type(exc).__name__}")
        raise failure


def _too_big(max_bytes: int) -> Any:
    def error(message: str) -> DumpError:
        found = re.search(r" is (\d+) bytes, more than the limit", message)
        if found is not None:
            # The size that reads it: the file's, in whole MiB, rounded up.
            needed = -(-int(found.group(1)) // (1024 * 1024))
            message += f"; pass --max-dump-size {needed}M to read it"
        return DumpError(message)

    return error


def _decode(path: Path, data: mmap.mmap) -> list[RawObject]:
    if not _looks_like_json(data):
        return _decode_yaml(path, data)
    listed = _read_list(path, data)
    if listed is not None:
        return listed
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


def _read_list(path: Path, data: mmap.mmap) -> list[RawObject] | None:
    """A well-formed List read in one pass, only the fields the engine reads decoded; None for
    anything else (one object, or a List with an odd field somewhere): the reading item by item
    then says what is wrong, or reads what is odd the way it always did."""
    odd = False
    try:
        document = _json(path, data, data, type_=_ReadList)
    except msgspec.ValidationError:
        odd = True
    if odd:
        return None
    kind, items = document.kind, document.items
    if items is None or not isinstance(kind, str) or not kind.endswith("List"):
        return None
    if kind != "List":  # a `PodList`'s items are Pods, and may not say so
        for item in items:
            item.setdefault("kind", kind[: -len("List")])
    try:  # in C: each item's kind, looked up among the kinds the engine reads
        known = map(KINDS.__contains__, map(_get, items, repeat("kind", len(items))))
        return list(compress(items, known))
    except TypeError:  # a kind that is a list or a map
        return _kept(kind, items)


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
    except (ValueError, KeyError, TypeError, OverflowError) as exc:
        # An explicit tag on a value it cannot be (`!!int x`, `!!bool maybe`): kubectl writes none.
        problem = f"is not YAML that kubectl writes (a tagged value cannot be read: {exc})"
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
    items = list(objects)
    start = 0
    # A List holds runs of one kind (kubectl lists kind by kind): sorted run by run, in C.
    for kind, run in groupby(map(_get, items, repeat("kind", len(items)))):
        end = start + len(list(run))
        name = KINDS.get(kind) if isinstance(kind, str) else None
        if name is not None:
            buckets[name].extend(items[start:end])
        start = end
    when = server_time or _newest_time(buckets) or datetime.fromtimestamp(0, tz=UTC)
    fields: dict[str, Any] = {name: tuple(items) for name, items in buckets.items()}
    return Snapshot(server_time=when, source="live" if source == "live" else "dump", **fields)


def _newest_time(buckets: dict[str, list[RawObject]]) -> datetime | None:
    """The newest time in the objects: an Event's last sighting, other objects' conditions."""
    stamps: set[object] = set()
    events = buckets["events"]
    try:  # in C, as a set: 20,000 Events hold a few thousand distinct times
        stamps.update(map(_get, events, repeat("lastTimestamp", len(events))))
        stamps.update(map(_get, events, repeat("eventTime", len(events))))
        with_series = list(compress(events, map(dict.__contains__, events, repeat("series"))))
        odd = False
    except TypeError:  # an odd time (a list or a map), or an Event that is no map
        odd = True
    values: list[object] = list(stamps)
    if odd:
        values = [value for event in events for value in _event_stamps(event)]
    else:
        values.extend(value for event in with_series for value in _event_stamps(event))
    for name, objects in buckets.items():
        if name != "events":
            values.extend(value for obj in objects for value in _object_stamps(obj))
    newest = ""  # RFC 3339 UTC texts (`...Z`) order like the times they name: compare as text
    others: list[datetime | None] = []
    for value in values:
        if isinstance(value, str) and value:
            if value[-1] == "Z":
                newest = max(newest, value)
            else:
                others.append(parse_time(value))
    times = [t for t in (parse_time(newest) if newest else None, *others) if t is not None]
    return max(times) if times else None


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
