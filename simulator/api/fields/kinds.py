"""The field manager for a served kind: its types from OpenAPI, its reset fields per subresource.

Built-in kinds take their types from kube-apiserver's OpenAPI v3 documents (`openapi_assets`),
the component whose `x-kubernetes-group-version-kind` names the kind; a custom kind from its
CRD's schema, with `metadata` typed as ObjectMeta as kube-apiserver does. Without the documents
every kind is deduced from its values (maps granular, lists atomic).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from simulator.api import openapi_assets
from simulator.api.fields.fieldsets import FieldSet
from simulator.api.fields.managing import FieldManager
from simulator.api.fields.schema import DEDUCED, Ref, Types
from simulator.api.kinds import KindInfo

__all__ = ["component_schema", "field_manager", "root_type", "track_request"]

_OBJECT_META = "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"


@cache
def _group_version(group: str, version: str) -> tuple[Types, dict[tuple[str, str, str], str]]:
    """The types of one group version's document, and its components by (group, version,
    kind): a document also holds kinds of other groups that its paths take (core v1's
    serviceaccounts/token takes an authentication.k8s.io/v1 TokenRequest)."""
    doc = openapi_assets.v3_document(group, version) or {}
    components = (doc.get("components") or {}).get("schemas") or {}
    by_kind = {
        (str(gvk.get("group", "")), str(gvk.get("version")), str(gvk.get("kind"))): name
        for name, schema in components.items()
        for gvk in schema.get("x-kubernetes-group-version-kind") or []
    }
    return Types(components), by_kind


def component_schema(
    group: str, version: str, kind: str
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """A built-in kind's OpenAPI component, with the components it refers to."""
    types, by_kind = _group_version(group, version)
    name = by_kind.get((group, version, kind))
    return (types.components, types.components[name]) if name else None


def root_type(info: KindInfo) -> Ref:
    """The type of the whole object."""
    if info.crd_name:
        return _custom_type(info)
    return _built_in_type(info.group, info.version, info.kind)


def _built_in_type(
    group: str, version: str, kind: str, document: tuple[str, str] | None = None
) -> Ref:
    """The type of a built-in kind, from its group version's document or `document`'s."""
    types, by_kind = _group_version(*(document or (group, version)))
    name = by_kind.get((group, version, kind))
    return types.ref(name) if name else DEDUCED


# What a create that is never stored posts: (group, version, kind) -> the document it is in.
_REQUEST_KINDS = {("authentication.k8s.io", "v1", "TokenRequest"): ("", "v1")}


@cache
def _request_manager(group: str, version: str, kind: str, subresource: str) -> FieldManager:
    api_version = f"{group}/{version}" if group else version
    root = _built_in_type(group, version, kind, _REQUEST_KINDS.get((group, version, kind)))
    return FieldManager(root, api_version, subresource, FieldSet())


def track_request(  # noqa: PLR0917 - the kind, where it was posted, by whom, when
    group: str,
    version: str,
    kind: str,
    subresource: str,
    obj: dict[str, Any],
    manager: str,
    now: str,
) -> None:
    """Set the managedFields of a created object that is never stored (an access review, a
    TokenRequest): kube-apiserver's create handler runs the field manager on every request
    body before its REST storage answers, and these answer with the body they were sent."""
    _request_manager(group, version, kind, subresource).update(None, obj, manager, now)


def _custom_type(info: KindInfo) -> Ref:
    if not isinstance(info.schema, dict):
        return DEDUCED
    core_types, _ = _group_version("", "v1")
    schema: dict[str, Any] = dict(info.schema)
    schema["properties"] = {
        **(schema.get("properties") or {}),
        "apiVersion": {"type": "string"},
        "kind": {"type": "string"},
        "metadata": {"$ref": _OBJECT_META},
    }
    schema.setdefault("type", "object")
    return core_types.parse(schema, preserve=False)


def _path_set(*paths: tuple[str, ...]) -> FieldSet:
    out = FieldSet()
    for path in paths:
        out.insert(path)
    return out


# (id of the kind, subresource) -> (the kind, the CRD schema it was built from, its manager)
_MAX_CACHED = 1024
_MANAGERS: dict[tuple[int, str], tuple[KindInfo, object, FieldManager]] = {}


def field_manager(info: KindInfo, subresource: str) -> FieldManager:
    """The field manager for writes to `subresource` ("" is the main resource)."""
    cached = _MANAGERS.get((id(info), subresource))
    if cached is not None and cached[0] is info and cached[1] is info.schema:
        return cached[2]
    if subresource == "status":
        reset = _path_set(("f:spec",))
    elif info.has_status:
        reset = _path_set(("f:status",))
    else:
        reset = FieldSet()
    manager = FieldManager(root_type(info), info.api_version, subresource, reset)
    if len(_MANAGERS) > _MAX_CACHED:
        _MANAGERS.clear()  # CRDs come and go: stale kinds must not pile up
    _MANAGERS[(id(info), subresource)] = (info, info.schema, manager)
    return manager
