"""Sets of field paths, as structured-merge-diff keeps them and `FieldsV1` writes them.

A path is a tuple of path elements, each the string `FieldsV1` uses for it: `f:<name>` (a field),
`k:{"name":"web"}` (an item of a list keyed by its fields), `v:"x"` (an item of a set) or `i:3`
(an index). A set holds *members* (paths owned themselves) and *children* (sets under a path
element); `{".": {}}` in FieldsV1 marks a path that is a member and has children too.
Element order is structured-merge-diff's: fields, then keys, values and indexes, each by value.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator
from typing import Any

from simulator.errors import SimulatorError

__all__ = [
    "FieldSet",
    "FieldsError",
    "Path",
    "element_order",
    "go_json",
    "go_map",
    "go_quoted",
    "go_type",
    "key_element",
    "path_string",
    "value_element",
]

Path = tuple[str, ...]


class FieldsError(SimulatorError, ValueError):
    """A FieldsV1 document, or an object, that cannot be read as a set of fields."""


# One encoder for every call: `json.dumps` with these options builds a new one each time, which
# cost more than the encoding (each list item's key in a managedFields update is encoded).
_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def go_json(value: Any) -> str:
    """JSON as Go's encoding/json writes it (compact; <, > and & escaped)."""
    text = _COMPACT.encode(value)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def go_map(value: Any) -> str:
    """Go's `%v` of a decoded JSON value: `map[a:1 b:[x y]]`, keys sorted, strings bare."""
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_map(v)}" for k, v in sorted(value.items())) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_map(item) for item in value) + "]"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):  # a float64 to Go, which prints a whole one bare
        number = float(value)
        return str(int(number)) if number.is_integer() and abs(number) < 1e21 else repr(number)
    return str(value)


def go_type(value: Any) -> str:
    """Go's `%T` of a decoded JSON value (an interface {} from encoding/json)."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    return "[]interface {}" if isinstance(value, list) else "map[string]interface {}"


def go_quoted(words: Iterable[str]) -> str:
    """Go's %q of a []string: `["a" "b"]`."""
    return "[" + " ".join(json.dumps(word) for word in words) + "]"


def key_element(fields: dict[str, Any]) -> str:
    """`k:{...}`: an associative list item named by its key fields (sorted by name)."""
    return "k:" + go_json({name: fields[name] for name in sorted(fields)})


def value_element(value: Any) -> str:
    """`v:<json>`: an item of a set-like list."""
    return "v:" + go_json(value)


def _value_order(value: Any) -> tuple[Any, ...]:
    # structured-merge-diff's total order: numbers, strings, booleans, lists, maps, null.
    if isinstance(value, bool):
        return (2, value)
    if isinstance(value, int | float):
        return (0, value)
    if isinstance(value, str):
        return (1, value)
    if isinstance(value, list):
        return (3, tuple(_value_order(v) for v in value))
    if isinstance(value, dict):
        return (4, tuple((k, _value_order(value[k])) for k in sorted(value)))
    return (5,)


@functools.lru_cache(maxsize=8192)
def element_order(element: str) -> tuple[Any, ...]:
    """Sort key of a path element."""
    kind, body = element[0], element[2:]
    if kind == "f":
        return (0, body)
    if kind == "k":
        fields = json.loads(body)
        return (1, tuple((k, _value_order(fields[k])) for k in sorted(fields)))
    if kind == "v":
        return (2, _value_order(json.loads(body)))
    return (3, int(body))


def _go_string(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)


def path_string(path: Path) -> str:
    """`.spec.containers[name="web"].image`: how conflicts name a path."""
    out = []
    for element in path:
        kind, body = element[0], element[2:]
        if kind == "f":
            out.append("." + body)
        elif kind == "k":
            fields = json.loads(body)
            out.append("[" + ",".join(f"{k}={_go_string(fields[k])}" for k in fields) + "]")
        elif kind == "v":
            out.append(f"[={_go_string(json.loads(body))}]")
        else:
            out.append(f"[{body}]")
    return "".join(out)


class FieldSet:
    """A set of field paths (members) with nested sets (children); operations return new sets."""

    __slots__ = ("children", "members")

    def __init__(self) -> None:
        self.members: set[str] = set()
        self.children: dict[str, FieldSet] = {}

    def empty(self) -> bool:
        return not self.members and not self.children

    def child(self, element: str) -> FieldSet:
        """The set under `element`, created when absent (the caller prunes it if left empty)."""
        found = self.children.get(element)
        if found is None:
            found = self.children[element] = FieldSet()
        return found

    def prune(self, element: str) -> None:
        """Drop the child at `element` if nothing is in it."""
        found = self.children.get(element)
        if found is not None and found.empty():
            del self.children[element]

    def insert(self, path: Path) -> None:
        if not path:
            return  # the whole object: never owned
        node = self
        for element in path[:-1]:
            node = node.child(element)
        node.members.add(path[-1])

    def has(self, path: Path) -> bool:
        """Whether `path` is a member."""
        node: FieldSet | None = self
        for element in path[:-1]:
            node = node.children.get(element) if node is not None else None
        return node is not None and bool(path) and path[-1] in node.members

    def with_prefix(self, element: str) -> FieldSet:
        return self.children.get(element) or FieldSet()

    def copy(self) -> FieldSet:
        out = FieldSet()
        out.members = set(self.members)
        out.children = {e: c.copy() for e, c in self.children.items()}
        return out

    def union(self, other: FieldSet) -> FieldSet:
        out = FieldSet()
        out.members = self.members | other.members
        for element in self.children.keys() | other.children.keys():
            mine, theirs = self.children.get(element), other.children.get(element)
            if mine is None or theirs is None:
                out.children[element] = (mine or theirs or FieldSet()).copy()
            else:
                out.children[element] = mine.union(theirs)
        return out

    def difference(self, other: FieldSet) -> FieldSet:
        """Paths in self and not in other (children compared level by level)."""
        out = FieldSet()
        out.members = self.members - other.members
        for element, mine in self.children.items():
            theirs = other.children.get(element)
            rest = mine.copy() if theirs is None else mine.difference(theirs)
            if not rest.empty():
                out.children[element] = rest
        return out

    def intersection(self, other: FieldSet) -> FieldSet:
        out = FieldSet()
        out.members = self.members & other.members
        for element, mine in self.children.items():
            theirs = other.children.get(element)
            if theirs is not None:
                both = mine.intersection(theirs)
                if not both.empty():
                    out.children[element] = both
        return out

    def recursive_difference(self, other: FieldSet) -> FieldSet:
        """Paths in self that are neither in other nor under one of other's members."""
        out = FieldSet()
        out.members = self.members - other.members
        for element, mine in self.children.items():
            if element in other.members:
                continue
            theirs = other.children.get(element)
            rest = mine.copy() if theirs is None else mine.recursive_difference(theirs)
            if not rest.empty():
                out.children[element] = rest
        return out

    def paths(self, prefix: Path = ()) -> Iterator[Path]:
        """Every member path: this level's members first, then each child's, in element order."""
        for element in sorted(self.members, key=element_order):
            yield (*prefix, element)
        for element in sorted(self.children, key=element_order):
            yield from self.children[element].paths((*prefix, element))

    def to_json(self) -> dict[str, Any]:
        """The FieldsV1 document."""
        out: dict[str, Any] = {}
        for element in sorted(self.members | self.children.keys(), key=element_order):
            child = self.children.get(element)
            if child is None:
                out[element] = {}
            elif element in self.members:
                out[element] = {".": {}, **child.to_json()}
            else:
                out[element] = child.to_json()
        return out

    @classmethod
    def from_json(cls, doc: Any) -> FieldSet:
        """Read a FieldsV1 document; FieldsError when it is not one."""
        if not isinstance(doc, dict):
            raise FieldsError("FieldsV1 must be an object")
        out = cls()
        for written, value in doc.items():
            if written == ".":
                continue
            if len(written) < 2 or written[1] != ":" or written[0] not in "fkvi":
                raise FieldsError(f"unknown path element {written!r}")
            element = _canonical(written)
            if not isinstance(value, dict):
                raise FieldsError(f"{element}: expected an object")
            if not value or "." in value:
                out.members.add(element)
            if any(k != "." for k in value):
                out.children[element] = cls.from_json(value)
        return out


def _canonical(element: str) -> str:
    """The element as this module writes it (a client may order or space keys differently)."""
    kind, body = element[0], element[2:]
    try:
        if kind == "k":
            fields = json.loads(body)
            if not isinstance(fields, dict):
                raise FieldsError(f"{element}: a key must be an object")
            return key_element(fields)
        if kind == "v":
            return value_element(json.loads(body))
        if kind == "i":
            return f"i:{int(body)}"
    except ValueError as exc:
        raise FieldsError(f"{element}: {exc}") from exc
    return element
