"""A CRD's OpenAPI v3 document as apiextensions-apiserver builds it. The expected values are
kube-apiserver v1.37.2's answers for the same CRDs; the whole documents are compared with a real
control plane's in tests/integration/test_fake_api_vs_apiserver_crd_openapi.py."""

from __future__ import annotations

from typing import Any

from simulator.api.kind_registry import KindRegistry
from simulator.api.openapi_crd import crd_document
from simulator.api.openapi_crd_schemas import structural_schema
from tests.fixtures.manifests import widget_crd


def _document(crd: dict[str, Any]) -> dict[str, Any]:
    registry = KindRegistry()
    (info,) = registry.add_crd(crd)
    return crd_document(info.group, info.version, [info])


def _widgets(**spec: Any) -> dict[str, Any]:
    crd = widget_crd({"size": {"type": "integer"}})
    crd["spec"].update(spec)
    crd["spec"]["versions"][0]["subresources"] = {"status": {}}
    return crd


def test_operations_are_named_described_and_tagged_as_kube_apiserver_names_them() -> None:
    paths = _document(_widgets())["paths"]
    base = "/apis/example.com/v1/namespaces/{namespace}/widgets"
    operations = {
        (path, method): op
        for path, item in paths.items()
        for method, op in item.items()
        if method != "parameters"
    }
    named = {
        key: (op["operationId"], op["description"], op["x-kubernetes-action"])
        for key, op in operations.items()
    }
    assert named[("/apis/example.com/v1/widgets", "get")] == (
        "listExampleComV1WidgetForAllNamespaces",
        "list objects of kind Widget",
        "list",
    )
    assert named[(base, "post")] == (
        "createExampleComV1NamespacedWidget",
        "create a Widget",
        "post",
    )
    assert named[(base, "delete")] == (
        "deleteExampleComV1CollectionNamespacedWidget",
        "delete collection of Widget",
        "deletecollection",
    )
    assert named[(base + "/{name}/status", "patch")] == (
        "patchExampleComV1NamespacedWidgetStatus",
        "partially update status of the specified Widget",
        "patch",
    )
    assert {tag for op in operations.values() for tag in op["tags"]} == {"exampleCom_v1"}


def test_a_cluster_scoped_kind_has_no_namespace_and_a_vowel_takes_an() -> None:
    crd = _widgets(scope="Cluster", names={"kind": "Alarm", "plural": "alarms"})
    paths = _document(crd)["paths"]
    assert sorted(paths) == [
        "/apis/example.com/v1/alarms",
        "/apis/example.com/v1/alarms/{name}",
        "/apis/example.com/v1/alarms/{name}/status",
    ]
    post = paths["/apis/example.com/v1/alarms"]["post"]
    assert (post["operationId"], post["description"]) == (
        "createExampleComV1Alarm",
        "create an Alarm",
    )


def test_what_every_operation_of_a_path_takes_is_the_paths() -> None:
    paths = _document(_widgets())["paths"]
    item = paths["/apis/example.com/v1/namespaces/{namespace}/widgets/{name}"]
    assert [(p["name"], p["in"]) for p in item["parameters"]] == [
        ("name", "path"),
        ("namespace", "path"),
        ("pretty", "query"),
    ]
    assert item["parameters"][0]["required"] is True
    assert [p["name"] for p in item["patch"]["parameters"]] == [
        "dryRun",
        "fieldManager",
        "fieldValidation",
        "force",
    ]
    assert item["delete"]["requestBody"].get("required") is None  # DeleteOptions are optional
    assert sorted(item["put"]["responses"]) == ["200", "201", "401"]
    everywhere = paths["/apis/example.com/v1/widgets"]  # one operation: all of it is the path's
    assert "parameters" not in everywhere["get"]
    assert [p["name"] for p in everywhere["parameters"]][:3] == [
        "allowWatchBookmarks",
        "continue",
        "fieldSelector",
    ]


def test_a_schema_comes_back_structural_with_int_or_string_unfolded() -> None:
    either = [{"type": "integer"}, {"type": "string"}]
    schema = {
        "type": "object",
        "$schema": "dropped",
        "x-kubernetes-preserve-unknown-fields": False,
        "properties": {
            "port": {"x-kubernetes-int-or-string": True},
            "both": {"x-kubernetes-int-or-string": True, "anyOf": either},
            "limited": {"x-kubernetes-int-or-string": True, "anyOf": [{"minimum": 1}]},
            "tags": {"type": "array", "uniqueItems": False, "items": {"type": "string"}},
            "note": {"type": "string", "nullable": True, "example": "hello"},
        },
    }
    out = structural_schema(schema)
    assert set(out) == {"type", "properties"}
    properties = out["properties"]
    assert properties["port"] == {"x-kubernetes-int-or-string": True, "anyOf": either}
    assert properties["both"] == {"x-kubernetes-int-or-string": True, "anyOf": either}
    assert properties["limited"]["allOf"] == [{"anyOf": either}]
    assert properties["tags"] == {"type": "array", "items": {"type": "string"}}
    assert properties["note"] == {"type": "string", "nullable": True, "example": "hello"}


def test_an_embedded_resource_gets_type_and_object_meta() -> None:
    embedded = {"type": "object", "x-kubernetes-embedded-resource": True, "required": ["kind"]}
    crd = widget_crd({"template": embedded, "templates": {"type": "array", "items": embedded}})
    schema = _document(crd)["components"]["schemas"]["com.example.v1.Widget"]
    spec = schema["properties"]["spec"]["properties"]
    for each in (spec["template"], spec["templates"]["items"]):
        assert each["required"] == ["kind", "apiVersion"]
        assert sorted(each["properties"]) == ["apiVersion", "kind", "metadata"]
        assert each["properties"]["metadata"]["allOf"] == [
            {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
        ]
    assert schema["x-kubernetes-group-version-kind"] == [
        {"group": "example.com", "kind": "Widget", "version": "v1"}
    ]
