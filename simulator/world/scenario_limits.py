"""What a scenario may ask of the simulator, so that a bad or hostile file fails fast and small.

A scenario is written by hand (or recorded) and run on a laptop: a typo such as `replicas:
1000000000` or `at: 1000000000h` must be one line naming the file, the line, the field and the
reason, not a world that hangs making pods or a traceback. The limits, documented in
docs/scenarios.md:

- the file: a regular file (never a FIFO or a device), at most MAX_SCENARIO_BYTES, UTF-8 text;
- the YAML: nesting and alias expansion (`simulator.world.yaml_locations.MAX_DEPTH/MAX_VALUES`);
- durations (`at`, `delay`, `duration`, `every`, `for`): finite, at most MAX_DURATION_SECONDS;
- objects at time zero: at most MAX_OBJECTS; actions: at most MAX_ACTIONS;
- workload sizes (`spec.replicas` of Deployments, ReplicaSets and StatefulSets, a Job's
  `parallelism` and `completions`), in objects, applied objects and patches: integers from 0 to
  MAX_REPLICAS (a single node runs a few dozen pods).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from simulator.errors import SimulatorError
from simulator.world.durations import MAX_DURATION_SECONDS

__all__ = [
    "MAX_ACTIONS",
    "MAX_DURATION_SECONDS",
    "MAX_OBJECTS",
    "MAX_REPLICAS",
    "MAX_SCENARIO_BYTES",
    "ScenarioFileError",
    "read_scenario_text",
    "workload_problems",
]

MAX_SCENARIO_BYTES = 16 * 1024 * 1024
MAX_OBJECTS = 10_000
MAX_ACTIONS = 100_000
MAX_REPLICAS = 100

Loc = tuple[str | int, ...]
_SIZED = {
    "Deployment": ("replicas",),
    "ReplicaSet": ("replicas",),
    "StatefulSet": ("replicas",),
    "Job": ("parallelism", "completions"),
}


class ScenarioFileError(SimulatorError):
    """The file cannot be read as scenario text; `line` is where (1 when not about content)."""

    def __init__(self, reason: str, line: int = 1) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


def read_scenario_text(path: Path, *, limit: int = MAX_SCENARIO_BYTES) -> str:
    """The text of scenario file `path`: a regular file of at most `limit` bytes, UTF-8.

    Opened without blocking, so a FIFO with no writer is refused at once instead of hanging.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise ScenarioFileError(f"cannot read scenario ({exc.strerror or exc})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ScenarioFileError("not a regular file (a directory, FIFO or device)")
        if info.st_size > limit:
            raise ScenarioFileError(f"{info.st_size} bytes, more than the limit of {limit}")
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise ScenarioFileError(f"grew past the limit of {limit} bytes while being read")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ScenarioFileError(f"not UTF-8 text (byte {exc.start})", line) from None


def workload_problems(data: dict[str, Any]) -> Iterator[tuple[Loc, str]]:
    """Workload sizes out of bounds in objects, applied objects and patches of a scenario."""
    for index, obj in enumerate(_list(data.get("objects"))):
        yield from _sized(obj, ("objects", index), kind=None)
    for index, action in enumerate(_list(data.get("events"))):
        if not isinstance(action, dict):
            continue
        yield from _sized(action.get("object"), ("events", index, "object"), kind=None)
        target = action.get("target")
        kind = target.get("kind") if isinstance(target, dict) else None
        yield from _sized(action.get("patch"), ("events", index, "patch"), kind=kind)
    for index, stage in enumerate(_list(data.get("stages"))):
        if not isinstance(stage, dict):
            continue
        match = stage.get("match")
        kind = match.get("kind") if isinstance(match, dict) else None
        then = stage.get("then")
        if isinstance(then, dict):
            yield from _sized(then.get("patch"), ("stages", index, "then", "patch"), kind=kind)


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _sized(obj: object, loc: Loc, *, kind: object) -> Iterator[tuple[Loc, str]]:
    if not isinstance(obj, dict):
        return
    kind = obj.get("kind", kind)
    spec = obj.get("spec")
    if not isinstance(kind, str) or kind not in _SIZED or not isinstance(spec, dict):
        return
    for field in _SIZED[kind]:
        if field not in spec:
            continue
        value = spec[field]
        if isinstance(value, bool) or not isinstance(value, int):
            yield (*loc, "spec", field), f"must be a whole number, got {value!r}"
        elif not 0 <= value <= MAX_REPLICAS:
            yield (
                (*loc, "spec", field),
                f"must be between 0 and {MAX_REPLICAS} on a single-node appliance, got {value}",
            )
