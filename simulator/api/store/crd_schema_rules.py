"""What kube-apiserver checks in a CRD's openAPIV3Schema (apiextensions-apiserver v0.37.2,
`validateCustomResourceDefinitionValidation` with what it calls), in its words and order: the
root's rules, the structural schema rules (pkg/apiserver/schema/validation.go and complete.go,
errors sorted by their text as Go sorts them), then, in a structural schema, each default held
to its schema (`structuraldefaulting.ValidateDefaults`: no field the schema would prune, valid
against it), then the OpenAPI walk (crd_openapi_walk.py).

Not checked: CEL rules (compiled and costed by cel-go), a default as metadata, and the
structural conversion's own errors, which kube-apiserver shows only when nothing else is wrong.
Go walks a schema's properties in map order, which is random; here they go in sorted order, so
a refusal naming several properties may list them in another order than one run of
kube-apiserver.
"""

from __future__ import annotations

from typing import Any

from simulator.api.store.crd_openapi_walk import openapi_errors
from simulator.api.store.go_values import bad_value, struct_value
from simulator.api.store.schema_validation import custom_resource_errors
from simulator.api.validation import unknown_fields

__all__ = ["go_schema_json", "schema_errors"]

# The internal JSONSchemaProps' fields in Go's order, with their v1 JSON names and Go zero values.
_GO_FIELDS: tuple[tuple[str, str, Any], ...] = (
    ("ID", "id", ""),
    ("Schema", "$schema", ""),
    ("Ref", "$ref", None),
    ("Description", "description", ""),
    ("Type", "type", ""),
    ("Nullable", "nullable", False),
    ("Format", "format", ""),
    ("Title", "title", ""),
    ("Default", "default", None),
    ("Maximum", "maximum", None),
    ("ExclusiveMaximum", "exclusiveMaximum", False),
    ("Minimum", "minimum", None),
    ("ExclusiveMinimum", "exclusiveMinimum", False),
    ("MaxLength", "maxLength", None),
    ("MinLength", "minLength", None),
    ("Pattern", "pattern", ""),
    ("MaxItems", "maxItems", None),
    ("MinItems", "minItems", None),
    ("UniqueItems", "uniqueItems", False),
    ("MultipleOf", "multipleOf", None),
    ("Enum", "enum", None),
    ("MaxProperties", "maxProperties", None),
    ("MinProperties", "minProperties", None),
    ("Required", "required", None),
    ("Items", "items", None),
    ("AllOf", "allOf", None),
    ("OneOf", "oneOf", None),
    ("AnyOf", "anyOf", None),
    ("Not", "not", None),
    ("Properties", "properties", None),
    ("AdditionalProperties", "additionalProperties", None),
    ("PatternProperties", "patternProperties", None),
    ("Dependencies", "dependencies", None),
    ("AdditionalItems", "additionalItems", None),
    ("Definitions", "definitions", None),
    ("ExternalDocs", "externalDocs", None),
    ("Example", "example", None),
    ("XPreserveUnknownFields", "x-kubernetes-preserve-unknown-fields", None),
    ("XEmbeddedResource", "x-kubernetes-embedded-resource", False),
    ("XIntOrString", "x-kubernetes-int-or-string", False),
    ("XListMapKeys", "x-kubernetes-list-map-keys", None),
    ("XListType", "x-kubernetes-list-type", None),
    ("XMapType", "x-kubernetes-map-type", None),
    ("XValidations", "x-kubernetes-validations", None),
)
_ABSENT = (None, False)  # `additionalProperties: false` in a value validation: none
_SCHEMA_LISTS = frozenset({"allOf", "oneOf", "anyOf"})
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "definitions"})
_RULE_FIELDS = (
    ("Rule", "rule", ""),
    ("Message", "message", ""),
    ("MessageExpression", "messageExpression", ""),
    ("Reason", "reason", None),
    ("FieldPath", "fieldPath", ""),
    ("OptionalOldSelf", "optionalOldSelf", None),
)
# validateCustomResourceDefinitionValidation's allowedFieldsAtRootSchema.
_ROOT_WITH_STATUS = (
    "Description", "Type", "Format", "Title", "Maximum", "ExclusiveMaximum", "Minimum",
    "ExclusiveMinimum", "MaxLength", "MinLength", "Pattern", "MaxItems", "MinItems",
    "UniqueItems", "MultipleOf", "Required", "Items", "Properties", "ExternalDocs", "Example",
    "XPreserveUnknownFields", "XValidations",
)  # fmt: skip


def go_schema_json(schema: Any) -> Any:
    """The internal JSONSchemaProps as Go's json.Marshal writes it (every field, Go's names):
    what a field error whose bad value is a schema prints."""
    if not isinstance(schema, dict):
        return None
    out: dict[str, Any] = {}
    for go_name, key, zero in _GO_FIELDS:
        value = schema.get(key, zero)
        if key in _SCHEMA_LISTS and isinstance(value, list):
            value = [go_schema_json(s) for s in value]
        elif key in _SCHEMA_MAPS and isinstance(value, dict):
            value = {k: go_schema_json(s) for k, s in sorted(value.items())}
        elif key == "not":
            value = go_schema_json(value)
        elif key == "items" and value is not None:
            many = isinstance(value, list)
            value = {
                "Schema": None if many else go_schema_json(value),
                "JSONSchemas": [go_schema_json(s) for s in value] if many else None,
            }
        elif key in ("additionalProperties", "additionalItems") and value is not None:
            allows = value if isinstance(value, bool) else True
            value = {"Allows": allows, "Schema": go_schema_json(value)}
        elif key == "x-kubernetes-validations" and isinstance(value, list):
            value = [{g: r.get(k, z) for g, k, z in _RULE_FIELDS} for r in value]
        out[go_name] = value
    return out


def schema_errors(schema: dict[str, Any], path: str, *, status_enabled: bool) -> list[str]:
    """The field errors of one openAPIV3Schema at `path` (...schema.openAPIV3Schema's parent
    plus `.openAPIV3Schema`), in kube-apiserver's order."""
    errors: list[str] = []
    if status_enabled:
        errors += _root_with_status(schema, path)
    if schema.get("nullable") is True:
        errors.append(f"{path}.nullable: Forbidden: nullable cannot be true at the root")
    structural = sorted(_invariants(schema, "root", path) + _completeness(schema, path))
    # Defaults are held to their schema only in a structural one (structuraldefaulting).
    errors += structural or _default_errors(schema, path, embedded=True, in_meta=False)
    errors += openapi_errors(schema, path)
    return errors


def _default_errors(s: Any, path: str, *, embedded: bool, in_meta: bool) -> list[str]:
    """ValidateDefaults: each default outside an object's metadata must have no field its
    schema would prune and must be valid against it (the root is an embedded resource; only
    properties and items are walked). A default inside metadata is refused by the OpenAPI
    walk; its checks as metadata are not ported."""
    if not isinstance(s, dict):
        return []
    embedded = embedded or s.get("x-kubernetes-embedded-resource") is True
    in_meta = in_meta and not embedded
    errors: list[str] = []
    default = s.get("default")
    if default is not None and not in_meta:
        if unknown_fields(default, s):
            errors.append(
                f"{path}.default: Invalid value: {bad_value(default)}: must not have unknown fields"
            )
        errors += custom_resource_errors(s, default, at=f"{path}.default")
    errors += _default_errors(s.get("items"), f"{path}.items", embedded=False, in_meta=in_meta)
    for key, sub in sorted((s.get("properties") or {}).items()):
        meta = in_meta or (embedded and key in ("metadata", "apiVersion", "kind"))
        errors += _default_errors(sub, f"{path}.properties[{key}]", embedded=False, in_meta=meta)
    return errors


def _root_with_status(schema: dict[str, Any], path: str) -> list[str]:
    for go_name, key, zero in _GO_FIELDS:
        value = schema.get(key, zero)
        if value in (zero, [], {}):
            continue
        if go_name == "Type":
            if value != "object":
                return [
                    f'{path}.type: Invalid value: {bad_value(value)}: only "object" is allowed '
                    "as the type at the root of the schema if the status subresource is enabled"
                ]
            continue
        if go_name not in _ROOT_WITH_STATUS:
            allowed = "[" + " ".join(_ROOT_WITH_STATUS) + "]"
            return [
                f"{path}: Invalid value: {struct_value(go_schema_json(schema))}: only {allowed} "
                "fields are allowed at the root of the schema if the status subresource is enabled"
            ]
    return []


# -- the structural schema rules (pkg/apiserver/schema/validation.go) ----------------------------

_LEVEL_WORDS = {
    "root": "must not be empty at the root",
    "item": "must not be empty for specified array items",
    "field": "must not be empty for specified object fields",
}
# What a structural schema keeps out of its value validations (anyOf, allOf, oneOf, not).
_FORBIDDEN_NESTED = (
    ("type", "must be empty to be structural", bool),
    ("additionalProperties", "must be undefined to be structural", lambda v: v not in _ABSENT),
    ("default", "must be undefined to be structural", lambda v: v is not None),
    ("title", "must be empty to be structural", bool),
    ("description", "must be empty to be structural", bool),
    ("nullable", "must be false to be structural", lambda v: v is True),
    ("x-kubernetes-preserve-unknown-fields", "must be false to be structural", lambda v: v is True),
    ("x-kubernetes-embedded-resource", "must be false to be structural", lambda v: v is True),
    ("x-kubernetes-int-or-string", "must be false to be structural", lambda v: v is True),
    ("x-kubernetes-list-map-keys", "must be empty to be structural", bool),
    ("x-kubernetes-list-type", "must be undefined to be structural", lambda v: v is not None),
    ("x-kubernetes-map-type", "must be undefined to be structural", lambda v: v is not None),
    ("x-kubernetes-validations", "must be empty to be structural", bool),
)  # fmt: skip


def _is_int_or_string_any_of(any_of: Any) -> bool:
    return bool(any_of == [{"type": "integer"}, {"type": "string"}])


def _invariants(s: Any, level: str, path: str) -> list[str]:
    if not isinstance(s, dict):
        return []
    errors: list[str] = []
    kind = s.get("type") or ""
    items = s.get("items")
    if kind == "array" and items is None:
        errors.append(f"{path}.items: Required value: must be specified")
    errors += _invariants(items, "item", f"{path}.items")
    properties = s.get("properties") or {}
    for key, sub in properties.items():
        errors += _invariants(sub, "field", f"{path}.properties[{key}]")
    additional = s.get("additionalProperties")
    if additional is not None:
        if level == "root":
            errors.append(f"{path}.additionalProperties: Forbidden: must not be used at the root")
        errors += _invariants(additional, "field", f"{path}.additionalProperties")
    int_or_string = s.get("x-kubernetes-int-or-string") is True
    preserve = s.get("x-kubernetes-preserve-unknown-fields") is True
    embedded = s.get("x-kubernetes-embedded-resource") is True
    errors += [
        f"{path}.{key}: Invalid value: true: must be false if x-kubernetes-int-or-string is true"
        for key, on in (
            ("x-kubernetes-preserve-unknown-fields", preserve),
            ("x-kubernetes-embedded-resource", embedded),
        )
        if int_or_string and on
    ]
    errors += _value_validation(
        s, level, path, skip_any_of=_is_int_or_string_any_of(s.get("anyOf"))
    )
    if embedded and kind != "object":
        reason = "must be object if x-kubernetes-embedded-resource is true"
        errors.append(
            f"{path}.type: Invalid value: {bad_value(kind)}: {reason}"
            if kind
            else f"{path}.type: Required value: {reason}"
        )
    elif not kind and not int_or_string and not preserve:
        errors.append(f"{path}.type: Required value: {_LEVEL_WORDS[level]}")
    if embedded and additional is not None:
        errors.append(
            f"{path}.additionalProperties: Forbidden: must not be used if "
            "x-kubernetes-embedded-resource is set"
        )
    if level == "root" and kind and kind != "object":
        errors.append(f"{path}.type: Invalid value: {bad_value(kind)}: must be object at the root")
    errors += _object_fields(properties, level == "root" or embedded, level, path)
    if embedded and not preserve and not properties:
        errors.append(
            f"{path}.properties: Required value: must not be empty if "
            "x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields"
        )
    return errors


def _object_fields(properties: dict[str, Any], check: bool, level: str, path: str) -> list[str]:
    """What an object (the root, an embedded resource) may say of kind, apiVersion, metadata."""
    errors: list[str] = []
    for meta_key in ("kind", "apiVersion"):
        sub = properties.get(meta_key)
        if isinstance(sub, dict) and check and sub.get("type") != "string":
            errors.append(
                f"{path}.properties[{meta_key}].type: Invalid value: "
                f"{bad_value(sub.get('type') or '')}: must be string"
            )
    metadata = properties.get("metadata")
    if isinstance(metadata, dict):
        errors += _metadata(metadata, check, level, f"{path}.properties[metadata]")
    return errors


def _metadata(s: dict[str, Any], check: bool, level: str, path: str) -> list[str]:
    errors: list[str] = []
    if check and s.get("type") != "object":
        errors.append(
            f"{path}.type: Invalid value: {bad_value(s.get('type') or '')}: must be object"
        )
    if level == "root":
        # Only name and generateName may be said of the metadata, and nothing else of it but
        # its type and default.
        rest = {k: v for k, v in s.items() if k not in ("type", "default")}
        properties = rest.pop("properties", None) or {}
        if set(properties) - {"name", "generateName"}:
            rest["properties"] = properties
        if any(v not in (None, False, "", [], {}) for v in rest.values()):
            errors.append(
                f"{path}: Forbidden: must not specify anything other than name and generateName, "
                "but metadata is implicitly specified"
            )
    return errors


def _value_validation(s: dict[str, Any], level: str, path: str, *, skip_any_of: bool) -> list[str]:
    errors: list[str] = []
    if not skip_any_of:
        for i, sub in enumerate(s.get("anyOf") or []):
            errors += _nested(sub, level, f"{path}.anyOf[{i}]")
    for i, sub in enumerate(s.get("allOf") or []):
        skip = i == 0 and _is_int_or_string_any_of((sub or {}).get("anyOf"))
        errors += _nested(sub, level, f"{path}.allOf[{i}]", skip_any_of=skip)
    for i, sub in enumerate(s.get("oneOf") or []):
        errors += _nested(sub, level, f"{path}.oneOf[{i}]")
    if s.get("not") is not None:
        errors += _nested(s["not"], level, f"{path}.not")
    return errors


def _nested(v: Any, level: str, path: str, *, skip_any_of: bool = False) -> list[str]:
    if not isinstance(v, dict):
        return []
    errors = _value_validation(v, level, path, skip_any_of=skip_any_of)
    if isinstance(v.get("items"), dict):
        errors += _nested(v["items"], level, f"{path}.items")
    for key, sub in (v.get("properties") or {}).items():
        errors += _nested(sub, "field", f"{path}.properties[{key}]")
    for key, words, present in _FORBIDDEN_NESTED:
        if present(v.get(key)):
            errors.append(f"{path}.{key}: Forbidden: {words}")
    if "metadata" in (v.get("properties") or {}):
        errors.append(
            f"{path}.properties[metadata]: Forbidden: must not be specified in a nested context"
        )
    return errors


def _completeness(s: dict[str, Any], path: str) -> list[str]:
    """complete.go: what a root's anyOf/allOf/oneOf/not speak of must be in the schema."""
    return _complete_value(s, s, path, path)


def _complete_value(v: dict[str, Any], s: Any, s_path: str, v_path: str) -> list[str]:
    if not isinstance(s, dict):
        return [f"{s_path}: Required value: because it is defined in {v_path}"]
    errors: list[str] = []
    if isinstance(v.get("not"), dict):
        errors += _complete_nested(v["not"], s, s_path, f"{v_path}.not")
    for key in ("allOf", "anyOf", "oneOf"):
        for i, sub in enumerate(v.get(key) or []):
            if isinstance(sub, dict):
                errors += _complete_nested(sub, s, s_path, f"{v_path}.{key}[{i}]")
    return errors


def _complete_nested(v: dict[str, Any], s: Any, s_path: str, v_path: str) -> list[str]:
    if not isinstance(s, dict):
        return [f"{s_path}: Required value: because it is defined in {v_path}"]
    errors = _complete_value(v, s, s_path, v_path)
    if isinstance(v.get("items"), dict):
        errors += _complete_nested(v["items"], s.get("items"), f"{s_path}.items", f"{v_path}.items")
    declared = s.get("properties") or {}
    for key, sub in (v.get("properties") or {}).items():
        where = f"{s_path}.properties[{key}]"
        if key not in declared:
            errors.append(
                f"{where}: Required value: because it is defined in {v_path}.properties[{key}]"
            )
        elif isinstance(sub, dict):
            errors += _complete_nested(sub, declared[key], where, f"{v_path}.properties[{key}]")
    return errors
