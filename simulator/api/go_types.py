"""Whether a request body decodes into kube-apiserver's Go types, and Go's words when it does not.

kube-apiserver decodes a built-in kind's body into its Go struct, so a value of the wrong JSON
type (`"data": {"a": 1}` in a ConfigMap) is a 400 before any validation, worded by Go's
decoder: `json: cannot unmarshal number into Go struct field ConfigMap.data of type string`.
The Go types are read from kube-apiserver's own OpenAPI v3 documents (`openapi_assets`): a
component's name gives its Go package and struct (`io.k8s.api.apps.v1.DeploymentSpec` is
`v1.DeploymentSpec`), a property's type and format its Go type (`integer`/`int32` is int32).
Without the documents nothing is checked. Named string types (`v1.Protocol`) read as `string`:
the documents do not keep those names.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from simulator.api import openapi_assets
from simulator.api.go_json import base64_error, json_kind

__all__ = ["component_error", "type_error"]

_REF = "#/components/schemas/"
_META = "io.k8s.apimachinery.pkg.apis.meta.v1."
_QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
_INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
# Decoded by their own UnmarshalJSON from a JSON string (Go names the inner string's type).
_FROM_STRING = frozenset({f"{_META}Time", f"{_META}MicroTime"})
_QUANTITY_SYNTAX = (
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
)
_NAMED = {
    _QUANTITY: "resource.Quantity",
    _INT_OR_STRING: "intstr.IntOrString",
    f"{_META}Time": "v1.Time",
    f"{_META}MicroTime": "v1.MicroTime",
}
_INT_RANGES = {"int32": 2**31, "int64": 2**63}


class _Mismatch(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@cache
def _components(group: str, version: str) -> tuple[dict[str, Any], dict[tuple[str, str, str], str]]:
    """A group version's schemas, and its kinds' components by (group, version, kind): core
    v1's document also holds what its subresources take (an Eviction, a TokenRequest)."""
    doc = openapi_assets.v3_document(group, version) or {}
    schemas: dict[str, Any] = (doc.get("components") or {}).get("schemas") or {}
    roots = {
        (str(gvk.get("group", "")), str(gvk.get("version")), str(gvk.get("kind"))): name
        for name, schema in schemas.items()
        for gvk in schema.get("x-kubernetes-group-version-kind") or []
    }
    return schemas, roots


def type_error(group: str, version: str, kind: str, obj: Any) -> str | None:
    """Go's first decoding error for `obj` as the built-in kind, or None when it decodes."""
    for document in ((group, version), ("", "v1")):
        schemas, roots = _components(*document)
        root = roots.get((group, version, kind))
        if root:
            return _first_error(schemas, root, obj)
    return None


def component_error(group: str, version: str, component: str, obj: Any) -> str | None:
    """The same for a named component of a group version's document (`...meta.v1.DeleteOptions`)."""
    schemas, _ = _components(group, version)
    return _first_error(schemas, component, obj) if component in schemas else None


def _first_error(schemas: dict[str, Any], root: str, obj: Any) -> str | None:
    try:
        _Walk(schemas).value(obj, {"$ref": _REF + root}, "", ())
    except _Mismatch as exc:
        return exc.message
    return None


class _Walk:
    """Go's decoder over one body: the first mismatch, in the body's order, is the answer."""

    def __init__(self, schemas: dict[str, Any]) -> None:
        self.schemas = schemas

    def resolve(self, schema: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        ref = schema.get("$ref") or next(
            (part["$ref"] for part in schema.get("allOf") or () if "$ref" in part), ""
        )
        name = str(ref).removeprefix(_REF)
        return (name, self.schemas.get(name) or {}) if name else ("", schema)

    def go_type(self, schema: dict[str, Any]) -> str:
        name, resolved = self.resolve(schema)
        if name in _NAMED:
            return _NAMED[name]
        if name and "properties" in resolved:
            return ".".join(name.rsplit(".", 2)[-2:])
        kind, fmt = resolved.get("type"), resolved.get("format")
        if kind == "array":
            return "[]" + self.go_type(resolved.get("items") or {})
        if kind == "object" and isinstance(resolved.get("additionalProperties"), dict):
            return "map[string]" + self.go_type(resolved["additionalProperties"])
        if kind == "integer":
            return str(fmt or "int64")
        scalars = {"boolean": "bool", "number": "float64", "string": "string"}
        return "[]uint8" if fmt == "byte" else scalars.get(str(kind), "interface {}")

    def value(self, value: Any, schema: dict[str, Any], struct: str, path: tuple[str, ...]) -> None:
        if value is None:
            return  # null decodes into every Go type, as its zero value
        name, resolved = self.resolve(schema)
        if name == _QUANTITY:
            if not isinstance(value, str | int | float) or isinstance(value, bool):
                raise _Mismatch(_QUANTITY_SYNTAX)
            return
        if name == _INT_OR_STRING:
            if not isinstance(value, str):
                self.integer(value, "int32", struct, path)
            return
        if name in _FROM_STRING:
            self.expect(isinstance(value, str), value, "string", struct, path)
            return
        if name and "properties" in resolved:
            self.struct(value, name, resolved, struct, path)
            return
        self.inline(value, resolved, struct, path)

    def struct(
        self,
        value: Any,
        name: str,
        schema: dict[str, Any],
        struct: str,
        path: tuple[str, ...],
    ) -> None:
        go_type = ".".join(name.rsplit(".", 2)[-2:])
        self.expect(isinstance(value, dict), value, go_type, struct, path)
        properties = schema["properties"]
        inner = name.rsplit(".", 1)[-1]
        for key, item in value.items():
            if key in properties:
                self.value(item, properties[key], inner, (*path, key))

    def inline(
        self, value: Any, schema: dict[str, Any], struct: str, path: tuple[str, ...]
    ) -> None:
        kind = schema.get("type")
        if kind == "array":
            self.expect(isinstance(value, list), value, self.go_type(schema), struct, path)
            for item in value:
                self.value(item, schema.get("items") or {}, struct, path)
        elif kind == "object" and isinstance(schema.get("additionalProperties"), dict):
            self.expect(isinstance(value, dict), value, self.go_type(schema), struct, path)
            for item in value.values():
                self.value(item, schema["additionalProperties"], struct, path)
        elif kind == "string":
            self.expect(isinstance(value, str), value, self.go_type(schema), struct, path)
            if schema.get("format") == "byte" and (problem := base64_error(value)):
                raise _Mismatch(problem)  # base64's own error, not wrapped in json's
        elif kind == "boolean":
            self.expect(isinstance(value, bool), value, "bool", struct, path)
        elif kind == "integer":
            self.integer(value, str(schema.get("format") or "int64"), struct, path)
        elif kind == "number":
            number = isinstance(value, int | float) and not isinstance(value, bool)
            self.expect(number, value, "float64", struct, path)

    def integer(self, value: Any, go_type: str, struct: str, path: tuple[str, ...]) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.expect(False, value, go_type, struct, path)
            return
        limit = _INT_RANGES.get(go_type, 2**63)
        if isinstance(value, float) or not -limit <= value < limit:
            # Go names the number itself when it is one, but not an integer of that size.
            raise _Mismatch(_message(f"number {value!r}", go_type, struct, path))

    @staticmethod
    def expect(ok: bool, value: Any, go_type: str, struct: str, path: tuple[str, ...]) -> None:
        if not ok:
            raise _Mismatch(_message(json_kind(value), go_type, struct, path))


def _message(found: str, go_type: str, struct: str, path: tuple[str, ...]) -> str:
    if not path:
        return f"json: cannot unmarshal {found} into Go value of type {go_type}"
    where = f"{struct}.{'.'.join(path)}"
    return f"json: cannot unmarshal {found} into Go struct field {where} of type {go_type}"
