"""A custom resource held to its CRD's `x-kubernetes-validations` rules, as apiextensions-apiserver
v0.37.2's CEL validator holds it (pkg/apiserver/schema/cel/validation.go), with cel-python
evaluating the expressions.

Each rule is evaluated at its schema node with `self` bound to the value there (at the root:
apiVersion, kind, and of the metadata only name and generateName) and, on an update, `oldSelf`
to the old value where it can be correlated (a property of a granular or atomic map, an item of
a list-type map by its keys). A rule that reads `oldSelf` is skipped without one; a rule that
does not is ratcheted (skipped) where the update left the value as it was. A rule that fails
is a field error at its node (or its fieldPath) with its message, its messageExpression's or
`failed rule: <rule>`, and its reason's type; an object or a list is not printed as the bad
value. Nothing is checked when the schema's own errors include one that blocks the rules
(kube-apiserver then says so instead).

cel-python is not cel-go: cel-go's string extensions and Kubernetes' list functions are added
to it here; a rule it still cannot compile or evaluate (Kubernetes' quantity, URL, IP and
regex libraries, optionals, an unusual overload) is not checked rather than refused with words
cel-go would not use; an absent field read is refused as cel-go refuses it (`no such key`).
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Any

from simulator.api.store.go_values import bad_value

if TYPE_CHECKING:
    import celpy

__all__ = ["BLOCKED", "blocks_rules", "has_rules", "rule_errors"]

_log = logging.getLogger(__name__)
BLOCKED = (
    "<nil>: Invalid value: null: some validation rules were not checked because the object "
    "was invalid; correct the existing errors to complete validation"
)
# The field error types whose presence stops the rules (strategy.go's hasBlockingErr).
_BLOCKING = ("Required value", "Unsupported value", "Too long", "Too many")
_META = ("name", "generateName")


def blocks_rules(errors: list[str]) -> bool:
    """Whether `errors` (a schema's, field: message) hold one that keeps the rules from running."""
    for error in errors:
        message = error.split(": ", 1)[-1]
        if message.startswith(_BLOCKING) or " must be of type " in message:
            return True
    return False


def rule_errors(schema: dict[str, Any], obj: dict[str, Any], old: Any = None) -> list[str]:
    """The field errors of every rule in `schema` (a version's openAPIV3Schema) on `obj`."""
    if not has_rules(schema):
        return []
    return _walk(schema, obj, old, "", root=True)


def has_rules(schema: Any) -> bool:
    """Whether `schema` holds a validation rule anywhere."""
    if not isinstance(schema, dict):
        return False
    if schema.get("x-kubernetes-validations"):
        return True
    # Rules stand on properties, items and additional properties only: a structural schema
    # forbids them inside allOf, anyOf, oneOf and not (crd_schema_rules.py).
    children = [schema.get("items"), schema.get("additionalProperties")]
    children += list((schema.get("properties") or {}).values())
    return any(has_rules(child) for child in children)


def _walk(schema: Any, value: Any, old: Any, path: str, *, root: bool = False) -> list[str]:
    if not isinstance(schema, dict) or value is None:
        return []
    errors = _expressions(schema, value, old, path, root=root)
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        olds = _correlated_items(schema, old)
        for i, item in enumerate(value):
            errors += _walk(schema["items"], item, olds(item), f"{path}[{i}]")
    elif isinstance(value, dict):
        correlatable = schema.get("x-kubernetes-map-type") in (None, "granular", "atomic")
        old_map = old if correlatable and isinstance(old, dict) else {}
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for key, item in value.items():
                errors += _walk(extra, item, old_map.get(key), f"{path}[{key}]")
        properties = schema.get("properties") or {}
        for key, item in value.items():
            if key in properties:
                child = f"{path}.{key}" if path else key
                errors += _walk(properties[key], item, old_map.get(key), child)
    return errors


def _correlated_items(schema: dict[str, Any], old: Any) -> Any:
    """An item's old self: in a list-type map, the old item with the same keys; else none."""
    keys = schema.get("x-kubernetes-list-map-keys") or []
    if schema.get("x-kubernetes-list-type") != "map" or not isinstance(old, list) or not keys:
        return lambda item: None
    by_key = {tuple(repr(o.get(k)) for k in keys): o for o in old if isinstance(o, dict)}
    return lambda item: (
        by_key.get(tuple(repr(item.get(k)) for k in keys)) if isinstance(item, dict) else None
    )


def _expressions(
    schema: dict[str, Any], value: Any, old: Any, path: str, *, root: bool
) -> list[str]:
    errors: list[str] = []
    rules = schema.get("x-kubernetes-validations") or []
    if not rules:
        return errors
    self_value = _root_view(value) if root else value
    old_value = _root_view(old) if root and isinstance(old, dict) else old
    for rule in rules:
        if not isinstance(rule, dict):
            continue
        expression = str(rule.get("rule") or "")
        uses_old = "oldSelf" in expression
        if uses_old and old is None:
            continue  # a transition rule checks only an update with an old value
        if not uses_old and old is not None and old == value:
            continue  # ratcheted: the update left this value as it was
        program = _program(expression)
        if program is None:
            continue
        activation = {"self": _to_cel(self_value)}
        if uses_old:
            activation["oldSelf"] = _to_cel(old_value)
        try:
            result = program.evaluate(activation)
        except Exception as exc:  # cel-python raises its own and Python's errors
            errors += _evaluation_error(exc, schema, path, rule)
            continue
        if (isinstance(result, bool) or _is(result, "BoolType")) and not result:
            errors.append(_failed(schema, value, path, rule, activation))
    return errors


def _root_view(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata")
    kept = {k: v for k, v in meta.items() if k in _META} if isinstance(meta, dict) else {}
    return {**obj, "metadata": kept}


@functools.cache
def _cel() -> celpy.Environment:
    """cel-python and its parser, loaded by the first rule (0.2 s: not at every start)."""
    import celpy

    return celpy.Environment()


def _to_cel(value: Any) -> Any:
    from celpy.adapter import json_to_cel

    return json_to_cel(value)


def _is(value: Any, kind: str) -> bool:
    from celpy import celtypes

    return isinstance(value, getattr(celtypes, kind))


@functools.cache
def _library() -> dict[str, Any]:
    """Of the CEL libraries Kubernetes adds, cel-go's string extensions and its own list
    functions that cel-python lacks, on cel-python's types (a method call is a call with the
    target first)."""
    from celpy.celtypes import BoolType, IntType, ListType, StringType

    def index_of(target: Any, item: Any, start: int = 0) -> IntType:
        if isinstance(target, str):
            return IntType(target.find(item, int(start)))
        return IntType(next((i for i, x in enumerate(target) if x == item), -1))

    def last_index_of(target: Any, item: Any) -> IntType:
        if isinstance(target, str):
            return IntType(target.rfind(item))
        return IntType(max((i for i, x in enumerate(target) if x == item), default=-1))

    return {
        "lowerAscii": lambda s: StringType(s.lower()),
        "upperAscii": lambda s: StringType(s.upper()),
        "trim": lambda s: StringType(s.strip()),
        "split": lambda s, sep, n=-1: ListType(
            [StringType(x) for x in (s.split(sep, int(n) - 1) if int(n) > 0 else s.split(sep))]
        ),
        "join": lambda items, sep="": StringType(str(sep).join(items)),
        "replace": lambda s, old, new, n=-1: StringType(s.replace(old, new, int(n))),
        "substring": lambda s, start, end=None: StringType(
            s[int(start) :] if end is None else s[int(start) : int(end)]
        ),
        "charAt": lambda s, i: StringType(s[int(i)] if int(i) < len(s) else ""),
        "indexOf": index_of,
        "lastIndexOf": last_index_of,
        "isSorted": lambda items: BoolType(list(items) == sorted(items)),
        "sum": lambda items: functools.reduce(lambda a, b: a + b, items, IntType(0)),
        "min": min,
        "max": max,
    }


@functools.lru_cache(maxsize=512)
def _program(expression: str) -> Any:
    """The compiled rule; None when cel-python cannot compile it (cel-go may: not checked)."""
    try:
        return _cel().program(_cel().compile(expression), functions=_library())
    except Exception:  # lark's and celpy's errors alike
        _log.debug("CEL rule not checked (cel-python cannot compile it): %s", expression)
        return None


def _evaluation_error(
    exc: Exception, schema: dict[str, Any], path: str, rule: dict[str, Any]
) -> list[str]:
    """cel-go's words for reading an absent field; other failures are not checked here."""
    detail = str(exc.args[0]) if exc.args else ""
    prefix = "no such member in mapping: "
    if not detail.startswith(prefix):
        return []
    key = detail.removeprefix(prefix).strip("'\"")
    where = path or "<nil>"
    return [
        f"{where}: Invalid value: {_type_value(schema)}: no such key: {key} evaluating rule: "
        f"{_rule_text(rule)}"
    ]


def _type_value(schema: dict[str, Any]) -> str:
    return bad_value(str(schema.get("type") or ""))


def _rule_text(rule: dict[str, Any]) -> str:
    message = str(rule.get("message") or "").strip()
    return message or str(rule.get("rule") or "").strip()


def _failed(
    schema: dict[str, Any], value: Any, path: str, rule: dict[str, Any], activation: Any
) -> str:
    where = path
    field_path = str(rule.get("fieldPath") or "").strip()
    if field_path:
        where = f"{path}{field_path}" if path else field_path.lstrip(".")
    where = where or "<nil>"
    detail = _message_expression(rule, activation)
    if detail is None:
        message = str(rule.get("message") or "").strip()
        detail = message or f"failed rule: {_rule_text(rule)}"
    reason = rule.get("reason")
    if reason == "FieldValueForbidden":
        return f"{where}: Forbidden: {detail}"
    if reason == "FieldValueRequired":
        return f"{where}: Required value: {detail}"
    shown = schema.get("type") in ("object", "array")
    if reason == "FieldValueDuplicate":
        return f"{where}: Duplicate value" + ("" if shown else f": {bad_value(value)}")
    return f"{where}: Invalid value" + ("" if shown else f": {bad_value(value)}") + f": {detail}"


def _message_expression(rule: dict[str, Any], activation: Any) -> str | None:
    expression = str(rule.get("messageExpression") or "")
    program = _program(expression) if expression.strip() else None
    if program is None:
        return None
    try:
        result = program.evaluate(activation)
    except Exception:  # a failing messageExpression falls back to the message
        return None
    return str(result) if isinstance(result, str) and result.strip() else None
