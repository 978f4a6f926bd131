"""The fields a kind does not declare, found and dropped as kube-apiserver's decoders drop them.

kube-apiserver decodes a built-in kind into its Go struct, so a field the struct lacks is gone
(`contianers`, `enableServiceLink`), and a custom resource through its CRD's structural schema,
which prunes what the schema does not declare (unless it says
`x-kubernetes-preserve-unknown-fields`). What the client hears depends on the request's
`fieldValidation` (crud.py): Strict (kubectl's default) is a 400 naming them, Warn (the default
of every other client) a `Warning` header for each, Ignore nothing; the object is stored without
them in every case.

A built-in kind's fields come from the official client's generated models (`openapi_types` and
`attribute_map` mirror the API's OpenAPI), so the simulator needs no copy of the Kubernetes
OpenAPI document; a custom resource's from its CRD's openAPIV3Schema (apiextensions-apiserver's
pkg/apiserver/schema/pruning/algorithm.go, v1.37: paths sorted, `apiVersion`, `kind` and
`metadata` kept at the root and in embedded resources).
"""

from __future__ import annotations

import functools
from typing import Any

from simulator.api.kinds import KindInfo

__all__ = ["undeclared_fields"]

_SPECIAL_MODELS = {
    ("", "Event"): "CoreV1Event",
    ("events.k8s.io", "Event"): "EventsV1Event",
}
_MAX_ERRORS = 20
_META_FIELDS = frozenset({"apiVersion", "kind", "metadata"})


def undeclared_fields(obj: dict[str, Any], info: KindInfo, *, prune: bool) -> list[str]:
    """`unknown field "spec.x"` for each field of `obj` that `info` does not declare, in the
    order kube-apiserver names them; removed from `obj` when `prune`."""
    if info.crd_name:
        paths: list[str] = []
        _prune_by_schema(obj, _root(info.schema), "", paths, prune)
        return [f'unknown field "{path}"' for path in sorted(paths)]
    model = _model_for(info.group, info.version, info.kind)
    if model is None:
        return []
    errors: list[str] = []
    _walk(obj, model.__name__, "", errors, prune)
    return errors[:_MAX_ERRORS]


def _model(name: str) -> Any:
    """A generated model class by name (None when there is none).

    Imported on first use: `kubernetes` loads its config machinery with its models (requests,
    oauthlib, pydantic: 0.2 s of CPU), which a world pays only once a client writes through the
    API (the world's own writes go to the store).
    """
    from kubernetes.client import models

    return getattr(models, name, None)


@functools.cache
def _model_for(group: str, version: str, kind: str) -> type | None:
    name = _SPECIAL_MODELS.get((group, kind)) or f"{version.capitalize()}{kind}"
    model = _model(name)
    return model if isinstance(model, type) and hasattr(model, "openapi_types") else None


@functools.cache
def _shape(type_name: str) -> tuple[str, Any] | None:
    """How a model type reads: ("list" | "dict", its items' type), or ("model", its fields by
    JSON name with their types); None for a scalar. Cached: every write a client sends is
    walked, and the models never change."""
    for form, prefix in (("list", "List["), ("dict", "Dict[str, ")):
        if type_name.startswith(prefix):
            return form, type_name[len(prefix) : -1]
    model = _model(type_name)
    attribute_map = getattr(model, "attribute_map", None)
    openapi_types = getattr(model, "openapi_types", None)
    if attribute_map is None or openapi_types is None:
        return None
    return "model", {attribute_map[attr]: kind for attr, kind in openapi_types.items()}


_CONTAINERS = (dict, list)


def _walk(value: Any, type_name: str, path: str, errors: list[str], prune: bool) -> None:
    """The unknown fields under `value` (read as `type_name`); only maps and lists are
    walked into, as only they can hold one."""
    shape = _shape(type_name)
    if shape is None:
        return
    form, inner = shape
    if form == "list":
        if isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, _CONTAINERS):
                    _walk(item, inner, f"{path}[{index}]", errors, prune)
        return
    if not isinstance(value, dict):
        return
    for key in list(value):
        item_type = inner if form == "dict" else inner.get(key)
        if item_type is None:
            if key.startswith("$"):
                continue  # strategic merge patch directives
            errors.append(f'unknown field "{path}.{key}"' if path else f'unknown field "{key}"')
            if prune:
                del value[key]
        elif isinstance(value[key], _CONTAINERS):
            _walk(value[key], item_type, f"{path}.{key}" if path else key, errors, prune)


def _root(schema: object) -> dict[str, Any]:
    """The schema at a custom resource's root: an embedded resource (its type meta kept)."""
    root = dict(schema) if isinstance(schema, dict) else {}
    root["x-kubernetes-embedded-resource"] = True
    return root


def _sub(schema: dict[str, Any], key: str) -> tuple[bool, dict[str, Any] | None]:
    """Whether `key` is declared under `schema`, and the schema it is read with then."""
    known = (schema.get("properties") or {}).get(key)
    if isinstance(known, dict):
        return True, known
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        return True, extra
    if extra is True:
        return True, None  # any value, itself pruned as schemaless
    return False, None


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
            declared, sub = _sub(schema, key) if schema is not None else (False, None)
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
