"""`/openapi/v2` as protobuf: the swagger document's definitions in gnostic's OpenAPIv2 messages.

kubectl asks for v2 as `application/com.github.proto-openapi.spec.v2@v1.0+protobuf` (for
`kubectl explain --output=plaintext-openapiv2`, and for group versions v3 does not list). The
messages are gnostic's `openapi.v2` package, compiled from its .proto at build time
(`openapi_assets`); a value gnostic keeps as YAML (defaults, enums, vendor extensions) is written
as JSON, which is YAML. The definitions are what `kubectl explain` reads; the paths and global
parameters (`openapi_v2_paths`) are what kubectl's checks read when v3 cannot answer.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import Message

from simulator.api import openapi_assets
from simulator.api.openapi_v2_paths import fill_parameters, fill_paths

__all__ = ["encode_v2"]

# Schema fields that are plain scalars in both forms (JSON name -> gnostic field).
_SCALARS = {
    "$ref": "_ref",
    "format": "format",
    "title": "title",
    "description": "description",
    "multipleOf": "multiple_of",
    "maximum": "maximum",
    "exclusiveMaximum": "exclusive_maximum",
    "minimum": "minimum",
    "exclusiveMinimum": "exclusive_minimum",
    "maxLength": "max_length",
    "minLength": "min_length",
    "pattern": "pattern",
    "maxItems": "max_items",
    "minItems": "min_items",
    "uniqueItems": "unique_items",
    "maxProperties": "max_properties",
    "minProperties": "min_properties",
    "discriminator": "discriminator",
    "readOnly": "read_only",
}
# Values gnostic keeps as YAML text.
_YAML = ("default", "example")


@cache
def _classes() -> dict[str, type[Message]] | None:
    compiled = openapi_assets.v2_messages()
    if compiled is None:
        return None
    pool = descriptor_pool.DescriptorPool()
    for file in descriptor_pb2.FileDescriptorSet.FromString(compiled).file:
        pool.Add(file)
    names = ("Document", "Schema", "NamedSchema", "NamedAny")
    return {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"openapi.v2.{name}"))
        for name in names
    }


def encode_v2(doc: dict[str, Any]) -> bytes:
    """The protobuf Document of a swagger document (empty when the messages are not built)."""
    classes = _classes()
    if classes is None or "definitions" not in doc:
        return b""
    out: Any = classes["Document"]()
    out.swagger = str(doc.get("swagger", "2.0"))
    info = doc.get("info") or {}
    out.info.title = str(info.get("title", ""))
    out.info.version = str(info.get("version", ""))
    for name, schema in doc["definitions"].items():
        named = out.definitions.additional_properties.add()
        named.name = name
        _fill_schema(named.value, schema)
    fill_paths(out, doc.get("paths") or {}, _fill_schema)
    fill_parameters(out, doc.get("parameters") or {}, _fill_schema)
    return bytes(out.SerializeToString())


def _fill_schema(target: Any, schema: dict[str, Any]) -> None:
    for key, value in schema.items():
        if key in _SCALARS:
            setattr(target, _SCALARS[key], value)
        elif key in _YAML:
            getattr(target, key).yaml = json.dumps(value)
        elif key.startswith("x-"):
            extension = target.vendor_extension.add()
            extension.name = key
            extension.value.yaml = json.dumps(value)
        else:
            _fill_nested(target, key, value)


def _fill_nested(target: Any, key: str, value: Any) -> None:
    if key == "type":
        target.type.value.extend([value] if isinstance(value, str) else value)
    elif key == "required":
        target.required.extend(value)
    elif key == "enum":
        for item in value:
            target.enum.add().yaml = json.dumps(item)
    elif key == "items" and isinstance(value, dict):
        _fill_schema(target.items.schema.add(), value)
    elif key == "allOf":
        for part in value:
            _fill_schema(target.all_of.add(), part)
    elif key == "properties":
        for name, member in value.items():
            named = target.properties.additional_properties.add()
            named.name = name
            _fill_schema(named.value, member)
    elif key == "additionalProperties" and isinstance(value, bool):
        target.additional_properties.boolean = value
    elif key == "additionalProperties":
        _fill_schema(target.additional_properties.schema, value)
