"""A custom resource's defaults, as apiextensions-apiserver fills them from its CRD's schema.

kube-apiserver decodes every custom resource it is sent (and every one it reads back from etcd)
with its version's structural schema: a `null` where the schema does not say `nullable: true` is
pruned, then each property missing from an object that declares a `default` gets a copy of it
(k8s.io/apiextensions-apiserver pkg/apiserver/schema/defaulting/algorithm.go and prunenulls.go,
v1.37). So a GitRepository created without `spec.timeout` reads back with `timeout: 60s`, and a
Kustomization without `spec.force` with `force: false`, on any cluster; the defaults are filled
before the field manager sees the write, so they are the writer's fields. The fake API fills them
on every write, not on reads (an object stored before its CRD gained a default stays without).
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["default_custom_resource", "field_schema"]


def default_custom_resource(schema: object, obj: dict[str, Any]) -> None:
    """Prune non-nullable nulls and fill defaults in `obj` (in place) by its openAPIV3Schema."""
    if isinstance(schema, dict):
        _prune_nulls(obj, schema)
        _default(obj, schema)


def _nullable_or_defaulted(schema: object) -> bool:
    return not isinstance(schema, dict) or bool(schema.get("nullable")) or _has_default(schema)


def _has_default(schema: dict[str, Any]) -> bool:
    return schema.get("default") is not None


def field_schema(schema: dict[str, Any] | None, key: str) -> tuple[bool, dict[str, Any] | None]:
    """Whether an object's schema declares `key` (as a property, or by additionalProperties),
    and the schema its value is read with then (None: none, as `additionalProperties: true`
    gives); apiextensions' getSchemaForField, which pruning reads the same way."""
    if schema is None:
        return False, None
    known = (schema.get("properties") or {}).get(key)
    if isinstance(known, dict):
        return True, known
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        return True, extra
    return extra is True, None


def _prune_nulls(value: object, schema: dict[str, Any] | None) -> None:
    """PruneNonNullableNullsWithoutDefaults: a null neither nullable nor defaulted goes."""
    if isinstance(value, dict):
        for key in list(value):
            _, field = field_schema(schema, key)
            if value[key] is None and field is not None and not _nullable_or_defaulted(field):
                del value[key]
            else:
                _prune_nulls(value[key], field)
    elif isinstance(value, list):
        items = schema.get("items") if schema is not None else None
        for item in value:
            _prune_nulls(item, items if isinstance(items, dict) else None)


def _default_for(value: object, schema: dict[str, Any]) -> object:
    """`value`, or a copy of the schema's default for a null the schema does not allow."""
    if value is None and not schema.get("nullable") and _has_default(schema):
        return copy.deepcopy(schema["default"])
    return value


def _default(value: object, schema: dict[str, Any]) -> None:
    """Default: each missing (or disallowed null) property with a default gets a copy of it,
    then every property, additional property and item is defaulted by its own schema."""
    if isinstance(value, dict):
        properties = schema.get("properties")
        properties = properties if isinstance(properties, dict) else {}
        for key, prop in properties.items():
            if isinstance(prop, dict) and _has_default(prop):
                if key not in value:
                    value[key] = copy.deepcopy(prop["default"])
                else:
                    value[key] = _default_for(value[key], prop)
        extra = schema.get("additionalProperties")
        for key in value:
            known = properties.get(key)
            if isinstance(known, dict):
                _default(value[key], known)
            elif isinstance(extra, dict):
                value[key] = _default_for(value[key], extra)
                _default(value[key], extra)
    elif isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, dict):
            for i, item in enumerate(value):
                value[i] = _default_for(item, items)
                _default(value[i], items)
