"""A custom resource's schemas as apiextensions-apiserver (v0.37.2,
`pkg/controller/openapi/builder`) publishes them, in both documents: the kind's (the CRD's schema
as a structural schema converts back to OpenAPI, with `apiVersion`, `kind`, `metadata` and
embedded resources' fields added, and its selectable fields), its list's, their names, and the
words the builder copies into them (metav1beta1.PartialObjectMetadata(List)'s field docs,
TypeMeta's, an embedded resource's fields'). `openapi_crd` builds the v3 document around them,
`openapi_crd_v2` the v2 definitions.
"""

from __future__ import annotations

from typing import Any

from simulator.api.kinds import KindInfo

__all__ = [
    "META",
    "custom_schema",
    "kube_native",
    "list_schema",
    "meta_ref",
    "model_name",
    "selectable",
    "structural_schema",
]

META = "io.k8s.apimachinery.pkg.apis.meta.v1."
OBJECT_META = "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
LIST_META = "Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"
API_VERSION = "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources"  # noqa: E501
KIND = "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"  # noqa: E501
EMBEDDED_API_VERSION = "apiVersion defines the versioned schema of this representation of an object. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources"  # noqa: E501
EMBEDDED_KIND = "kind is a string value representing the type of this object. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"  # noqa: E501


def model_name(info: KindInfo, kind: str = "") -> str:
    """`io.fluxcd.toolkit.kustomize.v1.Kustomization`: the group reversed (`gvkToModelName`)."""
    return ".".join([*reversed(info.group.split(".")), info.version, kind or info.kind])


def custom_schema(info: KindInfo) -> dict[str, Any]:
    """The kind's schema (`buildKubeNative`): the CRD's, structural, with TypeMeta's fields, a
    reference to ObjectMeta and each embedded resource's fields; `{"type": "object"}` without
    one."""
    return kube_native(info, structural_schema(info.schema) if info.schema else None)


def kube_native(
    info: KindInfo, schema: dict[str, Any] | None, *, v2: bool = False
) -> dict[str, Any]:
    """`buildKubeNative`'s additions to a kind's `schema` (None: a bare object): TypeMeta's
    fields, ObjectMeta's reference, embedded resources' fields, the group-version-kind and
    the selectable fields."""
    if schema is None:
        schema = {"type": "object"}
    else:
        properties: dict[str, Any] = schema.setdefault("properties", {})
        properties["metadata"] = meta_ref("ObjectMeta", OBJECT_META, v2=v2)
        properties["apiVersion"] = {"description": API_VERSION, "type": "string"}
        properties["kind"] = {"description": KIND, "type": "string"}
        _add_embedded_fields(schema, v2=v2)
    schema["x-kubernetes-group-version-kind"] = [
        {"group": info.group, "kind": info.kind, "version": info.version}
    ]
    return schema | selectable(info)


def list_schema(info: KindInfo, *, v2: bool = False) -> dict[str, Any]:
    """`buildListSchema` (in its V2 mode for `/openapi/v2`)."""
    prefix = "#/definitions/" if v2 else "#/components/schemas/"
    return {
        "description": f"{info.list_kind_name} is a list of {info.kind}",
        "type": "object",
        "required": ["items"],
        "properties": {
            "apiVersion": {"description": API_VERSION, "type": "string"},
            "items": {
                "description": f"List of {info.plural}. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md",
                "type": "array",
                "items": {"$ref": prefix + model_name(info)},
            },
            "kind": {"description": KIND, "type": "string"},
            "metadata": meta_ref("ListMeta", LIST_META, v2=v2),
        },
        "x-kubernetes-group-version-kind": [
            {"group": info.group, "kind": info.list_kind_name, "version": info.version}
        ],
    } | selectable(info)


def selectable(info: KindInfo) -> dict[str, Any]:
    """`buildSelectableFields`: the CRD's selectable fields, on the kind and its list."""
    if not info.selectable:
        return {}
    return {"x-kubernetes-selectable-fields": [{"fieldPath": path} for path in info.selectable]}


def meta_ref(name: str, description: str, *, v2: bool = False) -> dict[str, Any]:
    """A reference to an apimachinery type, with a description: v2 keeps the two side by side,
    v3 (builder3's WrapRefs) makes it an allOf of the reference."""
    if v2:
        return {"description": description, "$ref": f"#/definitions/{META}{name}"}
    return {"description": description, "allOf": [{"$ref": f"#/components/schemas/{META}{name}"}]}


def _add_embedded_fields(schema: dict[str, Any], *, v2: bool) -> None:
    """`addEmbeddedProperties`: an embedded resource gets apiVersion, kind and metadata; in
    v2 not one that keeps unknown fields (kubectl would refuse the fields it does not list)."""
    for child in (schema.get("properties") or {}).values():
        _add_embedded_fields(child, v2=v2)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            _add_embedded_fields(schema[key], v2=v2)
    if v2 and schema.get("x-kubernetes-preserve-unknown-fields"):
        return
    if schema.get("x-kubernetes-embedded-resource"):
        properties = schema.setdefault("properties", {})
        properties["apiVersion"] = {"description": EMBEDDED_API_VERSION, "type": "string"}
        properties["kind"] = {"description": EMBEDDED_KIND, "type": "string"}
        properties["metadata"] = meta_ref("ObjectMeta", OBJECT_META, v2=v2)
        required = schema.get("required") or []  # the CRD's own list: not to be changed
        schema["required"] = [*required, *(n for n in ("kind", "apiVersion") if n not in required)]


# What a structural schema keeps (apiextensions' `Structural`: Generic, Extensions,
# ValueValidation, ValidationExtensions), and the flags it writes only when true.
_KEPT = frozenset(
    (
        "type", "description", "title", "default", "example", "externalDocs", "format",
        "maximum", "minimum", "maxLength", "minLength", "pattern", "maxItems", "minItems",
        "multipleOf", "enum", "maxProperties", "minProperties", "required",
        "x-kubernetes-list-map-keys", "x-kubernetes-list-type", "x-kubernetes-map-type",
        "x-kubernetes-validations",
    )
)  # fmt: skip
_FLAGS = frozenset(
    (
        "nullable", "exclusiveMaximum", "exclusiveMinimum", "uniqueItems",
        "x-kubernetes-preserve-unknown-fields", "x-kubernetes-embedded-resource",
        "x-kubernetes-int-or-string",
    )
)  # fmt: skip
_INT_OR_STRING = [{"type": "integer"}, {"type": "string"}]


def structural_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A CRD schema as `NewStructural(...).Unfold().ToKubeOpenAPI()` gives it back: what a
    structural schema has no field for is gone, so are empty values and false flags, and an
    int-or-string gets its anyOf."""
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _FLAGS:
            if value is True:
                out[key] = True
        elif key in _KEPT:
            if value not in (None, "", [], {}):
                out[key] = value
        elif key == "properties" and value:
            out[key] = {name: structural_schema(child) for name, child in value.items()}
        elif key in ("items", "not") and isinstance(value, dict):
            out[key] = structural_schema(value)
        elif key == "additionalProperties" and value is not None:
            out[key] = structural_schema(value) if isinstance(value, dict) else value
        elif key in ("allOf", "anyOf", "oneOf") and value:
            out[key] = [structural_schema(item) for item in value]
    if out.get("x-kubernetes-int-or-string"):
        _unfold_int_or_string(out)
    return out


def _unfold_int_or_string(schema: dict[str, Any]) -> None:
    """`Unfold`: an int-or-string says so in anyOf, unless it already does."""
    if schema.get("anyOf") == _INT_OR_STRING:
        return
    all_of = schema.get("allOf") or []
    if all_of and all_of[0] == {"anyOf": _INT_OR_STRING}:
        return
    if "anyOf" not in schema:
        schema["anyOf"] = list(_INT_OR_STRING)
    else:
        schema["allOf"] = [{"anyOf": list(_INT_OR_STRING)}, *all_of]
