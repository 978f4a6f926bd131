"""The published OpenAPI documents made into what kube-apiserver serves.

k8s.io/kubernetes publishes `api/openapi-spec/` generated with every feature gate on and the
enum extension off, so the published documents and a running kube-apiserver v1.37 differ in two
ways (measured by `appliance-sim fidelity`):

- the served documents name no CBOR media types (`application/cbor`, `application/cbor-seq`,
  `application/apply-patch+cbor`: the CBOR serializer is behind an alpha gate, off by default);
- a string field whose Go type is an enum (`+enum`) has an `enum` list and a description that
  ends with `Possible enum values:` and one line per value. Both come from the Go definitions
  openapi-gen wrote into the same module (`pkg/generated/openapi/zz_generated.openapi.go`),
  which kube-apiserver builds its documents from; `enum_fields` reads them there.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["EnumFields", "enum_fields", "served_document"]

# definition name -> [(field path, description or None, values)]; a path is property names,
# with "items" and "additionalProperties" for the element of a list or map.
EnumFields = dict[str, list[tuple[tuple[str, ...], str | None, list[Any]]]]

# `corev1.Pod{}.OpenAPIModelName(): schema_k8sio_api_core_v1_Pod(ref),` (or the name quoted)
_REGISTERED = re.compile(
    r'^\s*(?:"([^"]+)"|(\w+)\.(\w+)\{\}\.OpenAPIModelName\(\)):\s+(schema_\w+)\(ref\),$'
)
_IMPORT = re.compile(r'^\s*(\w+\s+)?"([^"]+)"$')
_FUNCTION = re.compile(r"^func (schema_\w+)\(")
_PROPERTY = re.compile(r'^"([^"]+)": \{$')
_ENUM = re.compile(r"^Enum:\s+\[\]interface\{\}\{(.*)\},$")
_DESCRIPTION = re.compile(r'^Description:\s+(".*"),$')
_CBOR = "cbor"


def _depth(line: str) -> int:
    return len(line) - len(line.lstrip("\t"))


def definition_name(go_name: str) -> str:
    """`k8s.io/api/core/v1.Pod` -> `io.k8s.api.core.v1.Pod`: the OpenAPI name of a Go type
    (kube-openapi's friendly name: the first path element's domain reversed)."""
    package, _, type_name = go_name.rpartition(".")
    first, *rest = package.split("/")
    return ".".join([*reversed(first.split(".")), *rest, type_name])


def enum_fields(source: str) -> EnumFields:
    """The enum fields of every definition in openapi-gen's Go source."""
    lines = source.splitlines()
    packages: dict[str, str] = {}
    registered: dict[str, str] = {}
    for line in lines:
        imported = _IMPORT.match(line)
        if imported:
            path = imported.group(2)
            packages[(imported.group(1) or path.rpartition("/")[2]).strip()] = path
            continue
        found = _REGISTERED.match(line)
        if found:
            quoted, alias, type_name, function = found.groups()
            go_name = quoted or f"{packages.get(alias, alias)}.{type_name}"
            registered[function] = definition_name(go_name)
    out: EnumFields = {}
    function, start = "", 0
    for number, line in enumerate(lines):
        opened = _FUNCTION.match(line)
        if opened:
            function, start = opened.group(1), number
            continue
        values = _ENUM.match(line.strip())
        if not values or function not in registered:
            continue
        path, description = _context(lines, start, number)
        if path:
            try:
                parsed = json.loads(f"[{values.group(1)}]")
            except ValueError:
                continue
            out.setdefault(registered[function], []).append((path, description, parsed))
    return out


def _context(lines: list[str], start: int, number: int) -> tuple[tuple[str, ...], str | None]:
    """The field path of the schema that holds line `number`, and its description."""
    depth = level = _depth(lines[number])
    path: list[str] = []
    description = None
    for index in range(number - 1, start, -1):
        line = lines[index]
        here = _depth(line)
        text = line.strip()
        if here == depth == level and description is None:
            found = _DESCRIPTION.match(text)
            if found:
                try:
                    description = json.loads(found.group(1))
                except ValueError:
                    description = None
        if here >= level or not text:
            continue
        level = here
        named = _PROPERTY.match(text)
        if named:
            path.append(named.group(1))
        elif text.startswith("Items:"):
            path.append("items")
        elif text.startswith("AdditionalProperties:"):
            path.append("additionalProperties")
    return tuple(reversed(path)), description


def _field(schema: Any, path: tuple[str, ...]) -> dict[str, Any] | None:
    node = schema
    for step in path:
        if not isinstance(node, dict):
            return None
        node = (
            node.get(step)
            if step in ("items", "additionalProperties")
            else ((node.get("properties") or {}).get(step))
        )
    return node if isinstance(node, dict) else None


def _without_cbor(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: _without_cbor(value)
            for key, value in node.items()
            if not (isinstance(key, str) and key.startswith("application/") and _CBOR in key)
        }
    if isinstance(node, list):
        return [
            _without_cbor(item)
            for item in node
            if not (isinstance(item, str) and item.startswith("application/") and _CBOR in item)
        ]
    return node


def served_document(published: dict[str, Any], enums: EnumFields) -> dict[str, Any]:
    """A published v2 or v3 document as kube-apiserver serves it (see the module docstring)."""
    doc: dict[str, Any] = _without_cbor(published)
    schemas = (
        doc.get("definitions")
        if "definitions" in doc
        else (doc.get("components") or {}).get("schemas")
    ) or {}
    for name, fields in enums.items():
        schema = schemas.get(name)
        for path, description, values in fields:
            node = _field(schema, path)
            if node is None:
                continue
            node["enum"] = values
            if description is not None:
                node["description"] = description
    return doc
