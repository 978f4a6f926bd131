"""Field paths and predicates over plain Kubernetes objects (kwok-style stage matching).

Paths are dotted (`spec.enableServiceLinks`), with `[*]` for every list item, `[0]` for one, and
`[type=Ready]` to pick list items by a field: `status.conditions[type=Ready].status`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["check_path", "check_predicate", "matches_labels", "resolve"]

_TOKEN = re.compile(r"([^.\[\]]+)|\[([^\]]*)\]")
# A whole path: a key, then `.key` or `[...]` steps; brackets hold `*`, an index or `field=value`.
_PATH = re.compile(r"[^.\[\]]+(?:\.[^.\[\]]+|\[(?:\*|-?\d+|[^\[\]=]+=[^\[\]]*)\])*")


def check_path(path: str) -> str:
    """`path` if it is a field path `resolve` reads fully, else a ValueError saying how to write it.

    `resolve` skips what it cannot read, so `spec.[[[` would silently match nothing.
    """
    if not _PATH.fullmatch(path):
        raise ValueError(
            f"{path!r} is not a field path: write keys with dots and list steps in brackets, "
            "e.g. status.conditions[type=Ready].status or spec.containers[*].image"
        )
    return path


def resolve(obj: object, path: str) -> list[Any]:
    """Every value found at `path` in `obj` (empty when the path leads nowhere)."""
    values: list[Any] = [obj]
    for match in _TOKEN.finditer(path):
        key, index = match.group(1), match.group(2)
        values = list(_step(values, key, index))
    return values


def _step(values: Iterable[Any], key: str | None, index: str | None) -> Iterable[Any]:
    for value in values:
        if key is not None:
            if isinstance(value, Mapping) and key in value:
                yield value[key]
        elif index == "*":
            if isinstance(value, list):
                yield from value
        elif index is not None and index.lstrip("-").isdigit():
            if isinstance(value, list) and -len(value) <= int(index) < len(value):
                yield value[int(index)]
        elif index is not None and "=" in index:
            field, wanted = index.split("=", 1)
            if isinstance(value, list):
                yield from (
                    item
                    for item in value
                    if isinstance(item, Mapping) and str(item.get(field)) == wanted
                )


def _text(value: object) -> str:
    if isinstance(value, list):
        return " ".join(_text(item) for item in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def check_predicate(obj: object, *, path: str, op: str, value: object = None) -> bool:  # noqa: PLR0911
    """Whether `obj` satisfies `op` at `path` (see `simulator.world.scenario.FieldPredicate`)."""
    found = resolve(obj, path)
    if op == "exists":
        return bool(found)
    if op == "notExists":
        return not found
    wanted = _text(value) if not isinstance(value, list) else None
    if op == "equals":
        return any(_text(item) == wanted for item in found)
    if op == "notEquals":
        return all(_text(item) != wanted for item in found)
    if op == "contains":
        return any(str(wanted) in _text(item) for item in found)
    if op == "notContains":
        return all(str(wanted) not in _text(item) for item in found)
    options = {_text(item) for item in value} if isinstance(value, list) else {wanted}
    if op == "in":
        return any(_text(item) in options for item in found)
    if op == "notIn":
        return all(_text(item) not in options for item in found)
    raise ValueError(f"unknown predicate op {op!r}")


def matches_labels(obj: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """Whether the object's metadata.labels include every pair of `labels`."""
    have = (obj.get("metadata") or {}).get("labels") or {}
    return all(have.get(key) == value for key, value in labels.items())
