"""The OpenAPI walk kube-apiserver makes over a CRD's openAPIV3Schema (apiextensions-apiserver
v0.37.2, `ValidateCustomResourceDefinitionOpenAPISchema` and `specStandardValidatorV3.validate`):
what JSON Schema features a CRD may not use, where a default may not be, and the
x-kubernetes extensions' own rules, in kube-apiserver's words and order (a schema's own checks,
its children's errors, then its extensions'). A validation rule's CEL is not compiled here.
Go walks properties in map order, which is random; here they go in sorted order.
"""

from __future__ import annotations

from typing import Any

from simulator.api.store.go_values import bad_value, not_supported

__all__ = ["openapi_errors"]

_TYPES = ("array", "boolean", "integer", "number", "object", "string")
_META_FIELDS = frozenset({"metadata", "kind", "apiVersion"})


def openapi_errors(schema: dict[str, Any], path: str) -> list[str]:
    """The walk's field errors for a CRD's root schema at `path`."""
    return _openapi(schema, path, root=True, no_defaults=None, in_meta=False)


def _openapi(s: Any, path: str, *, root: bool, no_defaults: str | None, in_meta: bool) -> list[str]:
    """`no_defaults`: why a default may not be set here (None: it may); `in_meta`: inside an
    object's metadata, kind or apiVersion (the root's or an embedded resource's)."""
    if not isinstance(s, dict):
        return []
    errors = _standard(s, path, no_defaults, in_meta)
    same = {"root": False, "no_defaults": no_defaults, "in_meta": in_meta}
    if s.get("uniqueItems") is True:
        errors.append(
            f"{path}.uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime "
            "complexity becomes quadratic"
        )
    additional = s.get("additionalProperties")
    if additional is not None:
        if s.get("properties") and additional is not True:
            errors.append(
                f"{path}.additionalProperties: Forbidden: additionalProperties and properties are "
                "mutual exclusive"
            )
        why = "inside additionalProperties applying to object metadata" if in_meta else no_defaults
        errors += _openapi(
            additional if isinstance(additional, dict) else None,
            f"{path}.additionalProperties",
            root=False,
            no_defaults=why,
            in_meta=in_meta,
        )
    errors += _openapi_children(s, path, root=root, same=same)
    return errors + _extensions(s, path)


def _openapi_children(s: dict[str, Any], path: str, *, root: bool, same: Any) -> list[str]:
    errors: list[str] = []
    for key, sub in sorted((s.get("properties") or {}).items()):
        inner = dict(same)
        if (root or s.get("x-kubernetes-embedded-resource") is True) and key in _META_FIELDS:
            inner["in_meta"] = True
            if root:
                inner["no_defaults"] = f"in top-level {key}"
        errors += _openapi(sub, f"{path}.properties[{key}]", **inner)
    errors += _openapi(s.get("not"), f"{path}.not", **same)
    for key in ("allOf", "oneOf", "anyOf"):
        for i, sub in enumerate(s.get(key) or []):
            errors += _openapi(sub, f"{path}.{key}[{i}]", **same)
    for key, sub in sorted((s.get("definitions") or {}).items()):
        errors += _openapi(sub, f"{path}.definitions[{key}]", **same)
    items = s.get("items")
    if isinstance(items, dict):
        errors += _openapi(items, f"{path}.items", **same)
    elif isinstance(items, list):
        for i, sub in enumerate(items):
            errors += _openapi(sub, f"{path}.items[{i}]", **same)
    for key, sub in sorted((s.get("dependencies") or {}).items()):
        if isinstance(sub, dict):
            errors += _openapi(sub, f"{path}.dependencies[{key}]", **same)
    return errors


def _standard(s: dict[str, Any], path: str, no_defaults: str | None, in_meta: bool) -> list[str]:
    """specStandardValidatorV3.validate."""
    errors: list[str] = []
    kind = s.get("type") or ""
    if kind and kind not in _TYPES:
        errors.append(not_supported(f"{path}.type", kind, _TYPES))
    if s.get("default") is not None and no_defaults is not None:
        errors.append(f"{path}.default: Forbidden: must not be set {no_defaults}".rstrip())
    for key, words in (
        ("id", "id is not supported"),
        ("additionalItems", "additionalItems is not supported"),
        ("patternProperties", "patternProperties is not supported"),
        ("definitions", "definitions is not supported"),
        ("dependencies", "dependencies is not supported"),
        ("$ref", "$ref is not supported"),
    ):
        if s.get(key) not in (None, "", {}):
            errors.append(f"{path}.{key}: Forbidden: {words}")
    if kind == "null":
        errors.append(
            f"{path}.type: Forbidden: type cannot be set to null, use nullable as an alternative"
        )
    if isinstance(s.get("items"), list) and s["items"]:
        errors.append(f"{path}.items: Forbidden: items must be a schema object and not an array")
    if in_meta and s.get("x-kubernetes-embedded-resource") is True:
        errors.append(
            f"{path}.x-kubernetes-embedded-resource: Forbidden: must not be used inside of "
            "resource meta"
        )
    return errors


def _extensions(s: dict[str, Any], path: str) -> list[str]:
    """The walk's own rules on the x-kubernetes extensions, after the children's errors."""
    errors: list[str] = []
    kind = s.get("type") or ""
    if s.get("x-kubernetes-preserve-unknown-fields") is False:
        errors.append(
            f"{path}.x-kubernetes-preserve-unknown-fields: Invalid value: false: must be true or "
            "undefined"
        )
    map_type = s.get("x-kubernetes-map-type")
    if map_type is not None and kind != "object":
        errors.append(_must_be(path, kind, "object", "x-kubernetes-map-type is specified"))
    if map_type is not None and map_type not in ("atomic", "granular"):
        errors.append(
            f"{path}.x-kubernetes-map-type: Unsupported value: {bad_value(map_type)}: supported "
            'values: "atomic", "granular"'
        )
    list_type = s.get("x-kubernetes-list-type")
    items = s.get("items") if isinstance(s.get("items"), dict) else None
    if list_type is not None and kind != "array":
        errors.append(_must_be(path, kind, "array", "x-kubernetes-list-type is specified"))
    elif list_type == "set" and items is not None:
        inner = items.get("type")
        if inner == "array" and items.get("x-kubernetes-list-type") not in (None, "atomic"):
            errors.append(
                f"{path}.items.x-kubernetes-list-type: Invalid value: "
                f"{bad_value(items.get('x-kubernetes-list-type'))}: must be atomic as item of a "
                "list with x-kubernetes-list-type=set"
            )
        if inner == "object" and items.get("x-kubernetes-map-type") != "atomic":
            errors.append(
                f"{path}.items.x-kubernetes-map-type: Invalid value: "
                f"{_null_or(items.get('x-kubernetes-list-type'))}: must be atomic as item of a "
                "list with x-kubernetes-list-type=set"
            )
    if list_type is not None and list_type not in ("atomic", "set", "map"):
        errors.append(
            f"{path}.x-kubernetes-list-type: Unsupported value: {bad_value(list_type)}: supported "
            'values: "atomic", "set", "map"'
        )
    keys = s.get("x-kubernetes-list-map-keys") or []
    if keys and list_type is None:
        errors.append(
            f"{path}.x-kubernetes-list-type: Required value: must be map if "
            "x-kubernetes-list-map-keys is non-empty"
        )
    elif keys and list_type != "map":
        errors.append(
            f"{path}.x-kubernetes-list-type: Invalid value: {bad_value(list_type)}: must be map "
            "if x-kubernetes-list-map-keys is non-empty"
        )
    if list_type == "map":
        errors += _list_map(s, path, keys, items)
    return errors + _rules(s, path)


def _must_be(path: str, kind: str, wanted: str, when: str) -> str:
    if not kind:
        return f"{path}.type: Required value: must be {wanted} if {when}"
    return f"{path}.type: Invalid value: {bad_value(kind)}: must be {wanted} if {when}"


def _null_or(value: Any) -> str:
    return "null" if value is None else bad_value(value)


def _list_map(s: dict[str, Any], path: str, keys: list[Any], items: Any) -> list[str]:
    errors: list[str] = []
    if not keys:
        errors.append(
            f"{path}.x-kubernetes-list-map-keys: Required value: must not be empty if "
            "x-kubernetes-list-type is map"
        )
    if s.get("items") is None:
        errors.append(
            f"{path}.items: Required value: must have a schema if x-kubernetes-list-type is map"
        )
    if items is not None and items.get("type") != "object":
        errors.append(
            f"{path}.items.type: Invalid value: {bad_value(items.get('type') or '')}: must be "
            "object if parent array's x-kubernetes-list-type is map"
        )
    if items is not None and items.get("type") == "object":
        declared = items.get("properties") or {}
        seen: set[str] = set()
        for key in keys:
            sub = declared.get(key)
            if sub is None:
                errors.append(
                    f"{path}.x-kubernetes-list-map-keys: Invalid value: {bad_value(keys)}: "
                    "entries must all be names of item properties"
                )
            elif sub.get("type") in ("array", "object"):
                errors.append(
                    f'{path}.items.properties[{key}].type: Invalid value: "object": must be a '
                    "scalar type if parent array's x-kubernetes-list-type is map"
                )
            if key in seen:
                errors.append(
                    f"{path}.x-kubernetes-list-map-keys: Invalid value: {bad_value(keys)}: must "
                    "not contain duplicate entries"
                )
            seen.add(key)
    return errors


def _rules(s: dict[str, Any], path: str) -> list[str]:
    """The x-kubernetes-validations entries' own fields (their CEL is not compiled here)."""
    errors: list[str] = []
    for i, rule in enumerate(s.get("x-kubernetes-validations") or []):
        at = f"{path}.x-kubernetes-validations[{i}]"
        text = str(rule.get("rule") or "").strip()
        message = str(rule.get("message") or "")
        if not text:
            errors.append(f"{at}.rule: Required value: rule is not specified")
        elif message and not message.strip():
            errors.append(
                f"{at}.message: Invalid value: {bad_value(message)}: must be non-empty if specified"
            )
        elif "\n" in message.strip() or "\r" in message.strip():
            errors.append(
                f"{at}.message: Invalid value: {bad_value(message)}: must not contain line breaks"
            )
        elif ("\n" in text or "\r" in text) and not message.strip():
            errors.append(
                f"{at}.message: Required value: message must be specified if rule contains line "
                "breaks"
            )
        expression = str(rule.get("messageExpression") or "")
        if expression and not expression.strip():
            errors.append(
                f"{at}.messageExpression: Required value: messageExpression must be non-empty if "
                "specified"
            )
        reason = rule.get("reason")
        if reason is not None and reason not in _RULE_REASONS:
            errors.append(not_supported(f"{at}.reason", reason, _RULE_REASONS))
    return errors


_RULE_REASONS = (
    "FieldValueDuplicate",
    "FieldValueForbidden",
    "FieldValueInvalid",
    "FieldValueRequired",
)
