"""A custom resource checked against its CRD's schema, as apiextensions-apiserver checks it.

kube-apiserver refuses a custom resource whose fields break its version's `openAPIV3Schema`
with a 422 naming each broken field. This is a port of what decides it (apiextensions-apiserver
v0.37.2's `ValidateCustomResource`, `ValidateCustomResourceUpdate` with ratcheting, and
`ValidateListSetsAndMaps`, over kube-openapi's `validate.SchemaValidator`), with their words:
each validator of a schema node (type, allOf/anyOf/oneOf/not, string, format, number, slice,
enum, object) in kube-openapi's order, and `kubeOpenAPIResultToFieldErrors`'s turning of its
errors into field errors (`spec.size: Invalid value: "string": spec.size in body must be of
type integer: "string"`, `spec.colour: Unsupported value: "green": supported values: "red",
"blue"`, `spec.level: Required value`). An update is ratcheted as there: an error inside a
part of the object that the update left as it was is not one.

Then the CEL rules (cel_rules.py), unless an error here blocks them. Not ported: an embedded
resource's metadata, formats beyond the common ones (`schema_formats`); kube-openapi visits
an object's properties in Go's map order, which is random: errors may come in another order.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from simulator.api.store.cel_rules import BLOCKED, blocks_rules, has_rules, rule_errors
from simulator.api.store.go_values import bad_value, go_number, json_type, same_value
from simulator.api.store.schema_formats import FORMATS

__all__ = ["custom_resource_errors"]

_IN = "body"
_NUMBER_FORMATS = {"integer": ("int32", "int64"), "number": ("float", "double")}
_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


@dataclass
class _Failure:
    """kube-openapi's `errors.Validation` (code, name, value, limit) or a plain error."""

    code: str  # type, required, enum, too_long, too_many, invalid, plain
    name: str
    message: str
    value: Any = None
    limit: Any = None


@dataclass
class _Result:
    """kube-openapi's `validate.Result`: errors, and how many checks matched (anyOf and oneOf
    keep the failure that matched most)."""

    errors: list[_Failure] = field(default_factory=list)
    matched: int = 0

    def add(self, *failures: _Failure) -> None:
        """Each failure not reported yet (by its words), as `AddErrors` keeps them."""
        for failure in failures:
            if all(failure.message != known.message for known in self.errors):
                self.errors.append(failure)

    def merge(self, *others: _Result | None) -> _Result:
        for other in others:
            if other is not None:
                self.add(*other.errors)
                self.matched += other.matched
        return self


def _fails(failure: _Failure) -> _Result:
    return _Result([failure])


# ----------------------------------------------------------------------- values


def _type_failure(path: str, type_name: str, value: Any) -> _Failure:
    shown = f': "{value}"' if isinstance(value, str) else ""
    return _Failure("type", path, f"{path} in {_IN} must be of type {type_name}{shown}", value)


# ----------------------------------------------------------------------- the validators


def _validate(
    schema: dict[str, Any], data: Any, path: str, old: Any = None, ratchet: bool = False
) -> _Result:
    """`SchemaValidator.Validate` at one node; `ratchet` and `old`: the update's correlated
    old value, whose equal is not held to the schema (ratcheting)."""
    result = _validate_node(schema, data, path, old, ratchet)
    if result.errors and ratchet and old is not None and old == data:
        return _Result(matched=result.matched)
    return result


def _validate_node(
    schema: dict[str, Any], data: Any, path: str, old: Any, ratchet: bool
) -> _Result:
    result = _Result()
    types = _types(schema)
    if data is None:
        result.merge(_check_type(schema, types, data, path))
        return result.merge(_check_enum(schema, data, path))
    kind = json_type(data)
    checks: list[tuple[bool, Callable[[], _Result | None]]] = [
        (bool(types) or bool(schema.get("format")), lambda: _check_type(schema, types, data, path)),
        (True, lambda: _check_combinators(schema, data, path)),
        (kind == "string", lambda: _check_string(schema, data, path)),
        (
            kind == "string" and _format(schema, types) in FORMATS,
            lambda: _check_format(schema, types, data, path),
        ),
        (kind in ("integer", "number"), lambda: _check_number(schema, data, path)),
        (kind == "array", lambda: _check_array(schema, data, path, old, ratchet)),
        (True, lambda: _check_enum(schema, data, path)),
        (kind == "object", lambda: _check_object(schema, data, path, old, ratchet)),
    ]
    for applies, check in checks:
        if applies:
            result.merge(check())
            result.matched += 1
    result.matched += 1
    return result


def _types(schema: dict[str, Any]) -> list[str]:
    """`ConvertJSONSchemaProps`: the type, and an int-or-string's two."""
    if schema.get("x-kubernetes-int-or-string"):
        return ["integer", "string"]
    return [schema["type"]] if schema.get("type") else []


def _format(schema: dict[str, Any], types: list[str]) -> str:
    """The format apiextensions keeps for validation (`StripUnsupportedFormatsPostProcessor`)."""
    name = str(schema.get("format") or "")
    kind = types[0] if len(types) == 1 else ""
    if kind in ("", "string"):
        return name.replace("-", "") if name.replace("-", "") in FORMATS or not name else ""
    return name if name in _NUMBER_FORMATS.get(kind, ()) else ""


def _check_type(schema: dict[str, Any], types: list[str], data: Any, path: str) -> _Result:
    """`typeValidator`."""
    if data is None:
        if types and not schema.get("nullable"):
            return _fails(_type_failure(path, ",".join(types), "null"))
        return _Result(matched=1)
    kind = json_type(data)
    wanted = _format(schema, types)
    float_int = kind == "number" and float(data).is_integer() and "integer" in types
    int_float = kind == "integer" and "number" in types
    data_format = {"integer": "int64", "number": "float64"}.get(kind, "")
    lower_int = wanted == "int64" and data_format == "int32"
    formatted = kind in types or data_format == wanted or float_int or int_float or lower_int
    if kind not in ("string", "array") and wanted and not formatted:
        return _fails(_type_failure(path, wanted, data_format))
    if not ({"integer", "number"} & set(types)) and wanted and kind in ("string", "array"):
        return _Result(matched=1)
    if not (kind in types or float_int or int_float):
        return _fails(_type_failure(path, ",".join(types), kind))
    return _Result(matched=1)


def _check_combinators(schema: dict[str, Any], data: Any, path: str) -> _Result:
    """`schemaPropsValidator`: anyOf, oneOf, allOf, not, each adding its failure."""
    main = _Result()
    if schema.get("anyOf"):
        main.merge(_any_of(schema["anyOf"], data, path))
    if schema.get("oneOf"):
        main.merge(_one_of(schema["oneOf"], data, path))
    if schema.get("allOf"):
        valid = 0
        for each in schema["allOf"]:
            result = _validate(each, data, path)
            valid += not result.errors
            main.merge(result)
        if valid != len(schema["allOf"]):
            none = ". None validated" if valid == 0 else ""
            main.add(_plain(f'"{path}" must validate all the schemas (allOf){none}'))
    if isinstance(schema.get("not"), dict) and not _validate(schema["not"], data, path).errors:
        main.add(_plain(f'"{path}" must not validate the schema (not)'))
    main.matched += 1
    return main


def _any_of(schemas: list[dict[str, Any]], data: Any, path: str) -> _Result:
    """The first alternative that holds; else the failure, and the alternative that matched
    most's errors."""
    best: _Result | None = None
    for each in schemas:
        result = _validate(each, data, path)
        if not result.errors:
            return result
        if best is None or result.matched > best.matched:
            best = result
    failed = _Result([_plain(f'"{path}" must validate at least one schema (anyOf)')])
    return failed.merge(best)


def _one_of(schemas: list[dict[str, Any]], data: Any, path: str) -> _Result:
    """Exactly one alternative holds; else the failure (and, with none, the alternative that
    matched most's errors)."""
    best: _Result | None = None
    first: _Result | None = None
    valid = 0
    for each in schemas:
        result = _validate(each, data, path)
        if not result.errors:
            valid += 1
            best = None
            first = first or result
        elif valid == 0 and (best is None or result.matched > best.matched):
            best = result
    if valid == 1:
        return first or _Result()
    found = "Found none valid" if valid == 0 else f"Found {valid} valid alternatives"
    failed = _Result([_plain(f'"{path}" must validate one and only one schema (oneOf). {found}')])
    return failed.merge(best)


def _plain(message: str) -> _Failure:
    return _Failure("plain", "", message)


def _check_string(schema: dict[str, Any], data: str, path: str) -> _Result | None:
    """`stringValidator`: the first of maxLength, minLength and pattern that fails."""
    length = len(data)
    if schema.get("maxLength") is not None and length > schema["maxLength"]:
        limit = int(schema["maxLength"])
        message = f"{path} in {_IN} should be at most {limit} chars long"
        return _fails(_Failure("too_long", path, message, data, limit))
    if schema.get("minLength") is not None and length < schema["minLength"]:
        message = f"{path} in {_IN} should be at least {int(schema['minLength'])} chars long"
        return _fails(_Failure("invalid", path, message, data))
    pattern = schema.get("pattern")
    regex = _regex(str(pattern)) if pattern else None
    if regex is not None and not regex.search(data):
        message = f"{path} in {_IN} should match '{pattern}'"
        return _fails(_Failure("invalid", path, message, data))
    return None


@cache
def _regex(pattern: str) -> re.Pattern[str] | None:
    """Go's RE2 pattern as Python's (`\\z` is `\\Z`); None for one Python cannot read (a
    Unicode class such as `\\pL`): that check is left out rather than failing the write."""
    try:
        return re.compile(pattern.replace(r"\z", r"\Z"))
    except re.error:
        return None


def _check_format(schema: dict[str, Any], types: list[str], data: str, path: str) -> _Result | None:
    """`formatValidator`: a string that is not of its format reads as a type error."""
    name = _format(schema, types)
    if FORMATS[name](data):
        return None
    return _fails(_type_failure(path, str(schema["format"]), data))


def _check_number(schema: dict[str, Any], data: float, path: str) -> _Result:
    """`numberValidator`: the value in its type's range, then multipleOf, minimum and maximum,
    each bound checked natively (an integer against the bound made an integer, as Go converts
    it) when the bound itself is in the type's range."""
    types = _types(schema)
    kind = types[0] if len(types) == 1 and types[0] in _NUMBER_FORMATS else ""
    wanted = _format(schema, types) if kind else ""
    result = _Result()
    result.add(*_out_of_range(data, kind, wanted, "Checked", path))
    factor = schema.get("multipleOf")
    if factor is not None:
        first = _out_of_range(factor, kind, wanted, "MultipleOf", path)
        result.add(*first, *_multiple_of(path, data, factor, native=not first))
    for bound, words in (("minimum", "greater than"), ("maximum", "less than")):
        limit = schema.get(bound)
        if limit is None:
            continue
        first = _out_of_range(limit, kind, wanted, f"{bound.title()} boundary", path)
        if not first and isinstance(data, int):
            limit = int(limit)  # Go's int64(max): truncated
        exclusive = bool(schema.get("exclusive" + bound.title()))
        beyond = data < limit if bound == "minimum" else data > limit
        if beyond or (exclusive and data == limit):
            phrase = words if exclusive else f"{words} or equal to"
            message = f"{path} in {_IN} should be {phrase} {go_number(limit)}"
            result.add(*first, _Failure("invalid", path, message, data))
        else:
            result.add(*first)
    result.matched += 1
    return result


def _out_of_range(value: float, kind: str, wanted: str, prefix: str, path: str) -> list[_Failure]:
    """`IsValueValidAgainstRange`: an integer type's value must read as one of its format
    (int64 by default), a float's as a float32; a plain error."""
    shown = go_number(value)
    fits = True
    if kind == "integer":
        low, high = _INT_RANGES.get(wanted, _INT_RANGES["int64"])
        fits = re.fullmatch(r"-?\d+", shown) is not None and low <= int(shown) <= high
    elif kind == "number" and wanted == "float":
        fits = abs(float(value)) <= 3.4028234663852886e38
    if fits:
        return []
    described = f"with format {wanted}" if wanted else "(default format)"
    return [_plain(f"{prefix} value must be of type {kind or 'number'} {described} in {path}")]


def _multiple_of(path: str, data: float, factor: float, *, native: bool) -> list[_Failure]:
    """`MultipleOfNativeType` (an integer against the factor made an integer) or
    `MultipleOf` (as floats, within go-openapi's tolerance)."""
    if native and isinstance(data, int):
        whole = int(factor)
        if whole <= 0:
            return [_positive_factor(path, whole)]
        if data % whole == 0 or (data < 0 and -data % whole == 0):
            return []
        return [_Failure("invalid", path, f"{path} in {_IN} should be a multiple of {whole}", data)]
    if factor <= 0:
        return [_positive_factor(path, factor)]
    quotient = (1 / factor * data) if factor < 1 else data / factor
    nearest = round(quotient)
    if quotient == nearest or abs(quotient - nearest) / (abs(quotient) + abs(nearest)) < 1e-9:
        return []
    message = f"{path} in {_IN} should be a multiple of {go_number(factor)}"
    return [_Failure("invalid", path, message, data)]


def _positive_factor(path: str, factor: float) -> _Failure:
    message = f"factor MultipleOf declared for {path} must be positive: {go_number(factor)}"
    return _Failure("invalid", path, message, factor)


def _check_array(
    schema: dict[str, Any], data: list[Any], path: str, old: Any, ratchet: bool
) -> _Result:
    """`schemaSliceValidator`: each item, then minItems, maxItems, uniqueItems."""
    result = _Result()
    items = schema.get("items")
    if isinstance(items, dict):
        olds = _correlated_items(schema, data, old) if ratchet else [None] * len(data)
        for index, (item, was) in enumerate(zip(data, olds, strict=True)):
            result.merge(_validate(items, item, f"{path}[{index}]", was, ratchet))
    result.add(*_count_failures(schema, path, len(data), "Items"))
    if schema.get("uniqueItems") and any(
        same_value(a, b) for i, a in enumerate(data) for b in data[:i]
    ):
        result.add(_Failure("invalid", path, f"{path} in {_IN} shouldn't contain duplicates"))
    result.matched += 1
    return result


def _count_failures(schema: dict[str, Any], path: str, count: int, unit: str) -> list[_Failure]:
    """min/maxItems or min/maxProperties (`unit`): too few is an invalid value, too many a
    TooMany (which apimachinery words in items either way)."""
    noun, low, high = unit.lower(), schema.get(f"min{unit}"), schema.get(f"max{unit}")
    failures = []
    if low is not None and count < low:
        message = f"{path} in {_IN} should have at least {int(low)} {noun}"
        failures.append(_Failure("invalid", path, message, count))
    if high is not None and count > high:
        message = f"{path} in {_IN} should have at most {int(high)} {noun}"
        failures.append(_Failure("too_many", path, message, count, int(high)))
    return failures


def _correlated_items(schema: dict[str, Any], data: list[Any], old: Any) -> list[Any]:
    """Ratcheting's correlation of a list's items with the old list's: a map-list's by their
    keys; no other list's items are correlated (the list as a whole still is)."""
    keys = schema.get("x-kubernetes-list-map-keys") or []
    if schema.get("x-kubernetes-list-type") != "map" or not keys or not isinstance(old, list):
        return [None] * len(data)
    by_key = {_item_key(item, keys): item for item in old if isinstance(item, dict)}
    return [by_key.get(_item_key(item, keys)) if isinstance(item, dict) else None for item in data]


def _item_key(item: dict[str, Any], keys: list[str]) -> str:
    return json.dumps([item.get(key) for key in keys])


def _check_enum(schema: dict[str, Any], data: Any, path: str) -> _Result | None:
    """`basicCommonValidator`: one of the enum's values (null is none of them)."""
    allowed = schema.get("enum")
    if not allowed or (data is not None and any(same_value(data, value) for value in allowed)):
        return None
    message = f"{path} in {_IN} should be one of {allowed}"
    return _fails(_Failure("enum", path, message, data, list(allowed)))


def _check_object(
    schema: dict[str, Any], data: dict[str, Any], path: str, old: Any, ratchet: bool
) -> _Result:
    """`objectValidator`: property counts, additional properties, each property, required."""
    result = _Result()
    result.add(*_count_failures(schema, path, len(data), "Properties"))
    properties: dict[str, Any] = schema.get("properties") or {}
    olds = old if ratchet and isinstance(old, dict) else {}
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        for key, value in data.items():
            if key not in properties:
                result.merge(_validate(extra, value, _child(path, key), olds.get(key), ratchet))
    for name, child in properties.items():
        if name in data:
            result.merge(_validate(child, data[name], _child(path, name), olds.get(name), ratchet))
    for name in schema.get("required") or ():
        if name not in data:
            result.add(
                _Failure("required", f"{path}.{name}", f"{path}.{name} in {_IN} is required")
            )
    return result


def _child(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


# ----------------------------------------------------------------------- list types


def _list_errors(schema: dict[str, Any], data: Any, path: str) -> list[str]:
    """`ValidateListSetsAndMaps`: a set's items and a map-list's keys each once."""
    errors: list[str] = []
    if isinstance(data, dict):
        properties = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        for key, value in data.items():
            child = properties.get(key, extra if isinstance(extra, dict) else None)
            if isinstance(child, dict):
                errors += _list_errors(child, value, _child(path, key))
    elif isinstance(data, list):
        items = schema.get("items") if isinstance(schema.get("items"), dict) else None
        kind = schema.get("x-kubernetes-list-type")
        keys = schema.get("x-kubernetes-list-map-keys") or []
        seen: list[Any] = []
        for index, item in enumerate(data):
            if kind == "set":
                if any(same_value(item, each) for each in seen):
                    errors.append(f"{path}[{index}]: Duplicate value: {bad_value(item)}")
                seen.append(item)
            elif kind == "map" and isinstance(item, dict):
                key = {name: item[name] for name in keys if name in item}
                if key in seen:
                    errors.append(f"{path}[{index}]: Duplicate value: {bad_value(key)}")
                seen.append(key)
            if items is not None:
                errors += _list_errors(items, item, f"{path}[{index}]")
    return errors


# ----------------------------------------------------------------------- field errors


def _field_error(failure: _Failure, at: str) -> str:
    """`kubeOpenAPIResultToFieldErrors`: one failure as apimachinery prints a field error, its
    path under `at` (a CRD's default: `...properties[x].default`; a resource: none)."""
    name = failure.name.removeprefix(".")
    name = f"{at}.{name}" if at and name else at or name
    if failure.code == "plain":  # a path-less error: apimachinery prints a nil path so
        return f'<nil>: Invalid value: "": {failure.message}'
    if failure.code == "required":
        return f"{name}: Required value"
    if failure.code == "enum":
        values = ", ".join(
            json.dumps(v if isinstance(v, str) else json.dumps(v, separators=(",", ":")))
            for v in failure.limit
        )
        return f"{name}: Unsupported value: {bad_value(failure.value)}: supported values: {values}"
    if failure.code == "too_long":
        unit = "byte" if failure.limit == 1 else "bytes"
        return f"{name}: Too long: may not be more than {failure.limit} {unit}"
    if failure.code == "too_many":
        items = "item" if failure.limit == 1 else "items"
        return f"{name}: Too many: {failure.value}: must have at most {failure.limit} {items}"
    value = "" if failure.value is None else failure.value
    return f"{name}: Invalid value: {bad_value(value)}: {failure.message}"


def custom_resource_errors(
    schema: dict[str, Any], obj: Any, old: dict[str, Any] | None = None, *, at: str = ""
) -> list[str]:
    """The field errors kube-apiserver finds in custom resource `obj` against its version's
    schema (an update's `old` ratchets them), list sets and maps' duplicates after them; `at`
    names where a value that is not a resource is (a CRD's default)."""
    try:
        result = _validate(schema, obj, "", old, ratchet=old is not None)
        errors = [_field_error(failure, at) for failure in result.errors]
        errors += _list_errors(schema, obj, at)
        if at or not isinstance(obj, dict):  # a CRD's default: its rules are cel-go's to cost
            return errors
        if blocks_rules(errors):
            return [*errors, BLOCKED] if has_rules(schema) else errors
        return errors + rule_errors(schema, obj, old)
    except (TypeError, ValueError):
        # A schema kube-apiserver would have refused with its CRD (a string for a number, say;
        # one stored before the fake API checked CRDs) holds nothing against the object.
        return []
