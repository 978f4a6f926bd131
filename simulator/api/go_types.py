"""Whether a request body decodes into kube-apiserver's Go types, and Go's words when it does not.

kube-apiserver decodes a built-in kind's body into its Go struct, so a value of the wrong JSON
type (`"data": {"a": 1}` in a ConfigMap) is a 400 before any validation, worded by Go's
decoder: `json: cannot unmarshal number into Go struct field ConfigMap.data of type string`.
The Go types are read from kube-apiserver's own OpenAPI v3 documents (`openapi_assets`): a
component's name gives its Go package and struct (`io.k8s.api.apps.v1.DeploymentSpec` is
`v1.DeploymentSpec`), a property's type and format its Go type (`integer`/`int32` is int32).
Without the documents nothing is checked. Named string types (`v1.Protocol`) read as `string`:
the documents do not keep those names. Each schema node is compiled once per process into a
check (a create pays for its body's values, not for reading schemas again).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

from simulator.api import openapi_assets
from simulator.api.go_json import base64_error, json_kind
from simulator.api.quantities import FORMAT_WRONG, quantity_error

__all__ = ["component_error", "converter_error", "kind_schema", "resolve", "type_error"]

_REF = "#/components/schemas/"
_META = "io.k8s.apimachinery.pkg.apis.meta.v1."
_QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
_INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
# Decoded by their own UnmarshalJSON from a JSON string (Go names the inner string's type).
_FROM_STRING = frozenset({f"{_META}Time", f"{_META}MicroTime"})
_NAMED = {
    _QUANTITY: "resource.Quantity",
    _INT_OR_STRING: "intstr.IntOrString",
    f"{_META}Time": "v1.Time",
    f"{_META}MicroTime": "v1.MicroTime",
}
_INT_RANGES = {"int32": 2**31, "int64": 2**63}


Check = Callable[[Any, str], None]


class _Mismatch(Exception):
    """Go's decoding error: `message` as it stands, or (found, go_type, struct) and the keys
    from the mismatch up to the root, gathered as the exception leaves each struct."""

    def __init__(self, message: str = "", found: str = "", go_type: str = "", struct: str = ""):
        super().__init__(message)
        self.message = message
        self.found, self.go_type, self.struct = found, go_type, struct
        self.keys: list[str] = []

    def text(self) -> str:
        if self.message:
            return self.message
        if not self.keys:
            return f"json: cannot unmarshal {self.found} into Go value of type {self.go_type}"
        where = f"{self.struct}.{'.'.join(reversed(self.keys))}"
        return (
            f"json: cannot unmarshal {self.found} into Go struct field {where} of type "
            f"{self.go_type}"
        )


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


@cache
def _compiled(group: str, version: str) -> _Compiler:
    """The checks of one document, compiled once per process (a create checks its body)."""
    return _Compiler(_components(group, version)[0])


def type_error(group: str, version: str, kind: str, obj: Any) -> str | None:
    """Go's first decoding error for `obj` as the built-in kind, or None when it decodes."""
    return _first_error(_kind_check(group, version, kind), obj)


def component_error(group: str, version: str, component: str, obj: Any) -> str | None:
    """The same for a named component of a group version's document (`...meta.v1.DeleteOptions`)."""
    return _first_error(_component_check(group, version, component), obj)


@cache
def kind_schema(group: str, version: str, kind: str) -> tuple[dict[str, Any], str] | None:
    """A built-in kind's component name in kube-apiserver's OpenAPI v3 documents, with the
    schemas of the document it is in; None when no document names the kind."""
    found = _kind_root(group, version, kind)
    return (_components(*found[0])[0], found[1]) if found else None


def _kind_root(group: str, version: str, kind: str) -> tuple[tuple[str, str], str] | None:
    """(the document, the component) of a built-in kind: its group version's document, or core
    v1's (which also holds what subresources take)."""
    for document in ((group, version), ("", "v1")):
        root = _components(*document)[1].get((group, version, kind))
        if root:
            return document, root
    return None


def resolve(schemas: dict[str, Any], schema: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A schema node's component (name, schema) when it refers to one (`$ref`, or `allOf`
    with one), else ("", the node)."""
    ref = schema.get("$ref") or next(
        (part["$ref"] for part in schema.get("allOf") or () if "$ref" in part), ""
    )
    name = str(ref).removeprefix(_REF)
    return (name, schemas.get(name) or {}) if name else ("", schema)


@cache
def _kind_check(group: str, version: str, kind: str) -> Check | None:
    """The check of a built-in kind's body; None when no document names the kind."""
    found = _kind_root(group, version, kind)
    return _component_check(*found[0], found[1]) if found else None


@cache
def _component_check(group: str, version: str, component: str) -> Check | None:
    if component not in _components(group, version)[0]:
        return None
    return _compiled(group, version).node({"$ref": _REF + component})


def _first_error(check: Check | None, obj: Any) -> str | None:
    if obj is None or check is None:
        return None  # null decodes into every Go type, as its zero value
    try:
        check(obj, "")
    except _Mismatch as exc:
        return exc.text()
    return None


def _typed(value: Any, go_type: str, struct: str) -> _Mismatch:
    return _Mismatch(found=json_kind(value), go_type=go_type, struct=struct)


def _integer(value: Any, go_type: str, struct: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _typed(value, go_type, struct)
    limit = _INT_RANGES.get(go_type, 2**63)
    if isinstance(value, float) or not -limit <= value < limit:
        # Go names the number itself when it is one, but not an integer of that size.
        raise _Mismatch(found=f"number {value!r}", go_type=go_type, struct=struct)


def _quantity(value: Any, struct: str) -> None:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise _Mismatch(FORMAT_WRONG)
    # Quantity.UnmarshalJSON: ParseQuantity of the text (a number's too), spaces trimmed.
    if isinstance(value, str) and (refused := quantity_error(value.strip())) is not None:
        raise _Mismatch(refused)


def _int_or_string(value: Any, struct: str) -> None:
    if not isinstance(value, str):
        _integer(value, "int32", struct)


def _from_string(value: Any, struct: str) -> None:
    if not isinstance(value, str):
        raise _typed(value, "string", struct)


class _Compiler:
    """Go's decoder over a document's schemas, as one check per schema node built once.

    A check takes a value (never null: null decodes into every Go type, as its zero value, so
    the caller skips it) and the name of the struct it sits in; the first mismatch, in the
    body's order, is the answer. A node with nothing to check compiles to None.
    """

    def __init__(self, schemas: dict[str, Any]) -> None:
        self.schemas = schemas
        self._structs: dict[str, Check] = {}

    def resolve(self, schema: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        return resolve(self.schemas, schema)

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

    def node(self, schema: dict[str, Any]) -> Check | None:
        name, resolved = self.resolve(schema)
        if name == _QUANTITY:
            return _quantity
        if name == _INT_OR_STRING:
            return _int_or_string
        if name in _FROM_STRING:
            return _from_string
        if name and "properties" in resolved:
            return self.struct(name, resolved)
        return self.inline(resolved)

    def struct(self, name: str, schema: dict[str, Any]) -> Check:
        known = self._structs.get(name)
        if known is not None:
            return known
        go_type = ".".join(name.rsplit(".", 2)[-2:])
        inner = name.rsplit(".", 1)[-1]
        properties: dict[str, Any] = schema["properties"]
        # Filled on first use: structs refer to themselves (JSONSchemaProps), and most of a
        # document's structs are never sent.
        fields: dict[str, Check] | None = None

        def check(value: Any, struct: str) -> None:
            nonlocal fields
            if not isinstance(value, dict):
                raise _typed(value, go_type, struct)
            if fields is None:
                compiled = {key: self.node(prop) for key, prop in properties.items()}
                fields = {key: c for key, c in compiled.items() if c is not None}
            for key, item in value.items():
                field = fields.get(key)
                if field is not None and item is not None:
                    try:
                        field(item, inner)
                    except _Mismatch as exc:
                        exc.keys.append(key)
                        raise

        self._structs[name] = check
        return check

    def inline(self, schema: dict[str, Any]) -> Check | None:  # noqa: PLR0911 - one per type
        kind = schema.get("type")
        if kind == "array":
            return self._container(False, self.go_type(schema), schema.get("items") or {})
        if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
            return self._container(True, self.go_type(schema), schema["additionalProperties"])
        if kind == "string":
            return self._string(self.go_type(schema), schema.get("format") == "byte")
        if kind == "boolean":
            return self._scalar(bool, "bool")
        if kind == "integer":
            fmt = str(schema.get("format") or "int64")
            return lambda value, struct: _integer(value, fmt, struct)
        if kind == "number":

            def number(value: Any, struct: str) -> None:
                if not isinstance(value, int | float) or isinstance(value, bool):
                    raise _typed(value, "float64", struct)

            return number
        return None

    def _container(self, is_map: bool, go_type: str, items: dict[str, Any]) -> Check:
        """An array's or a map's check, then each item's."""
        item = self.node(items)

        def check(value: Any, struct: str) -> None:
            values: Iterable[Any]
            if is_map and isinstance(value, dict):
                values = value.values()
            elif not is_map and isinstance(value, list):
                values = value
            else:
                raise _typed(value, go_type, struct)
            if item is not None:
                for each in values:
                    if each is not None:
                        item(each, struct)

        return check

    @staticmethod
    def _string(go_type: str, base64: bool) -> Check:
        def check(value: Any, struct: str) -> None:
            if not isinstance(value, str):
                raise _typed(value, go_type, struct)
            if base64 and (problem := base64_error(value)):
                raise _Mismatch(problem)  # base64's own error, not wrapped in json's

        return check

    @staticmethod
    def _scalar(kind: type, go_type: str) -> Check:
        def check(value: Any, struct: str) -> None:
            if not isinstance(value, kind):
                raise _typed(value, go_type, struct)

        return check


_DECODER_WORDS = re.compile(
    r"json: cannot unmarshal (\w+)( \S+)? into Go (?:struct field \S+|value) of type (\S+)$"
)
# The Go kind a value of each JSON type is in the map a patch is applied to (integers int64).
_GO_KINDS = {
    "string": "string",
    "number": "int64",
    "bool": "bool",
    "object": "map",
    "array": "slice",
}
_SCALARS = frozenset({"string", "bool", "int32", "int64", "float64"})


def converter_error(decoder_error: str) -> str | None:
    """What runtime.DefaultUnstructuredConverter says where Go's JSON decoder said
    `decoder_error` (a strategic merge patch's result is converted from a map, not decoded):
    `unrecognized type: int32`, `cannot convert int64 to string`, `cannot restore struct
    from: string`. None where it would take the value or speak otherwise (its own converters
    of quantities, times and int-or-strings; a number no integer of that size)."""
    found = _DECODER_WORDS.match(decoder_error)
    if found is None or found.group(3) in _NAMED.values():
        return None
    kind, number, go_type = found.group(1), found.group(2), found.group(3)
    source = "float64" if number and "." in number else _GO_KINDS.get(kind)
    if source is None or (number and source != "float64"):
        return None
    if go_type in _SCALARS:
        numeric = source in ("int64", "float64") and go_type in ("int32", "int64", "float64")
        if numeric or (source == "int64" and go_type == "string"):
            return f"cannot convert {source} to {go_type}"
        return f"unrecognized type: {go_type}"
    if go_type == "[]uint8":  # bytes: from a string, base64's words
        return None
    container = "slice " if go_type.startswith("[]") else "map " if go_type[:4] == "map[" else ""
    return f"cannot restore {container or 'struct '}from{'' if container else ':'} {source}"
