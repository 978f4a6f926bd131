"""Answers in Kubernetes protobuf, for the clients that ask for it first.

client-go (kubectl, helm, every controller) sends `Accept: application/vnd.kubernetes.protobuf,
application/json` for built-in kinds, and kube-apiserver answers protobuf: the magic `k8s\\0`, a
`runtime.Unknown` envelope with the apiVersion and kind, and the object's message. The fake API
builds the same from the JSON it would have sent, with the schemas `protobuf_schema` generates
(the inverse of `protobuf.to_json`: Time from RFC 3339, IntOrString and Quantity from scalars,
RawExtension and FieldsV1 as JSON bytes, inlined structs gathered back into their message).

Custom resources have no protobuf form: kube-apiserver answers them (and their errors) in JSON,
and so does the caller here by not asking. Streams (watches, logs) stay as they are.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import EncodeError, Message

from simulator.api.asgi import Request, Send
from simulator.api.kinds import KindInfo
from simulator.api.media_types import negotiate
from simulator.api.protobuf import (
    EXTRA_VALUES,
    MAGIC,
    PROTOBUF,
    ProtobufError,
    message_class,
    message_name,
)
from simulator.api.protobuf_schema import go_fields

__all__ = [
    "answer_as_negotiated",
    "encode_protobuf_object",
    "prefers_protobuf",
    "protobuf_answers",
]

_META = "k8s.io.apimachinery.pkg.apis.meta.v1"
_UNITS = {"h": 3600e9, "m": 60e9, "s": 1e9, "ms": 1e6, "us": 1e3, "µs": 1e3, "ns": 1.0}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)")
_INTEGERS = {
    FieldDescriptor.TYPE_INT32,
    FieldDescriptor.TYPE_INT64,
    FieldDescriptor.TYPE_UINT32,
    FieldDescriptor.TYPE_UINT64,
    FieldDescriptor.TYPE_SINT32,
    FieldDescriptor.TYPE_SINT64,
    FieldDescriptor.TYPE_FIXED32,
    FieldDescriptor.TYPE_FIXED64,
}


def prefers_protobuf(accept: str) -> bool:
    """Whether the client's first choice is plain protobuf (not a Table, not a watch stream)."""
    first = accept.split(",", 1)[0].strip().lower()
    return first == PROTOBUF


def _time(message: Message, value: Any) -> None:
    if not isinstance(value, str) or not value:
        return  # null: Go's zero Time, an empty message
    instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
    seconds = int(instant.timestamp())
    message.seconds = seconds  # type: ignore[attr-defined]
    if instant.microsecond:
        message.nanos = instant.microsecond * 1000  # type: ignore[attr-defined]


def _duration(message: Message, value: Any) -> None:
    nanos = sum(float(n) * _UNITS[unit] for n, unit in _DURATION_PART.findall(str(value)))
    message.duration = int(nanos)  # type: ignore[attr-defined]


def _int_or_string(message: Message, value: Any) -> None:
    if isinstance(value, int) and not isinstance(value, bool):
        message.type, message.intVal = 0, value  # type: ignore[attr-defined]
    else:
        message.type, message.strVal = 1, str(value)  # type: ignore[attr-defined]


def _raw(field: str) -> Callable[[Message, Any], None]:
    def fill(message: Message, value: Any) -> None:
        setattr(message, field, json.dumps(value, separators=(",", ":")).encode())

    return fill


# The apimachinery types whose JSON form is a scalar or raw JSON (see protobuf._SPECIAL).
_SPECIAL: dict[str, Callable[[Message, Any], None]] = {
    "k8s.io.apimachinery.pkg.util.intstr.IntOrString": _int_or_string,
    "k8s.io.apimachinery.pkg.api.resource.Quantity": lambda m, v: setattr(m, "string", str(v)),
    f"{_META}.Time": _time,
    f"{_META}.MicroTime": _time,
    f"{_META}.Duration": _duration,
    "k8s.io.apimachinery.pkg.runtime.RawExtension": _raw("raw"),
    f"{_META}.FieldsV1": _raw("Raw"),
    **{name: lambda m, v: m.items.extend(map(str, v)) for name in EXTRA_VALUES},  # type: ignore[attr-defined]
}


def _scalar(field: Any, value: Any) -> Any:
    if field.type == FieldDescriptor.TYPE_BYTES:
        return base64.b64decode(value) if isinstance(value, str) else bytes(value)
    if field.type in _INTEGERS:
        return int(value)
    if field.type == FieldDescriptor.TYPE_BOOL:
        return bool(value)
    if field.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return float(value)
    return str(value)


def _fill(message: Message, value: Any) -> None:
    """Set `message` from its JSON form `value` (fields absent or null stay unset)."""
    special = _SPECIAL.get(message.DESCRIPTOR.full_name)
    if special is not None:
        special(message, value)
        return
    if not isinstance(value, dict):
        return
    go = go_fields()
    for field in message.DESCRIPTOR.fields:
        entry = field.message_type if field.type == FieldDescriptor.TYPE_MESSAGE else None
        key = go.json_name(message.DESCRIPTOR.name, field.name)
        if entry is not None and (entry.name, field.name) in go.inline:
            # An embedded struct: its fields sit in the parent's JSON.
            child = getattr(message, field.name)
            _fill(child, value)
            if not child.ListFields():
                message.ClearField(field.name)
        elif value.get(key) is not None:
            _fill_field(message, field, value[key])


def _fill_field(message: Message, field: Any, item: Any) -> None:
    entry = field.message_type if field.type == FieldDescriptor.TYPE_MESSAGE else None
    target = getattr(message, field.name)
    if entry is not None and entry.GetOptions().map_entry:
        value_field = entry.fields_by_name["value"]
        for key, element in dict(item).items():
            if value_field.type == FieldDescriptor.TYPE_MESSAGE:
                _fill(target[key], element)
            else:
                target[key] = _scalar(value_field, element)
    elif field.is_repeated:
        for element in item:
            if entry is not None:
                _fill(target.add(), element)
            else:
                target.append(_scalar(field, element))
    elif entry is not None:
        _fill(target, item)
        target.SetInParent()
    else:
        setattr(message, field.name, _scalar(field, item))


def encode_protobuf_object(doc: dict[str, Any]) -> bytes | None:
    """`doc` (an object, list or Status with apiVersion and kind) in Kubernetes protobuf, or
    None when the schemas have no message for its kind."""
    api_version, kind = str(doc.get("apiVersion", "")), str(doc.get("kind", ""))
    try:
        name = message_name(api_version, kind)
        if name is None:
            return None
        message = message_class(name)()
        _fill(message, doc)
        envelope = message_class("k8s.io.apimachinery.pkg.runtime.Unknown")()
        envelope.typeMeta.apiVersion = api_version  # type: ignore[attr-defined]
        envelope.typeMeta.kind = kind  # type: ignore[attr-defined]
        envelope.raw = message.SerializeToString()  # type: ignore[attr-defined]
        envelope.contentEncoding = ""  # type: ignore[attr-defined]
        envelope.contentType = ""  # type: ignore[attr-defined]
        return MAGIC + envelope.SerializeToString()
    except (ProtobufError, EncodeError, ValueError, TypeError, AttributeError):
        return None  # a value the schema cannot hold: answer in JSON, as before


def protobuf_answers(send: Send, *, errors: bool = True) -> Send:
    """`send`, with a complete JSON answer re-encoded in protobuf on its way out (an error's
    too, unless `errors` is False)."""
    held: dict[str, Any] = {}

    async def answer(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            held.update(message)
            return
        if message["type"] == "http.response.body" and held:
            start, body = dict(held), message.get("body", b"")
            held.clear()
            headers = dict(start["headers"])
            if (
                not message.get("more_body")
                and (errors or start["status"] < 400)
                and headers.get(b"content-type", b"").startswith(b"application/json")
            ):
                encoded = _reencoded(body)
                if encoded is not None:
                    headers[b"content-type"] = PROTOBUF.encode()
                    headers[b"content-length"] = str(len(encoded)).encode()
                    start["headers"] = list(headers.items())
                    message = {**message, "body": encoded}
            await send(start)
        await send(message)

    return answer


def answer_as_negotiated(req: Request, info: KindInfo) -> Send:
    """Negotiate `req`'s answer from its Accept (media_types.negotiate); its `send` (returned
    too) then re-encodes a meta.k8s.io kind asked for in protobuf, which any resource has. Its
    errors stay JSON: their negotiation allows no conversion, so the plain JSON clause is
    theirs."""
    accept, collection = req.header(b"accept"), req.verb in ("list", "watch")
    req.answer = negotiate(accept, custom=bool(info.crd_name), collection=collection)
    if req.answer.media_type == PROTOBUF and req.answer.convert:
        req.send = protobuf_answers(req.send, errors=False)
    return req.send


def _reencoded(body: bytes) -> bytes | None:
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    return encode_protobuf_object(doc) if isinstance(doc, dict) else None
