"""What an answer is: negotiated from Accept as kube-apiserver negotiates it, and converted.

NegotiateMediaTypeOptions (k8s.io/apiserver endpoints/handlers/negotiation) reads the Accept
clauses best first (goautoneg's order: higher q, then a type before a wildcard) and takes the
first that names a media type the endpoint serves, with parameters the endpoint allows
(RequestScope.AllowsMediaTypeTransform): `as=Table` in JSON or YAML, and `as=PartialObjectMetadata`
or `as=PartialObjectMetadataList` in any of them, each with `g=meta.k8s.io` and `v=v1` or
`v1beta1`; another `as` is never allowed, and a custom resource's own form is not served in
protobuf. When no clause is taken the answer is a 406.

The metadata conversions (handlers/response.go) are what client-go's metadata client reads:
kube-controller-manager's garbage collector and quota monitors watch every resource without a
typed informer that way (custom resources, APIServices, CRDs), and controller-runtime's
metadata-only watches too. An object becomes `{kind: PartialObjectMetadata, apiVersion:
meta.k8s.io/v1, metadata}`, a list a PartialObjectMetadataList of those (its metadata:
resourceVersion, continue, remainingItemCount; its items null when there are none), a watch
event's object the same, bookmarks included. Asking one of an object or the other of a list is
refused in the conversion's words, which name the storage's Go type.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import msgspec

from simulator.api.kinds import KindInfo
from simulator.api.store.errors import StoreError, UnknownReasonError

__all__ = [
    "JSON",
    "METADATA",
    "METADATA_LIST",
    "PLAIN",
    "PROTOBUF",
    "TABLE",
    "Answer",
    "NotAcceptableError",
    "errors_negotiate",
    "metadata_list",
    "metadata_of",
    "negotiate",
]

JSON, YAML, PROTOBUF = "application/json", "application/yaml", "application/vnd.kubernetes.protobuf"
TABLE, METADATA, METADATA_LIST = "Table", "PartialObjectMetadata", "PartialObjectMetadataList"
_SERVED = (JSON, YAML, PROTOBUF)
_STREAMS = (f"{JSON};stream=watch", f"{PROTOBUF};stream=watch")
_META_GROUP, _META_VERSIONS = "meta.k8s.io", ("v1", "v1beta1")
# A custom resource's own form is served in these alone (the CRD handler's StandardSerializers).
_CUSTOM_SERVED = (JSON, YAML)
# The internal Go packages' names in the conversion's refusal differ from the group's first
# label for these: an events.k8s.io Event is stored as core's.
_PACKAGES = {"": "core", "events.k8s.io": "core"}


class NotAcceptableError(StoreError):
    """406: no Accept clause names an answer the endpoint can give."""

    code = 406
    reason = "NotAcceptable"


class UnroutedError(NotAcceptableError):
    """406 from go-restful's router, before a built-in resource's handler: no Accept clause
    names a media type the route produces, whatever its parameters."""

    empty_details = True


@dataclass(frozen=True)
class Answer:
    """The negotiated answer: its media type, and the meta.k8s.io kind it is converted to."""

    media_type: str = JSON
    convert: str = ""  # "", TABLE, METADATA or METADATA_LIST
    version: str = "v1"  # of meta.k8s.io, when converted

    @property
    def api_version(self) -> str:
        return f"{_META_GROUP}/{self.version}"


# The answer when nothing is negotiated: the object itself, in JSON.
PLAIN = Answer()


@dataclass(frozen=True)
class _Clause:
    type: str
    subtype: str
    q: float
    params: dict[str, str]


def _clauses(header: str) -> list[_Clause]:
    """goautoneg.ParseAccept: each `type/subtype;k=v` clause, best first."""
    clauses = []
    for part in header.split(","):
        media, *raw_params = part.strip(" ").split(";")
        kind, _, sub = media.strip(" ").partition("/")
        if not sub:
            if kind != "*":
                continue
            sub = "*"
        elif "/" in sub:
            continue
        params, q = {}, 1.0
        for raw in raw_params:
            key, _, value = raw.strip(" ").partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
            elif key:
                params[key] = value
        clauses.append(_Clause(kind.strip(" "), sub.strip(" "), q, params))
    # Go sorts by q, then a named type or subtype before a wildcard; stable for equals.
    return sorted(clauses, key=lambda c: (-c.q, c.type == "*", c.subtype == "*"))


def _converts(clause: _Clause) -> bool:
    """Whether the clause asks for a conversion (any of `as`, `g`, `v`), allowed or not."""
    return any(key in clause.params for key in ("as", "g", "v"))


def _allowed(clause: _Clause, media_type: str, custom: bool) -> Answer | None:
    params = clause.params
    if not _converts(clause):
        if custom and media_type not in _CUSTOM_SERVED:
            return None
        return Answer(media_type)
    group, version, kind = params.get("g", ""), params.get("v", ""), params.get("as", "")
    if group != _META_GROUP or version not in _META_VERSIONS:
        return None
    if kind == TABLE and media_type == PROTOBUF:
        return None
    if kind not in (TABLE, METADATA, METADATA_LIST):
        return None
    return Answer(media_type, kind, version)


def _names(clause: _Clause, media_type: str) -> bool:
    kind, _, sub = media_type.partition("/")
    return (clause.type, clause.subtype) in ((kind, sub), (kind, "*"), ("*", "*"))


# A client sends the same few Accept headers again and again: each is read once.
@functools.lru_cache(maxsize=256)
def negotiate(accept: str, *, custom: bool = False, collection: bool = False) -> Answer:
    """The answer `accept` asks for from a resource's endpoint (`custom`: a custom resource's,
    `collection`: a list or watch, whose route also produces watch streams); NotAcceptableError
    when it asks for none the endpoint gives."""
    if not accept:
        return PLAIN
    clauses = _clauses(accept)
    for clause in clauses:
        for media_type in _SERVED:
            if _names(clause, media_type):
                answer = _allowed(clause, media_type, custom)
                if answer is not None:
                    return answer
    if not custom and not any(_names(c, m) for c in clauses for m in _SERVED):
        produced = ", ".join(_SERVED + (_STREAMS if collection else ()))
        raise UnroutedError(f"406: Not Acceptable\n\nAvailable representations: {produced}")
    served = ", ".join(_SERVED)
    raise NotAcceptableError(f"only the following media types are accepted: {served}")


@functools.lru_cache(maxsize=256)
def errors_negotiate(accept: str) -> bool:
    """Whether an error's answer is negotiated from `accept` (a clause without a conversion),
    or written as kube-apiserver writes it when none is (WriteRawJSON: indented JSON)."""
    if not accept:
        return True
    return any(
        _names(clause, media_type)
        for clause in _clauses(accept)
        if not _converts(clause)
        for media_type in _SERVED
    )


def error_body(status: bytes, accept: str) -> tuple[bytes, bool]:
    """An error's Status (JSON) as written for `accept`, and whether a newline ends it: as
    negotiated, or as WriteRawJSON writes it when no clause can carry it (indented, no
    newline)."""
    if errors_negotiate(accept):
        return status, True
    return msgspec.json.format(status, indent=2), False


def _go_type(info: KindInfo, list_type: bool) -> str:
    """The storage's Go type, as `%T` prints it in the conversion's refusal."""
    if info.crd_name:
        return "*unstructured.UnstructuredList" if list_type else "*unstructured.Unstructured"
    package = _PACKAGES.get(info.group, info.group.split(".", 1)[0])
    kind = info.kind
    return f"*{package}.{kind}List" if list_type else f"*{package}.{kind}"


def metadata_of(answer: Answer, info: KindInfo, obj: dict[str, Any]) -> dict[str, Any]:
    """`obj` as the PartialObjectMetadata `answer` asks for (a Status stays as it is)."""
    if obj.get("kind") == "Status" and obj.get("apiVersion") == "v1":
        return obj
    if answer.convert == METADATA_LIST:
        if info.crd_name:  # unstructured's EachListItem: a plain error, no reason
            raise UnknownReasonError("content is not a list")
        raise NotAcceptableError(
            f"you requested {METADATA_LIST}, but the requested object is not a list "
            f"({_go_type(info, False)})"
        )
    return {"kind": METADATA, "apiVersion": answer.api_version, "metadata": obj["metadata"]}


def metadata_list(
    answer: Answer, info: KindInfo, meta: dict[str, Any], items: list[dict[str, Any]]
) -> dict[str, Any]:
    """A list's page as the PartialObjectMetadataList `answer` asks for."""
    if answer.convert == METADATA:
        raise NotAcceptableError(
            f"you requested {METADATA}, but the requested object is a list ({_go_type(info, True)})"
        )
    kept = {k: meta[k] for k in ("resourceVersion", "continue") if meta.get(k)}
    if meta.get("remainingItemCount") is not None:
        kept["remainingItemCount"] = meta["remainingItemCount"]
    listed = [
        {"kind": METADATA, "apiVersion": answer.api_version, "metadata": item["metadata"]}
        for item in items
    ]
    return {
        "kind": METADATA_LIST,
        "apiVersion": answer.api_version,
        "metadata": kept,
        "items": listed or None,
    }
