"""Just enough Kubernetes protobuf to read what kubectl sends as protobuf.

kubectl's typed clients (e.g. `kubectl auth can-i`) POST `application/vnd.kubernetes.protobuf`.
Decoding a general object needs the generated schemas, so this reads the envelope and the one
kind the acceptance needs, SelfSubjectAccessReview; other protobuf bodies get a 415.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PROTOBUF", "ProtobufError", "decode_protobuf_object"]

PROTOBUF = "application/vnd.kubernetes.protobuf"
_MAGIC = b"k8s\x00"


class ProtobufError(ValueError):
    """A protobuf body this server cannot read."""


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise ProtobufError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(data: bytes) -> dict[int, list[bytes | int]]:
    """Field number -> values (bytes for length-delimited, int for varints)."""
    out: dict[int, list[bytes | int]] = {}
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
            out.setdefault(number, []).append(value)
        elif wire == 2:
            length, pos = _varint(data, pos)
            out.setdefault(number, []).append(data[pos : pos + length])
            pos += length
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        else:
            raise ProtobufError(f"unsupported wire type {wire}")
    return out


def _str(fields: dict[int, list[bytes | int]], number: int) -> str:
    values = fields.get(number)
    if not values or not isinstance(values[0], bytes):
        return ""
    return values[0].decode()


def _msg(fields: dict[int, list[bytes | int]], number: int) -> dict[int, list[bytes | int]]:
    values = fields.get(number)
    if not values or not isinstance(values[0], bytes):
        return {}
    return _fields(values[0])


def decode_protobuf_object(body: bytes) -> dict[str, Any]:
    """The JSON form of a protobuf-encoded SelfSubjectAccessReview; ProtobufError otherwise."""
    if not body.startswith(_MAGIC):
        raise ProtobufError("missing the k8s protobuf magic prefix")
    unknown = _fields(body[len(_MAGIC) :])
    type_meta = _msg(unknown, 1)
    api_version, kind = _str(type_meta, 1), _str(type_meta, 2)
    if kind != "SelfSubjectAccessReview":
        raise ProtobufError(f"protobuf bodies of kind {kind or '?'} are not supported; send JSON")
    raw = _msg(unknown, 2)
    spec = _msg(raw, 2)
    obj: dict[str, Any] = {"apiVersion": api_version, "kind": kind, "metadata": {}, "spec": {}}
    attrs = _msg(spec, 1)
    if attrs:
        names = ("namespace", "verb", "group", "version", "resource", "subresource", "name")
        obj["spec"]["resourceAttributes"] = {
            name: _str(attrs, n) for n, name in enumerate(names, start=1) if _str(attrs, n)
        }
    non_resource = _msg(spec, 2)
    if non_resource:
        obj["spec"]["nonResourceAttributes"] = {
            "path": _str(non_resource, 1),
            "verb": _str(non_resource, 2),
        }
    return obj
