"""Walks over typed values: the set of fields a value sets, merging, comparing and removing.

Ports of structured-merge-diff's typed walkers (`tofieldset.go`, `merge.go`, `compare.go`,
`remove.go`), over plain JSON values. Atomic lists and maps, and empty ones, are leaves: owned,
compared and replaced whole; associative lists recurse by item (keyed or set); struct fields
are named, so a struct is not owned just because one of its fields is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simulator.api.fields.fieldsets import (
    FieldsError,
    FieldSet,
    Path,
    element_order,
    go_quoted,
    key_element,
    value_element,
)
from simulator.api.fields.schema import DEDUCED, Atom, ListType, MapType, Ref, resolve

__all__ = [
    "MISSING",
    "Comparison",
    "compare",
    "created_fields",
    "ensure_named_fields",
    "merge",
    "remove_items",
    "same",
    "to_set",
]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()  # an absent value (None is JSON null, which is present)
_CONTAINERS = (dict, list)


def _part(atom: Atom, value: Any) -> tuple[str, Any]:
    """The part of a type a value is walked as (structured-merge-diff's deduceAtom)."""
    if isinstance(value, dict) and atom.map is not None:
        return "map", atom.map
    if isinstance(value, list) and atom.list is not None:
        return "list", atom.list
    if atom.scalar and not isinstance(value, _CONTAINERS):
        return "scalar", None
    if atom.map is not None and (value is None or value is MISSING):
        return "map", atom.map
    if atom.list is not None and (value is None or value is MISSING):
        return "list", atom.list
    return "scalar", None  # a value of another shape than its type: a leaf


def _member(kind: MapType, key: str) -> Ref:
    return kind.fields.get(key) or kind.elem or DEDUCED


def item_element(kind: ListType, item: Any) -> str:
    """The path element of an associative list item; FieldsError when it has none."""
    if kind.keys:
        if not isinstance(item, dict):
            raise FieldsError("associative list with keys may not have non-map elements")
        defaults = getattr(resolve(kind.elem).map, "defaults", {})
        fields = {
            k: item[k] if k in item else defaults[k]
            for k in kind.keys
            if k in item or k in defaults
        }
        if not fields:
            raise FieldsError(
                "associative list with keys has an element that omits all key fields "
                f"{go_quoted(kind.keys)} (and doesn't have default values for any key fields)"
            )
        return key_element(fields)
    if isinstance(item, _CONTAINERS) or item is None:
        raise FieldsError("associative list without keys has an element that's not a scalar")
    return value_element(item)


def _item_elements(kind: ListType, items: list[Any]) -> list[str]:
    """Each item's path element ("" for an item that has none: it is not walked)."""
    out = []
    for item in items:
        try:
            out.append(item_element(kind, item))
        except FieldsError:
            out.append("")
    return out


def same(a: Any, b: Any) -> bool:
    """JSON equality that tells true from 1 (as Go's values do) but 1 from 1.0 not."""
    if type(a) is not type(b):
        numbers = int | float
        return (
            isinstance(a, numbers)
            and isinstance(b, numbers)
            and not isinstance(a, bool)
            and not isinstance(b, bool)
            and a == b
        )
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(v, b[k]) for k, v in a.items())
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


# ----------------------------------------------------------------------------- to_set


def to_set(value: dict[str, Any], root: Ref) -> FieldSet:
    """The fields a value sets (what an apply configuration claims)."""
    out = FieldSet()
    kind, map_type = _part(resolve(root), value)
    if kind == "map" and not map_type.atomic:
        _visit_map(out, value, map_type)
    return out


def _visit(parent: FieldSet, element: str, value: Any, ref: Ref) -> None:
    kind, part = _part(resolve(ref), value)
    if (
        kind == "scalar"
        or (kind == "list" and not part.associative)
        or (kind == "map" and part.atomic)
    ):
        parent.members.add(element)
        return
    if kind == "list" and isinstance(value, list):
        node = parent.child(element)
        elements = _item_elements(part, value)
        duplicates = {e for e in elements if e and elements.count(e) > 1}
        for item_pe, item in zip(elements, value, strict=True):
            if item_pe and item_pe not in duplicates:
                _visit(node, item_pe, item, part.elem)
                node.members.add(item_pe)
        node.members |= duplicates
        parent.prune(element)
    elif kind == "map" and isinstance(value, dict):
        node = parent.child(element)
        _visit_map(node, value, part)
        parent.prune(element)


def _visit_map(node: FieldSet, value: dict[str, Any], kind: MapType) -> None:
    for key, member in value.items():
        element = "f:" + key
        _visit(node, element, member, _member(kind, key))
        if member is None or member == {} or key not in kind.fields:
            node.members.add(element)


# ----------------------------------------------------------------------------- merge


def merge(lhs: Any, rhs: Any, ref: Ref) -> Any:
    """`rhs` merged into `lhs`: rhs wins at leaves, associative lists merge by item."""
    if rhs is MISSING or lhs is MISSING:
        return lhs if rhs is MISSING else rhs
    atom = resolve(ref)
    kind, part = _part(atom, rhs)
    if _part(atom, lhs)[0] != kind:
        return rhs
    granular = (kind == "map" and not part.atomic) or (kind == "list" and part.associative)
    if not granular:
        return rhs
    if isinstance(lhs, list) and isinstance(rhs, list) and (lhs or rhs):
        return _merge_list(lhs, rhs, part)
    if isinstance(lhs, dict) and isinstance(rhs, dict) and (lhs or rhs):
        keys = [*lhs, *(k for k in rhs if k not in lhs)]
        return {k: merge(lhs.get(k, MISSING), rhs.get(k, MISSING), _member(part, k)) for k in keys}
    # structured-merge-diff keeps a live map or list that the configuration nulls
    return lhs if rhs is None and isinstance(lhs, _CONTAINERS) and lhs else rhs


def _merge_list(lhs: list[Any], rhs: list[Any], kind: ListType) -> list[Any]:
    """merge.go's visitListItems: keeps the live order, places new items after shared ones."""
    rhs_pes = [item_element(kind, item) for item in rhs]
    observed_rhs = dict(zip(rhs_pes, rhs, strict=True))
    if len(observed_rhs) != len(rhs_pes):
        duplicate = next(pe for pe in rhs_pes if rhs_pes.count(pe) > 1)
        raise FieldsError(f"duplicate entries for key {duplicate}")
    lhs_pes: list[str] = []
    observed_lhs: dict[str, Any] = {}
    for item in lhs:
        try:
            pe = item_element(kind, item)
        except FieldsError:
            continue
        observed_lhs[pe] = MISSING if pe in observed_lhs else item
        lhs_pes.append(pe)
    shared = [pe for pe in rhs_pes if pe in observed_lhs]
    next_shared = shared.pop(0) if shared else None
    merged_rhs: set[str] = set()
    out: list[Any] = []
    li = ri = 0
    while li < len(lhs_pes) or ri < len(rhs_pes):
        if li < len(lhs_pes) and ri < len(rhs_pes):
            pe = lhs_pes[li]
            if pe == rhs_pes[ri]:
                merged_rhs.add(pe)
                out.append(merge(observed_lhs[pe], observed_rhs[pe], kind.elem))
                li, ri = li + 1, ri + 1
                next_shared = shared.pop(0) if shared else None
                continue
            if pe in observed_rhs and next_shared is not None and next_shared != pe:
                li += 1
                continue
        if li < len(lhs_pes):
            pe = lhs_pes[li]
            if pe not in observed_rhs:
                out.append(merge(lhs[li], MISSING, kind.elem))
                li += 1
                continue
            if pe in merged_rhs:
                li += 1
        if ri < len(rhs_pes):
            pe = rhs_pes[ri]
            merged_rhs.add(pe)
            out.append(merge(observed_lhs.get(pe, MISSING), observed_rhs[pe], kind.elem))
            ri += 1
            if next_shared is not None and next_shared == pe:
                next_shared = shared.pop(0) if shared else None
    return [item for item in out if item is not MISSING]


# ----------------------------------------------------------------------------- compare


@dataclass
class Comparison:
    added: FieldSet = field(default_factory=FieldSet)
    modified: FieldSet = field(default_factory=FieldSet)
    removed: FieldSet = field(default_factory=FieldSet)

    def excluding(self, ignored: FieldSet | None) -> Comparison:
        if ignored is None:
            return self
        return Comparison(
            self.added.recursive_difference(ignored),
            self.modified.recursive_difference(ignored),
            self.removed.recursive_difference(ignored),
        )


def compare(lhs: Any, rhs: Any, root: Ref) -> Comparison:
    """What changed from `lhs` to `rhs`, as sets of added, modified and removed fields."""
    out = Comparison()
    _compare(out, (), lhs, rhs, root)
    return out


def _empty(value: Any) -> bool:
    return value is MISSING or value is None or (isinstance(value, _CONTAINERS) and not value)


def _compare(out: Comparison, path: Path, lhs: Any, rhs: Any, ref: Ref) -> None:
    atom = resolve(ref)
    kind, part = _part(atom, lhs if rhs is MISSING else rhs)
    if lhs is not MISSING and rhs is not MISSING and _part(atom, lhs)[0] != kind:
        out.modified.insert(path)
        return
    leaf = (
        kind == "scalar"
        or (kind == "list" and not part.associative)
        or (kind == "map" and part.atomic)
        or (_empty(lhs) and _empty(rhs))
    )
    if leaf:
        if lhs is MISSING:
            out.added.insert(path)
        elif rhs is MISSING:
            out.removed.insert(path)
        elif not same(lhs, rhs):
            out.modified.insert(path)
        return
    if kind == "map":
        left = lhs if isinstance(lhs, dict) else {}
        right = rhs if isinstance(rhs, dict) else {}
        for key in [*left, *(k for k in right if k not in left)]:
            member = _member(part, key)
            _compare(
                out, (*path, "f:" + key), left.get(key, MISSING), right.get(key, MISSING), member
            )
    else:
        _compare_items(out, path, lhs, rhs, part)
    if lhs is MISSING:
        out.added.insert(path)
    elif rhs is MISSING:
        out.removed.insert(path)


def _compare_items(out: Comparison, path: Path, lhs: Any, rhs: Any, kind: ListType) -> None:
    order: list[str] = []
    values: tuple[dict[str, list[Any]], dict[str, list[Any]]] = ({}, {})
    for side, items in enumerate((lhs, rhs)):
        for item in items if isinstance(items, list) else []:
            try:
                pe = item_element(kind, item)
            except FieldsError:
                continue
            if pe not in values[0] and pe not in values[1]:
                order.append(pe)
            values[side].setdefault(pe, []).append(item)
    for pe in order:
        left, right = values[0].get(pe, []), values[1].get(pe, [])
        here = (*path, pe)
        if len(left) <= 1 and len(right) <= 1:
            _compare(
                out, here, left[0] if left else MISSING, right[0] if right else MISSING, kind.elem
            )
        elif len(left) >= 2 and len(right) >= 2:
            if not same(left, right):
                out.modified.insert(here)
        elif len(left) >= 2:
            if right:
                _compare(out, here, MISSING, right[0], kind.elem)
            out.removed.insert(here)
        else:
            if left:
                _compare(out, here, left[0], MISSING, kind.elem)
            out.added.insert(here)


def created_fields(value: dict[str, Any], zero: dict[str, Any], root: Ref) -> dict[str, Any]:
    """`compare(zero, value)`'s added and modified fields, as FieldsV1: what a create owns.

    The same walk specialised for a create (the old object is the kind's zero value, so nothing
    is removed and no list item is on both sides), writing FieldsV1 directly: every create
    through the API pays for it. Tests hold it equal to `compare`.
    """
    out: dict[str, Any] = {}
    kind, part = _part(resolve(root), value)
    if kind == "map":
        for key, member in value.items():
            _created(out, "f:" + key, member, zero.get(key, MISSING), _member(part, key))
    return _in_order(out)


def _created(parent: dict[str, Any], element: str, value: Any, zero: Any, ref: Ref) -> None:
    if zero is MISSING and (not value or not isinstance(value, _CONTAINERS)):
        # A new scalar, null or empty container is a leaf whatever its type (every branch
        # below ends there): most of a create's fields, so skip resolving their type.
        parent[element] = {}
        return
    kind, part = _part(resolve(ref), value)
    if (
        kind == "scalar"
        or (kind == "list" and not part.associative)
        or (kind == "map" and part.atomic)
        or (_empty(zero) and _empty(value))
    ):
        if zero is MISSING or not same(zero, value):
            parent[element] = {}
        return
    node: dict[str, Any] = {}
    if kind == "map":
        old = zero if isinstance(zero, dict) else {}
        for key, member in value.items():
            _created(node, "f:" + key, member, old.get(key, MISSING), _member(part, key))
    else:
        elements = _item_elements(part, value)
        for item_pe, item in zip(elements, value, strict=True):
            if item_pe and elements.count(item_pe) > 1:
                node[item_pe] = {}
            elif item_pe:
                _created(node, item_pe, item, MISSING, part.elem)
    if node:
        parent[element] = {".": {}, **_in_order(node)} if zero is MISSING else _in_order(node)
    elif zero is MISSING:
        parent[element] = {}


def _in_order(node: dict[str, Any]) -> dict[str, Any]:
    if len(node) < 2:  # nothing to sort
        return node
    return {k: node[k] for k in sorted(node, key=element_order)}


# ----------------------------------------------------------------------------- removal


def remove_items(value: Any, fields: FieldSet, ref: Ref) -> Any:
    """`value` without the member paths of `fields` (MISSING when nothing is left of it)."""
    kind, part = _part(resolve(ref), value)
    if kind == "list" and isinstance(value, list) and value and part.associative:
        items = []
        for item in value:
            try:
                pe = item_element(part, item)
            except FieldsError:
                items.append(item)
                continue
            if pe in fields.members:
                continue
            under = fields.children.get(pe)
            rest = item if under is None else remove_items(item, under, part.elem)
            if rest is not MISSING:
                items.append(rest)
        return items or MISSING
    if kind == "map" and isinstance(value, dict) and value and not part.atomic:
        kept = {}
        for key, member in value.items():
            element = "f:" + key
            if element in fields.members:
                continue
            under = fields.children.get(element)
            rest = member if under is None else remove_items(member, under, _member(part, key))
            if rest is not MISSING:
                kept[key] = rest
        return kept or MISSING
    return value


def ensure_named_fields(fields: FieldSet, ref: Ref) -> FieldSet:
    """`fields` plus every struct field on the way to one of them (not map keys)."""
    atom = resolve(ref)
    out = FieldSet()
    out.members = set(fields.members)
    for element, under in fields.children.items():
        if element.startswith("f:"):
            if atom.map is not None and element[2:] in atom.map.fields:
                out.members.add(element)
            child = _member(atom.map, element[2:]) if atom.map is not None else DEDUCED
        else:
            child = atom.list.elem if atom.list is not None else DEDUCED
        out.children[element] = ensure_named_fields(under, child)
    return out
