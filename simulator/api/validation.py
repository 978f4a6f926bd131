"""The fields a kind does not declare, found and dropped as kube-apiserver's decoders drop them.

kube-apiserver decodes a built-in kind into its Go struct, so a field the struct lacks is gone
(`contianers`, `enableServiceLink`), and a custom resource through its CRD's structural schema,
which prunes what the schema does not declare (unless it says
`x-kubernetes-preserve-unknown-fields`). What the client hears depends on the request's
`fieldValidation` (crud.py): Strict (kubectl's default) is a 400 naming them, Warn (the default
of every other client) a `Warning` header for each, Ignore nothing; the object is stored without
them in every case.

A built-in kind's fields are read from kube-apiserver's own OpenAPI v3 documents (the ones
go_types.py reads Go's types from; without them nothing is found), a custom resource's from its
CRD's openAPIV3Schema (apiextensions-apiserver's pkg/apiserver/schema/pruning/algorithm.go,
v1.37: paths sorted, `apiVersion`, `kind` and `metadata` kept at the root and in embedded
resources).
"""

from __future__ import annotations

from typing import Any

from simulator.api.go_types import kind_schema, resolve
from simulator.api.kinds import KindInfo
from simulator.api.store.schema_defaults import field_schema

__all__ = ["undeclared_fields", "unknown_fields"]

_MAX_ERRORS = 20
_META_FIELDS = frozenset({"apiVersion", "kind", "metadata"})


def undeclared_fields(obj: dict[str, Any], info: KindInfo, *, prune: bool) -> list[str]:
    """`unknown field "spec.x"` for each field of `obj` that `info` does not declare, in the
    order kube-apiserver names them; removed from `obj` when `prune`."""
    if info.crd_name:
        paths: list[str] = []
        _prune_by_schema(obj, _root(info.schema), "", paths, prune)
        return [f'unknown field "{path}"' for path in sorted(paths)]
    found = kind_schema(info.group, info.version, info.kind)
    if found is None:
        return []
    schemas, component = found
    walk = _Walk(schemas, prune)
    walk.value(obj, schemas[component], "")
    return walk.errors[:_MAX_ERRORS]


_CONTAINERS = (dict, list)


class _Walk:
    """The unknown fields under a value, read by its schema nodes in one document: a struct's
    (`properties`) keys, a map's (`additionalProperties`) values, a list's items. Only maps
    and lists are walked into, as only they can hold a field; a node that declares neither
    (RawExtension, FieldsV1) takes anything."""

    def __init__(self, schemas: dict[str, Any], prune: bool) -> None:
        self.schemas, self.prune = schemas, prune
        self.errors: list[str] = []

    def value(self, value: Any, schema: dict[str, Any], path: str) -> None:
        form, inner = _shape(self.schemas, schema)
        if form == "list" and isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, _CONTAINERS):
                    self.value(item, inner, f"{path}[{index}]")
        elif form == "map" and isinstance(value, dict):
            for key, item in value.items():
                if isinstance(item, _CONTAINERS):
                    self.value(item, inner, f"{path}.{key}" if path else key)
        elif form == "struct" and isinstance(value, dict):
            self.struct(value, inner, path)

    def struct(self, value: dict[str, Any], properties: dict[str, Any], path: str) -> None:
        for key in list(value):
            declared = properties.get(key)
            if declared is not None:
                if isinstance(value[key], _CONTAINERS):
                    self.value(value[key], declared, f"{path}.{key}" if path else key)
            elif not key.startswith("$"):  # `$patch`...: strategic merge patch directives
                child = f"{path}.{key}" if path else key
                self.errors.append(f'unknown field "{child}"')
                if self.prune:
                    del value[key]


# Each schema node's shape, by the node's identity (the node is kept with it, so its id stays
# its own): the documents are read once and kept, and every write a client sends is walked.
_SHAPES: dict[int, tuple[dict[str, Any], tuple[str, Any]]] = {}


def _shape(schemas: dict[str, Any], schema: dict[str, Any]) -> tuple[str, Any]:
    """("struct", properties) | ("map", the values' node) | ("list", the items' node), or
    ("", None) for a node that declares none of them."""
    known = _SHAPES.get(id(schema))
    if known is not None:
        return known[1]
    _, node = resolve(schemas, schema)
    properties, extra, items = (
        node.get("properties"),
        node.get("additionalProperties"),
        node.get("items"),
    )
    shape: tuple[str, Any] = ("", None)
    if isinstance(properties, dict):
        shape = ("struct", properties)
    elif isinstance(extra, dict):
        shape = ("map", extra)
    elif isinstance(items, dict):
        shape = ("list", items)
    _SHAPES[id(schema)] = (schema, shape)
    return shape


def unknown_fields(value: Any, schema: dict[str, Any]) -> list[str]:
    """What pruning by `schema` would remove from `value` (left as it is): a CRD's default
    must have nothing of the kind."""
    found: list[str] = []
    _prune_by_schema(value, schema, "", found, False)
    return found


def _root(schema: object) -> dict[str, Any]:
    """The schema at a custom resource's root: an embedded resource (its type meta kept)."""
    root = dict(schema) if isinstance(schema, dict) else {}
    root["x-kubernetes-embedded-resource"] = True
    return root


def _prune_by_schema(
    value: Any,
    schema: dict[str, Any] | None,
    path: str,
    found: list[str],
    prune: bool,
    *,
    skip: bool = False,
) -> None:
    """pruning.prune (or, with `skip`, skipPrune): a map's undeclared keys go, all of them when
    it has no schema; a list's items are pruned by `items`. Under
    x-kubernetes-preserve-unknown-fields a node keeps its undeclared keys (and its list items
    theirs) but its declared ones are pruned below."""
    keep_unknown = skip or bool(schema and schema.get("x-kubernetes-preserve-unknown-fields"))
    if isinstance(value, dict):
        embedded = schema is not None and schema.get("x-kubernetes-embedded-resource")
        for key in list(value):
            if embedded and key in _META_FIELDS:
                continue
            child = f"{path}.{key}" if path else key
            declared, sub = field_schema(schema, key)
            if declared:
                _prune_by_schema(value[key], sub, child, found, prune)
            elif not keep_unknown:
                if key not in _META_FIELDS or path:
                    found.append(child)
                if prune:
                    del value[key]
    elif isinstance(value, list):
        items = schema.get("items") if schema is not None else None
        sub = items if isinstance(items, dict) else None
        if keep_unknown and sub is None:
            return  # skipPrune without an items schema leaves the items as they are
        for index, item in enumerate(value):
            _prune_by_schema(item, sub, f"{path}[{index}]", found, prune, skip=keep_unknown)
