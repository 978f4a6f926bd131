"""Request bodies in Kubernetes protobuf, decoded with the generated schemas.

kubectl's typed commands (`create deployment|job|service|role|token|...`, `auth can-i`) POST
`application/vnd.kubernetes.protobuf`: the magic `k8s\\0`, then a `runtime.Unknown` envelope
holding the apiVersion, kind and the object's message. The messages are described by the
schemas `protobuf_schema` generates from k8s.io/api; this module turns a message into the JSON
form the rest of the server speaks, the way the API server's own conversion reads it (an empty
Time is null, IntOrString and Quantity are scalars, RawExtension and FieldsV1 are JSON).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import DecodeError, Message

from simulator.api.protobuf_schema import SchemaError, descriptor_set, go_fields
from simulator.clock import rfc3339
from simulator.errors import SimulatorError

__all__ = [
    "EXTRA_VALUES",
    "MAGIC",
    "PROTOBUF",
    "ProtobufError",
    "decode_protobuf_object",
    "message_class",
    "message_name",
    "to_json",
]

PROTOBUF = "application/vnd.kubernetes.protobuf"
MAGIC = b"k8s\x00"
_RUNTIME = "k8s.io.apimachinery.pkg.runtime"
_META = "k8s.io.apimachinery.pkg.apis.meta.v1"
# Groups whose Go packages are not named after the group's first label.
_PACKAGES = {
    "": "k8s.io.api.core",
    "apiextensions.k8s.io": "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions",
    "rbac.authorization.k8s.io": "k8s.io.api.rbac",
}


class ProtobufError(SimulatorError, ValueError):
    """A protobuf body this server cannot read."""


@cache
def _pool() -> descriptor_pool.DescriptorPool:
    try:
        files = descriptor_pb2.FileDescriptorSet.FromString(descriptor_set())
    except SchemaError as exc:
        raise ProtobufError(f"protobuf bodies cannot be read here ({exc}); send JSON") from exc
    pool = descriptor_pool.DescriptorPool()
    for file in files.file:
        pool.Add(file)
    return pool


def message_class(full_name: str) -> type[Message]:
    """The generated class of a message of the schemas (`k8s.io.api.core.v1.Pod`)."""
    return message_factory.GetMessageClass(_pool().FindMessageTypeByName(full_name))


def _message(full_name: str, data: bytes) -> Message:
    message = message_class(full_name)()
    try:
        message.ParseFromString(data)
    except DecodeError as exc:
        raise ProtobufError(f"malformed protobuf {full_name}: {exc}") from exc
    return message


def _message_name(api_version: str, kind: str) -> str:
    group, _, version = api_version.rpartition("/")
    package = _PACKAGES.get(group, f"k8s.io.api.{group.split('.')[0]}")
    return f"{package}.{version}.{kind}"


def _duration(nanos: int) -> str:
    """Go's time.Duration.String() for whole seconds and above (`1h2m3s`, `90s` -> `1m30s`)."""
    seconds, rest = divmod(nanos, 1_000_000_000)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    text = f"{seconds}.{rest:09d}".rstrip("0").rstrip(".") + "s"
    if hours:
        return f"{hours}h{minutes}m{text}"
    return f"{minutes}m{text}" if minutes else text


def _fields(message: Message) -> dict[str, Any]:
    return {f.name: v for f, v in message.ListFields()}


def _int_or_string(fields: dict[str, Any]) -> Any:
    return fields.get("strVal", "") if fields.get("type") == 1 else fields.get("intVal", 0)


def _time(fields: dict[str, Any], *, micro: bool) -> str | None:
    if not fields.get("seconds") and not fields.get("nanos"):
        return None  # Go's zero Time, which its JSON writes as null
    seconds = fields.get("seconds", 0) + fields.get("nanos", 0) / 1e9
    return rfc3339(datetime.fromtimestamp(seconds, UTC), micro=micro)


def _raw_json(fields: dict[str, Any]) -> Any:
    raw = fields.get("Raw", fields.get("raw", b""))
    return json.loads(raw) if raw else None


EXTRA_VALUES = tuple(
    f"k8s.io.api.{group}.{version}.ExtraValue"
    for group in ("authentication", "authorization", "certificates")
    for version in ("v1", "v1beta1")
)
# The apimachinery types whose JSON form is a scalar or raw JSON, not an object of their fields.
_SPECIAL: dict[str, Callable[[dict[str, Any]], Any]] = {
    "k8s.io.apimachinery.pkg.util.intstr.IntOrString": _int_or_string,
    "k8s.io.apimachinery.pkg.api.resource.Quantity": lambda f: f.get("string", ""),
    f"{_META}.Time": lambda f: _time(f, micro=False),
    f"{_META}.MicroTime": lambda f: _time(f, micro=True),
    f"{_META}.Duration": lambda f: _duration(int(f.get("duration", 0))),
    f"{_RUNTIME}.RawExtension": _raw_json,
    f"{_META}.FieldsV1": _raw_json,
    # A user's extra values (`type ExtraValue []string`): an array in JSON.
    **{name: lambda f: list(f.get("items", ())) for name in EXTRA_VALUES},
}


# The one struct field of the API types tagged `omitzero` (Go 1.24): a zero creationTimestamp,
# as in a pod template, is left out of JSON rather than written as null.
_OMIT_ZERO = frozenset({("ObjectMeta", "creationTimestamp")})


def _value(field: FieldDescriptor, value: Any) -> Any:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        return to_json(value)
    if field.type == FieldDescriptor.TYPE_BYTES:
        return base64.b64encode(value).decode()
    return value


def to_json(message: Message) -> Any:
    """The JSON form of a Kubernetes message (fields as their JSON names; absent stays absent)."""
    special = _SPECIAL.get(message.DESCRIPTOR.full_name)
    if special is not None:
        return special(_fields(message))
    out: dict[str, Any] = {}
    go = go_fields()
    for field, value in message.ListFields():
        entry = field.message_type if field.type == FieldDescriptor.TYPE_MESSAGE else None
        key = go.json_name(message.DESCRIPTOR.name, field.name)
        if entry is not None and entry.GetOptions().map_entry:
            value_field = entry.fields_by_name["value"]
            out[key] = {k: _value(value_field, v) for k, v in value.items()}
        elif entry is not None and (entry.name, field.name) in go.inline:
            out.update(to_json(value))  # an embedded struct: its fields are the parent's
        elif field.is_repeated:
            out[key] = [_value(field, v) for v in value]
        elif not value and (message.DESCRIPTOR.name, field.name) in go.omit_zero:
            continue  # a Go zero value its JSON leaves out
        elif (message.DESCRIPTOR.name, field.name) in _OMIT_ZERO and not value.ListFields():
            continue
        else:
            out[key] = _value(field, value)
    return out


def message_name(api_version: str, kind: str) -> str | None:
    """The full name of the message `kind` of `api_version` is, or None when the schemas have
    none (custom resources). Options (DeleteOptions, ...) and Status are meta/v1 types, under any
    group."""
    pool = _pool()
    for name in (_message_name(api_version, kind), f"{_META}.{kind}"):
        try:
            pool.FindMessageTypeByName(name)
        except KeyError:
            continue
        return name
    return None


def decode_protobuf_object(body: bytes) -> dict[str, Any]:
    """The JSON form of a protobuf request body; ProtobufError when it cannot be read."""
    if not body.startswith(MAGIC):
        raise ProtobufError("missing the k8s protobuf magic prefix")
    envelope = _fields(_message(f"{_RUNTIME}.Unknown", body[len(MAGIC) :]))
    type_meta = _fields(envelope["typeMeta"]) if "typeMeta" in envelope else {}
    api_version, kind = str(type_meta.get("apiVersion", "")), str(type_meta.get("kind", ""))
    name = message_name(api_version, kind)
    if name is None:
        raise ProtobufError(f"protobuf bodies of kind {kind or '?'} are not supported; send JSON")
    obj = to_json(_message(name, bytes(envelope.get("raw", b""))))
    return {"apiVersion": api_version, "kind": kind, **obj}
