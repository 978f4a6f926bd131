"""Field types for server-side apply, read from OpenAPI as kube-apiserver reads them.

A port of kube-openapi's `schemaconv` (OpenAPI to structured-merge-diff types): an object with
properties is a struct (its fields are named), `additionalProperties` makes a map, and lists are
atomic unless `x-kubernetes-list-type` (or a `merge` patch strategy) makes them associative,
keyed by `x-kubernetes-list-map-keys` (or the patch merge key) or, without keys, a set.
`x-kubernetes-map-type: atomic` makes a map one leaf. Anything untyped is *deduced* from its
value: maps granular, lists atomic (as for a CRD that preserves unknown fields).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DEDUCED", "Atom", "ListType", "MapType", "Ref", "Types", "resolve"]

_QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
_RAW_EXTENSION = "io.k8s.apimachinery.pkg.runtime.RawExtension"


@dataclass(eq=False)
class MapType:
    """A struct (named `fields`) and/or a map (any key, of type `elem`)."""

    fields: dict[str, Ref] = field(default_factory=dict)
    elem: Ref | None = None
    atomic: bool = False
    defaults: dict[str, Any] = field(default_factory=dict)
    required: frozenset[str] = frozenset()


@dataclass(eq=False)
class ListType:
    elem: Ref
    associative: bool = False
    keys: tuple[str, ...] = ()


@dataclass(eq=False)
class Atom:
    """What a value of one type may be; a value picks the part matching its own shape."""

    scalar: bool = False
    map: MapType | None = None
    list: ListType | None = None
    zero: Any = None  # a scalar's Go zero value in JSON (null for times and untyped values)
    # schemaconv's scalar type: numeric, string (no format, or byte), boolean, else untyped.
    scalar_type: str = "untyped"


class Named:
    """A reference to a named component, resolved on first use (types are recursive)."""

    __slots__ = ("_atom", "_types", "atomic_map", "name")

    def __init__(self, types: Types, name: str, atomic_map: bool | None) -> None:
        self._types, self.name, self.atomic_map = types, name, atomic_map
        self._atom: Atom | None = None

    def atom(self) -> Atom:
        if self._atom is None:
            atom = self._types.atom(self.name)
            if self.atomic_map is not None and atom.map is not None:
                mapped = MapType(**{**vars(atom.map), "atomic": self.atomic_map})
                atom = dataclasses.replace(atom, map=mapped)
            self._atom = atom
        return self._atom


Ref = Atom | Named


def resolve(ref: Ref) -> Atom:
    return ref if type(ref) is Atom else ref.atom()  # type: ignore[union-attr]


UNTYPED = Atom(scalar=True)
UNTYPED.list = ListType(elem=UNTYPED)
UNTYPED.map = MapType(elem=UNTYPED, atomic=True)
DEDUCED = Atom(scalar=True, list=ListType(elem=UNTYPED))
DEDUCED.map = MapType(elem=DEDUCED)


class Types:
    """The types of one OpenAPI document's components (`#/components/schemas/<name>`)."""

    def __init__(self, components: dict[str, Any]) -> None:
        self._components = components
        self._atoms: dict[str, Atom] = {}

    @property
    def components(self) -> dict[str, Any]:
        return self._components

    def ref(self, name: str) -> Ref:
        return Named(self, name, None) if name in self._components else DEDUCED

    def atom(self, name: str) -> Atom:
        found = self._atoms.get(name)
        if found is None:
            if name == _QUANTITY:
                found = Atom(scalar=True)
            elif name == _RAW_EXTENSION:
                found = UNTYPED
            elif name in self._components:
                found = self.parse(self._components[name], preserve=False)
            else:
                found = DEDUCED
            self._atoms[name] = found
        return found

    def parse(self, spec: dict[str, Any], *, preserve: bool) -> Atom:
        """The type a schema describes (`preserve`: unknown fields are kept, so deduced)."""
        preserve = preserve or spec.get("x-kubernetes-preserve-unknown-fields") is True
        kind = spec.get("type", "")
        if kind == "object":
            return Atom(map=self._object(spec, preserve))
        if kind == "array":
            return Atom(list=self._list(spec, preserve))
        if kind:
            fmt = str(spec.get("format", ""))
            return Atom(scalar=True, zero=_zero(kind, fmt), scalar_type=_scalar_type(kind, fmt))
        return Atom(scalar=True, list=self._list(spec, preserve), map=self._object(spec, preserve))

    def _ref(self, spec: dict[str, Any], preserve: bool) -> Ref:
        target = spec.get("$ref")
        all_of = spec.get("allOf") or []
        if not target and len(all_of) == 1 and "$ref" in all_of[0]:
            target = all_of[0]["$ref"]
        if target:
            name = str(target).rpartition("/")[2]
            if name not in self._components and name not in (_QUANTITY, _RAW_EXTENSION):
                return DEDUCED
            map_type = spec.get("x-kubernetes-map-type")
            return Named(self, name, None if map_type is None else map_type == "atomic")
        return self.parse(spec, preserve=preserve)

    def _object(self, spec: dict[str, Any], preserve: bool) -> MapType:
        properties = spec.get("properties") or {}
        fields = {name: self._ref(member, preserve) for name, member in properties.items()}
        defaults = {n: m["default"] for n, m in properties.items() if "default" in m}
        extra = spec.get("additionalProperties")
        elem: Ref | None
        if isinstance(extra, dict):
            elem = self._ref(extra, preserve)
        elif extra is True or preserve or not properties:
            elem = DEDUCED
        else:
            elem = None  # unknown fields are not declared
        atomic = spec.get("x-kubernetes-map-type") == "atomic"
        required = frozenset(spec.get("required") or ())
        return MapType(fields, elem, atomic, defaults, required)

    def _list(self, spec: dict[str, Any], preserve: bool) -> ListType:
        items = spec.get("items")
        elem = self._ref(items, preserve) if isinstance(items, dict) else UNTYPED
        list_type = spec.get("x-kubernetes-list-type")
        if list_type is not None:
            if list_type == "map":
                keys = tuple(spec.get("x-kubernetes-list-map-keys") or ())
                return ListType(elem, associative=True, keys=keys)
            return ListType(elem, associative=list_type == "set")
        strategy = spec.get("x-kubernetes-patch-strategy")
        if strategy in ("merge", "merge,retainKeys"):
            key = spec.get("x-kubernetes-patch-merge-key")
            return ListType(elem, associative=True, keys=(str(key),) if key else ())
        return ListType(elem)


def _scalar_type(kind: str, fmt: str) -> str:
    """kube-openapi schemaconv's convertPrimitive."""
    if kind in ("integer", "number"):
        return "numeric"
    if kind == "string":
        return "string" if fmt in ("", "byte") else "untyped"
    return "boolean" if kind == "boolean" else "untyped"


def _zero(kind: str, fmt: str) -> Any:
    if kind in ("integer", "number"):
        return 0
    if kind == "boolean":
        return False
    return "" if kind == "string" and fmt in ("", "byte") else None


def skeleton(ref: Ref, depth: int = 0) -> dict[str, Any]:
    """The JSON of a Go zero value of this type, as the field manager compares a create with.

    Non-pointer structs (`default: {}`) nest; required fields (no `omitempty`) are present:
    scalars as their zero, lists and maps null, as Go writes them.
    """
    atom = resolve(ref)
    out: dict[str, Any] = {}
    if atom.map is None or depth > 8:
        return out
    for name, member in atom.map.fields.items():
        inner = resolve(member)
        if atom.map.defaults.get(name) == {} and inner.map is not None:
            out[name] = skeleton(member, depth + 1)
        elif name in atom.map.required:
            only_scalar = inner.map is None and inner.list is None
            out[name] = inner.zero if only_scalar else None
    return out
