"""structured-merge-diff's check of an applied configuration against its kind's types
(`typed.AsTyped`, validatingObjectWalker), in its words.

kube-apiserver makes a server-side apply's configuration typed before anything else, and a value
of the wrong shape or scalar type, or a field a struct does not declare, fails that: the error
goes back as a 500 with no reason, `failed to create typed patch object (...)`, whatever the
field validation asked for. The messages print the offending value as Go's fmt does
(`got string`, `got &value.valueUnstructured{Value:1}`, `got &{x}`); a map's walk stops at its
first undeclared field.
"""

from __future__ import annotations

import json
from typing import Any

from simulator.api.fields.fieldsets import FieldsError, go_json, go_map, go_type
from simulator.api.fields.schema import Atom, ListType, MapType, Ref, resolve
from simulator.api.fields.typed import item_element

__all__ = ["check_typed"]

Errors = list[tuple[str, str]]  # (path, message)


def check_typed(value: dict[str, Any], root: Ref) -> None:
    """FieldsError with structured-merge-diff's ValidationErrors text, when `value` cannot be
    made typed."""
    errors = _walk(value, root)
    if len(errors) == 1:
        raise FieldsError(_said(*errors[0]))
    if errors:
        raise FieldsError("\n".join(["errors:", *(f"  {_said(*e)}" for e in errors)]))


def _said(path: str, message: str) -> str:
    return f"{path}: {message}" if path else message


def _walk(value: Any, ref: Ref) -> Errors:
    """resolveSchema: the part of the type the value's shape picks (deduceAtom), else the type
    as it is, tried as a map, then a scalar, then a list (handleAtom)."""
    atom = resolve(ref)
    if isinstance(value, dict) and atom.map is not None:
        return _map(value, atom.map)
    if isinstance(value, list) and atom.list is not None:
        return _list(value, atom.list)
    if atom.map is not None and not (_is_scalar(value) and atom.scalar):
        return _map(value, atom.map)
    if atom.scalar:
        return _scalar(value, atom)
    return _list(value, atom.list) if atom.list is not None else []


def _map(value: Any, kind: MapType) -> Errors:
    if value is None:
        return []
    if not isinstance(value, dict):
        return [("", f"expected map, got {_go_v(value)}")]
    errors: Errors = []
    for key, member in value.items():
        ref = kind.fields.get(key) or kind.elem
        if ref is None:
            errors.append((f".{key}", "field not declared in schema"))
            break
        errors += [(f".{key}{path}", message) for path, message in _walk(member, ref)]
    return errors


def _list(value: Any, kind: ListType) -> Errors:
    if value is None:
        return []
    if not isinstance(value, list):
        return [("", f"expected list, got {_go_v(value)}")]
    errors: Errors = []
    seen: set[str] = set()
    for index, item in enumerate(value):
        try:
            element = _element(kind, index, item)
        except FieldsError as exc:  # no path element: nothing deeper can be said
            return [*errors, ("", f"element {index}: {exc}")]
        if kind.associative and element in seen:  # an apply configuration lists each once
            errors.append(("", f"duplicate entries for key {element}"))
        seen.add(element)
        errors += [(element + path, message) for path, message in _walk(item, kind.elem)]
    return errors


def _element(kind: ListType, index: int, item: Any) -> str:
    """fieldpath.PathElement's String() of an item: `[3]`, `[name="c",port=80]`, `[=value]`
    (an associative item's key as the field manager finds it, key defaults too; FieldsError,
    in its words, when it has none)."""
    if not kind.associative:
        return f"[{index}]"
    element = item_element(kind, item)  # `k:{"name":"c","port":80}` or `v:"value"`
    if element.startswith("v:"):
        return f"[={element[2:]}]"
    keys = json.loads(element[2:])
    return "[" + ",".join(f"{name}={go_json(value)}" for name, value in keys.items()) + "]"


def _scalar(value: Any, atom: Atom) -> Errors:
    if value is None:
        return []
    kind = atom.scalar_type
    if kind == "numeric" and not _is_number(value):
        return [("", f"expected numeric (int or float), got {go_type(value)}")]
    if kind == "string" and not isinstance(value, str):
        return [("", f"expected string, got &value.valueUnstructured{{Value:{_go_sharp(value)}}}")]
    if kind == "boolean" and not isinstance(value, bool):
        return [("", f"expected boolean, got {_go_v(value)}")]
    if kind == "untyped" and not _is_scalar(value):
        return [("", f"expected any scalar, got {_go_v(value)}")]
    return []


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool))


# ----------------------------------------------------------------------- Go's fmt of a value


def _go_v(value: Any) -> str:
    """%v of a value.Value (a pointer to a struct holding the value): `&{...}`."""
    return "&{" + go_map(value) + "}"


def _go_sharp(value: Any) -> str:
    """%#v of a decoded value: Go syntax (`map[string]interface {}{"a":1}`)."""
    if isinstance(value, dict):
        items = ", ".join(f"{json.dumps(k)}:{_go_sharp(value[k])}" for k in sorted(value))
        return "map[string]interface {}{" + items + "}"
    if isinstance(value, list):
        return "[]interface {}{" + ", ".join(_go_sharp(item) for item in value) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "interface {}(nil)"
    return go_map(value) if _is_number(value) else json.dumps(value)
