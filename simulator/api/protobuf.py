"""Just enough Kubernetes protobuf to read what kubectl sends as protobuf.

kubectl's typed clients (`kubectl auth can-i`, `kubectl create namespace|configmap|secret`) POST
`application/vnd.kubernetes.protobuf`. Decoding a general object needs the generated schemas, so
this reads the envelope, ObjectMeta, and the few kinds those commands send; other protobuf
bodies get a 415 that says to send JSON.
"""

from __future__ import annotations

import base64
from typing import Any

from simulator.errors import SimulatorError

__all__ = ["PROTOBUF", "ProtobufError", "decode_protobuf_object"]

PROTOBUF = "application/vnd.kubernetes.protobuf"
_MAGIC = b"k8s\x00"


class ProtobufError(SimulatorError, ValueError):
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


def _map(
    fields: dict[int, list[bytes | int]], number: int, *, binary: bool = False
) -> dict[str, str]:
    out: dict[str, str] = {}
    for entry in fields.get(number, []):
        if isinstance(entry, bytes):
            kv = _fields(entry)
            value = kv.get(2, [b""])[0]
            raw = value if isinstance(value, bytes) else b""
            out[_str(kv, 1)] = base64.b64encode(raw).decode() if binary else raw.decode()
    return out


def _metadata(raw: dict[int, list[bytes | int]]) -> dict[str, Any]:
    meta_fields = _msg(raw, 1)
    meta: dict[str, Any] = {}
    for number, key in ((1, "name"), (2, "generateName"), (3, "namespace")):
        if _str(meta_fields, number):
            meta[key] = _str(meta_fields, number)
    for number, key in ((11, "labels"), (12, "annotations")):
        if mapping := _map(meta_fields, number):
            meta[key] = mapping
    return meta


def decode_protobuf_object(body: bytes) -> dict[str, Any]:
    """The JSON form of a protobuf body kubectl sends; ProtobufError for anything else."""
    if not body.startswith(_MAGIC):
        raise ProtobufError("missing the k8s protobuf magic prefix")
    unknown = _fields(body[len(_MAGIC) :])
    type_meta = _msg(unknown, 1)
    api_version, kind = _str(type_meta, 1), _str(type_meta, 2)
    raw = _msg(unknown, 2)
    head: dict[str, Any] = {"apiVersion": api_version, "kind": kind, "metadata": _metadata(raw)}
    if kind in ("Namespace", "ServiceAccount"):
        return head
    if kind == "ConfigMap":
        return {**head, "data": _map(raw, 2), "binaryData": _map(raw, 3, binary=True)}
    if kind == "Secret":
        return {**head, "data": _map(raw, 2, binary=True), "type": _str(raw, 3) or "Opaque"}
    if kind != "SelfSubjectAccessReview":
        raise ProtobufError(f"protobuf bodies of kind {kind or '?'} are not supported; send JSON")
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
