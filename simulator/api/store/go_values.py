"""JSON values as Go sees them in kube-apiserver's validation: their JSON type, how `%v` prints
a number, how apimachinery prints a field error's bad value, and reflect.DeepEqual across JSON
numbers."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

__all__ = ["bad_value", "go_number", "json_type", "not_supported", "same_value", "struct_value"]


def json_type(data: Any) -> str:
    """The JSON type go-openapi's type validator infers from a decoded value."""
    if isinstance(data, bool):
        return "boolean"
    if isinstance(data, int):
        return "integer"
    if isinstance(data, float):
        return "number"
    if isinstance(data, str):
        return "string"
    if isinstance(data, list):
        return "array"
    return "object" if isinstance(data, dict) else ""


def go_number(value: Any) -> str:
    """How Go's `%v` prints a JSON number, and the rest as kube-openapi's messages show it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return repr(value)
    return str(value)


def same_value(data: Any, other: Any) -> bool:
    """reflect.DeepEqual after Go's conversion: numbers by value, a bool only to a bool."""
    if isinstance(data, bool) or isinstance(other, bool):
        return isinstance(data, bool) and isinstance(other, bool) and data == other
    return bool(data == other)


def bad_value(value: Any) -> str:
    """A field error's bad value as apimachinery prints it: a string quoted, a number or bool
    as Go's `%v`, anything else as its JSON."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool | int | float):
        return go_number(value)
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def not_supported(path: str, value: Any, supported: Iterable[str]) -> str:
    """field.NotSupported: `path: Unsupported value: "x": supported values: "a", "b"`."""
    listed = ", ".join(f'"{s}"' for s in supported)
    return f"{path}: Unsupported value: {bad_value(value)}: supported values: {listed}"


def struct_value(value: Any) -> str:
    """A Go struct's bad value as json.Marshal writes it: its fields in their order, as given
    (maps inside it are Go maps: their keys sorted by whoever builds `value`)."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    # Go's encoder escapes what could end an HTML script.
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
