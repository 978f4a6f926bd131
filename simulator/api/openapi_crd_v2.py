"""A custom resource's definitions in `/openapi/v2`, as kube-apiserver builds them.

apiextensions-apiserver (v0.37.2) builds the swagger of each served version of a CRD with the
v3 document's builder in its V2 mode: the structural schema unfolded, then cut to what OpenAPI
v2 and kubectl's client-side validation can take (`ToStructuralOpenAPIV2`): no junctors
(allOf, anyOf, oneOf, not); a nullable field untyped, without items or properties, and not
required; a field that keeps unknown fields without items or properties, and untyped if an
object; an array left without items untyped. A kind whose root keeps unknown fields is a bare
object: properties there would make kubectl refuse every field it does not list. References are
plain `$ref`s beside their description, and the defaults are pruned (`PruneDefaults`), as in
the static document. kubectl validates against these definitions what the server cannot check
itself, such as each item of a `kind: List` file.
"""

from __future__ import annotations

from typing import Any

from simulator.api.kinds import KindInfo
from simulator.api.openapi_crd_schemas import (
    kube_native,
    list_schema,
    model_name,
    structural_schema,
)

__all__ = ["v2_definitions"]

Obj = dict[str, Any]
_JUNCTORS = ("allOf", "anyOf", "oneOf", "not")


def v2_definitions(info: KindInfo) -> dict[str, Obj]:
    """The kind's definition and its list's, named as `/openapi/v2` names them."""
    return {
        model_name(info): _without_defaults(_kind_schema(info)),
        model_name(info, info.list_kind_name): list_schema(info, v2=True),
    }


def _kind_schema(info: KindInfo) -> Obj:
    """`buildKubeNative` in its V2 mode: a bare object where the root keeps unknown fields."""
    structural = structural_schema(info.schema) if info.schema else None
    if structural is not None and structural.get("x-kubernetes-preserve-unknown-fields"):
        structural = None
    return kube_native(info, _for_v2(structural) if structural else None, v2=True)


def _for_v2(schema: Obj) -> Obj:
    """`ToStructuralOpenAPIV2` of one node (a copy), then of what it keeps below it."""
    out = {key: value for key, value in schema.items() if key not in _JUNCTORS}
    if out.pop("nullable", False):
        for key in ("type", "items", "properties"):
            out.pop(key, None)
    if out.get("x-kubernetes-preserve-unknown-fields"):
        out.pop("items", None)
        out.pop("properties", None)
        if out.get("type") == "object":
            del out["type"]
    if out.get("type") == "array" and "items" not in out:
        del out["type"]
    properties = out.get("properties") or {}
    required = [name for name in out.get("required") or [] if not _nullable(properties.get(name))]
    additional = out.get("additionalProperties")
    if _nullable(additional):
        required = []
    if "required" in out:
        if required:
            out["required"] = required
        else:
            del out["required"]
    if properties:
        out["properties"] = {name: _for_v2(child) for name, child in properties.items()}
    if isinstance(out.get("items"), dict):
        out["items"] = _for_v2(out["items"])
    if isinstance(additional, dict):
        out["additionalProperties"] = _for_v2(additional)
    return out


def _nullable(schema: Any) -> bool:
    return isinstance(schema, dict) and bool(schema.get("nullable"))


def _without_defaults(schema: Obj) -> Obj:
    """`PruneDefaults`: no `default` in a definition's schemas (a field may be named so)."""
    out = {key: value for key, value in schema.items() if key != "default"}
    if isinstance(out.get("properties"), dict):
        out["properties"] = {n: _without_defaults(c) for n, c in out["properties"].items()}
    for key in ("items", "additionalProperties"):
        if isinstance(out.get(key), dict):
            out[key] = _without_defaults(out[key])
    return out
