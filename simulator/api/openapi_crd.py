"""A custom resource group version's OpenAPI v3 document, as kube-apiserver builds it.

apiextensions-apiserver (v0.37.2, `pkg/controller/openapi/builder`) describes each served
version of a CRD as routes (list, create, deletecollection, read, replace, delete, patch, and
those of its status and scale subresources), turns them into a document with kube-openapi's
`builder3`, and merges the documents of every CRD in one group version. This module does the
same from the `KindInfo`s the registry made of the CRDs: the operations with their parameters
(each option type's, described as kube-apiserver's published documents describe them), request
bodies, responses and operation ids; the kind's schema and its list's (`openapi_crd_schemas`);
and the apimachinery types they refer to (and autoscaling/v1's Scale), from the published core
and apps documents.
"""

from __future__ import annotations

from functools import cache
from typing import Any, NamedTuple

from simulator.api import openapi_assets
from simulator.api.kinds import KindInfo
from simulator.api.openapi_crd_schemas import META, custom_schema, list_schema, model_name

__all__ = ["crd_document"]

_INFO = {"title": "Kubernetes CRD Swagger", "version": "v0.1.0"}
_READ = ("application/json", "application/yaml")
_SCALE_REF = "#/components/schemas/io.k8s.api.autoscaling.v1.Scale"
_PATCHES = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/apply-patch+yaml",
)

# Which query parameters each action takes: the fields of its options type
# (`endpoints.AddObjectParams` of Get/List/Create/Update/Patch/DeleteOptions); a deletecollection
# takes ListOptions' alone (the CRD builder's choice, unlike a built-in's).
_LIST_OPTIONS = (
    "allowWatchBookmarks", "continue", "fieldSelector", "labelSelector", "limit",
    "resourceVersion", "resourceVersionMatch", "sendInitialEvents", "shardSelector",
    "timeoutSeconds", "watch",
)  # fmt: skip
_WRITE_OPTIONS = ("dryRun", "fieldManager", "fieldValidation")
_OPTIONS = {
    "get": ("resourceVersion",),
    "list": _LIST_OPTIONS,
    "deletecollection": _LIST_OPTIONS,
    "post": _WRITE_OPTIONS,
    "put": _WRITE_OPTIONS,
    "patch": (*_WRITE_OPTIONS, "force"),
    "delete": (
        "dryRun", "gracePeriodSeconds", "ignoreStoreReadErrorWithClusterBreakingPotential",
        "orphanDependents", "propagationPolicy",
    ),
}  # fmt: skip
# The built-in operation whose parameters are described as each action's: a ConfigMap's
# (PatchOptions' fieldManager reads differently from Create/UpdateOptions').
_DESCRIBED_BY = {
    "get": "listCoreV1NamespacedConfigMap",  # GetOptions' resourceVersion reads as ListOptions'
    "list": "listCoreV1NamespacedConfigMap",
    "deletecollection": "listCoreV1NamespacedConfigMap",
    "post": "createCoreV1NamespacedConfigMap",
    "put": "replaceCoreV1NamespacedConfigMap",
    "patch": "patchCoreV1NamespacedConfigMap",
    "delete": "deleteCoreV1NamespacedConfigMap",
}
_PRETTY = "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget)."  # noqa: E501
_NAMESPACE = "object name and auth scope, such as for teams and projects"


def crd_document(group: str, version: str, kinds: list[KindInfo]) -> dict[str, Any]:
    """The merged document of every CRD served at `group/version` (`MergeSpecsV3`)."""
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for info in kinds:
        paths.update(_paths(info))
        schemas[model_name(info)] = custom_schema(info)
        schemas[model_name(info, info.list_kind_name)] = list_schema(info)
    referred = _closure(_published_schemas(), _refs([paths, schemas]))
    schemas.update({name: _named_as_client_go(name, schema) for name, schema in referred.items()})
    return {"openapi": "3.0.0", "info": _INFO, "paths": paths, "components": {"schemas": schemas}}


# ----------------------------------------------------------------------- operations


class _Route(NamedTuple):
    """One route of `generateBuilder`: its action (`x-kubernetes-action`), its verb (the
    operation's first word) and the schema it answers with."""

    path: str
    method: str
    action: str
    verb: str
    answer: str


def _paths(info: KindInfo) -> dict[str, Any]:
    """One CRD version's routes grouped by path (`generateBuilder`, then builder3)."""
    kind_ref = "#/components/schemas/" + model_name(info)
    list_ref = "#/components/schemas/" + model_name(info, info.list_kind_name)
    status_ref = f"#/components/schemas/{META}Status"
    root = f"/apis/{info.group}/{info.version}/{info.plural}"
    routes: list[tuple[str, str, str, str, str]] = []
    if info.namespaced:
        routes.append((root, "get", "list", "list", list_ref))
        root = f"/apis/{info.group}/{info.version}/namespaces/{{namespace}}/{info.plural}"
    routes += [
        (root, "get", "list", "list", list_ref),
        (root, "post", "post", "create", kind_ref),
        (root, "delete", "deletecollection", "deletecollection", status_ref),
        (root + "/{name}", "get", "get", "read", kind_ref),
        (root + "/{name}", "put", "put", "replace", kind_ref),
        (root + "/{name}", "delete", "delete", "delete", status_ref),
        (root + "/{name}", "patch", "patch", "patch", kind_ref),
    ]
    if "status" in info.subresources:
        routes += [
            (root + "/{name}/status", "get", "get", "read", kind_ref),
            (root + "/{name}/status", "put", "put", "replace", kind_ref),
            (root + "/{name}/status", "patch", "patch", "patch", kind_ref),
        ]
    if "scale" in info.subresources:
        routes += [
            (root + "/{name}/scale", "get", "get", "read", _SCALE_REF),
            (root + "/{name}/scale", "put", "put", "replace", _SCALE_REF),
            (root + "/{name}/scale", "patch", "patch", "patch", _SCALE_REF),
        ]
    by_path: dict[str, dict[str, Any]] = {}
    for route in map(_Route._make, routes):
        by_path.setdefault(route.path, {})[route.method] = _operation(info, route)
    return {path: _hoist_common(item) for path, item in by_path.items()}


def _operation(info: KindInfo, route: _Route) -> dict[str, Any]:
    path, _method, action, verb, answer = route
    last = path.rsplit("/", 1)[1]
    subresource = last if last in ("status", "scale") else ""
    name = verb + ("Namespaced" if info.namespaced else "") + info.kind + subresource.title()
    if info.namespaced and "{namespace}" not in path:
        name = f"list{info.kind}ForAllNamespaces"
    operation_id, tag = _operation_id_and_tag(name, path)
    parameters = [_parameter("pretty", "query", _PRETTY)]
    if "{namespace}" in path:
        parameters.append(_parameter("namespace", "path", _NAMESPACE))
    if "{name}" in path:
        parameters.append(_parameter("name", "path", f"name of the {info.kind}"))
    described = _described_options(action)
    for option in _OPTIONS[action]:
        parameters.append(described.get(option) or _parameter(option, "query", ""))
    operation: dict[str, Any] = {
        "tags": [tag],
        "description": _description(info, subresource, verb),
        "operationId": operation_id,
        "parameters": parameters,
    }
    body = _request_body(action, answer)
    if body:
        operation["requestBody"] = body
    operation["responses"] = _responses(action, answer)
    operation["x-kubernetes-action"] = action
    operation["x-kubernetes-group-version-kind"] = {
        "group": info.group,
        "version": info.version,
        "kind": info.kind,
    }
    return operation


def _hoist_common(item: dict[str, Any]) -> dict[str, Any]:
    """builder3's `findCommonParameters`: a parameter every operation of a path takes is the
    path's; each list sorted by name, then `in`."""
    operations = list(item.values())
    keys = [{(p["name"], p["in"]) for p in op["parameters"]} for op in operations]
    common = set.intersection(*keys)
    shared = {(p["name"], p["in"]): p for p in operations[0]["parameters"]}
    for op in operations:
        own = sorted(
            (p for p in op["parameters"] if (p["name"], p["in"]) not in common),
            key=lambda p: (p["name"], p["in"]),
        )
        if own:
            op["parameters"] = own
        else:
            del op["parameters"]
    return {**item, "parameters": [shared[key] for key in sorted(common)]}


def _operation_id_and_tag(operation: str, path: str) -> tuple[str, str]:
    """apiserver's `GetOperationIDAndTags`: `createExampleComV1NamespacedWidget` and its tag,
    `exampleCom_v1`."""
    verb = next(
        v
        for v in ("list", "create", "delete", "read", "replace", "patch")
        if operation.startswith(v)
    )
    parts = path.strip("/").split("/")
    group = parts[1].removesuffix(".k8s.io")
    prefix = verb + _valid_id(group, True) + _valid_id(parts[2], True)
    return prefix + _valid_id(
        operation[len(verb) :], True
    ), f"{_valid_id(group, False)}_{_valid_id(parts[2], False)}"


def _valid_id(text: str, capitalize: bool) -> str:
    """apiserver's `ToValidOperationID`: punctuation dropped, the letter after it upper-cased."""
    out: list[str] = []
    for index, char in enumerate(text):
        if char.isalpha() or char == "_" or (index and char.isdigit()):
            out.append(char.upper() if capitalize else char)
            capitalize = False
        else:
            capitalize = True
    return "".join(out)


def _description(info: KindInfo, subresource: str, verb: str) -> str:
    """apiextensions' `descriptionFor`: `read status of the specified Widget`, `create a Widget`."""
    sub = f" {subresource} of" if subresource else ""
    if verb == "patch":
        return f"partially update{sub} the specified {info.kind}"
    if verb == "deletecollection":
        return f"delete collection of{sub + ' a' if sub else ''} {info.kind}"
    article = {"list": " objects of kind ", "read": " the specified ", "replace": " the specified "}
    return f"{verb}{sub}{article.get(verb) or _article_for(info.kind)}{info.kind}"


def _article_for(noun: str) -> str:
    """apiserver's `GetArticleForNoun(noun, " ")`: plurals take none, vowels `an`."""
    if noun.endswith("s") and not noun.endswith("ss"):
        return " "
    return " an " if noun[:1].lower() in "aeiou" else " a "


def _parameter(name: str, where: str, description: str) -> dict[str, Any]:
    parameter: dict[str, Any] = {"name": name, "in": where}
    if description:
        parameter["description"] = description
    if where == "path":
        parameter["required"] = True
    parameter["schema"] = {"type": "string", "uniqueItems": True}
    return parameter


@cache
def _described_options(action: str) -> dict[str, dict[str, Any]]:
    """The query parameters of the ConfigMap operation that describes `action`'s, by name."""
    core = openapi_assets.v3_document("", "v1")
    if core is None:
        return {}
    for item in core["paths"].values():
        for method, operation in item.items():
            if method != "parameters" and operation.get("operationId") == _DESCRIBED_BY[action]:
                every = [*item.get("parameters", ()), *operation.get("parameters", ())]
                return {p["name"]: p for p in every if p.get("in") == "query"}
    return {}


def _content(ref: str, media_types: tuple[str, ...]) -> dict[str, Any]:
    return {media: {"schema": {"$ref": ref}} for media in media_types}


def _request_body(action: str, answer: str) -> dict[str, Any] | None:
    if action in ("post", "put"):
        return {"content": _content(answer, _READ), "required": True}
    if action == "patch":
        return {
            "content": _content(f"#/components/schemas/{META}Patch", _PATCHES),
            "required": True,
        }
    if action == "delete":
        return {"content": _content(f"#/components/schemas/{META}DeleteOptions", _READ)}
    return None


def _responses(action: str, answer: str) -> dict[str, Any]:
    codes = {"post": ("200", "201", "202"), "put": ("200", "201"), "delete": ("200", "202")}
    words = {"200": "OK", "201": "Created", "202": "Accepted"}
    responses = {
        code: {"description": words[code], "content": _content(answer, _READ)}
        for code in codes.get(action, ("200",))
    }
    responses["401"] = {"description": "Unauthorized"}
    return responses


# ----------------------------------------------------------------------- referred types


def _published_schemas() -> dict[str, Any]:
    """The core group's published types, and apps' (which hold autoscaling/v1's Scale)."""
    schemas: dict[str, Any] = {}
    for group in ("apps", ""):
        document = openapi_assets.v3_document(group, "v1")
        schemas |= document["components"]["schemas"] if document else {}
    return schemas


# The builder names its types' group-version-kinds by client-go's scheme, which has no
# admission, imagepolicy, apiextensions or apiregistration types; kube-apiserver's own (whose
# swagger document lists every group version a type is registered in) has them.
_NOT_IN_CLIENT_GO = frozenset(
    ("admission.k8s.io", "apiextensions.k8s.io", "apiregistration.k8s.io", "imagepolicy.k8s.io")
)


def _named_as_client_go(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with the group-version-kinds client-go's scheme gives its type (a DeleteOptions
    is registered in every group version), where the published core document has core's."""
    swagger = openapi_assets.v2_document()
    every = ((swagger or {}).get("definitions") or {}).get(name, {})
    kinds = every.get("x-kubernetes-group-version-kind")
    if not kinds or "x-kubernetes-group-version-kind" not in schema:
        return schema
    named = [k for k in kinds if k.get("group") not in _NOT_IN_CLIENT_GO]
    return {**schema, "x-kubernetes-group-version-kind": named}


def _closure(schemas: dict[str, Any], roots: list[str]) -> dict[str, Any]:
    """The named schemas and every schema they refer to."""
    found: dict[str, Any] = {}
    pending = list(roots)
    while pending:
        name = pending.pop()
        if name in found or name not in schemas:
            continue
        found[name] = schemas[name]
        pending.extend(_refs(schemas[name]))
    return found


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        out = [str(node["$ref"]).rpartition("/")[2]] if "$ref" in node else []
        for value in node.values():
            out.extend(_refs(value))
        return out
    if isinstance(node, list):
        return [ref for item in node for ref in _refs(item)]
    return []
