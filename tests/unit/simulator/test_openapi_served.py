"""The published OpenAPI documents made into kube-apiserver's served form (api/openapi_served)."""

from __future__ import annotations

from simulator.api.openapi_served import definition_name, enum_fields, served_document

# The shape openapi-gen writes (k8s.io/kubernetes v1.37.2, pkg/generated/openapi), cut short.
GO_SOURCE = """package openapi

import (
\tcorev1 "k8s.io/api/core/v1"
\tcommon "k8s.io/kube-openapi/pkg/common"
)

func GetOpenAPIDefinitions(ref common.ReferenceCallback) map[string]common.OpenAPIDefinition {
\treturn map[string]common.OpenAPIDefinition{
\t\tcorev1.ServiceSpec{}.OpenAPIModelName():   schema_k8sio_api_core_v1_ServiceSpec(ref),
\t}
}

func schema_k8sio_api_core_v1_ServiceSpec(ref common.ReferenceCallback) common.OpenAPIDefinition {
\treturn common.OpenAPIDefinition{
\t\tSchema: spec.Schema{
\t\t\tSchemaProps: spec.SchemaProps{
\t\t\t\tDescription: "ServiceSpec describes the attributes that a user creates on a service.",
\t\t\t\tType:        []string{"object"},
\t\t\t\tProperties: map[string]spec.Schema{
\t\t\t\t\t"type": {
\t\t\t\t\t\tSchemaProps: spec.SchemaProps{
\t\t\t\t\t\t\tDescription: "type.\\n\\nPossible enum values:\\n - `\\"ClusterIP\\"` is one.",
\t\t\t\t\t\t\tType:        []string{"string"},
\t\t\t\t\t\t\tEnum:        []interface{}{"ClusterIP", "NodePort"},
\t\t\t\t\t\t},
\t\t\t\t\t},
\t\t\t\t\t"ipFamilies": {
\t\t\t\t\t\tSchemaProps: spec.SchemaProps{
\t\t\t\t\t\t\tDescription: "IPFamilies is a list of IP families.",
\t\t\t\t\t\t\tType:        []string{"array"},
\t\t\t\t\t\t\tItems: &spec.SchemaOrArray{
\t\t\t\t\t\t\t\tSchema: &spec.Schema{
\t\t\t\t\t\t\t\t\tSchemaProps: spec.SchemaProps{
\t\t\t\t\t\t\t\t\t\tType:   []string{"string"},
\t\t\t\t\t\t\t\t\t\tEnum:   []interface{}{"", "IPv4", "IPv6"},
\t\t\t\t\t\t\t\t\t},
\t\t\t\t\t\t\t\t},
\t\t\t\t\t\t\t},
\t\t\t\t\t\t},
\t\t\t\t\t},
\t\t\t\t},
\t\t\t},
\t\t},
\t}
}
"""


def test_a_go_type_is_named_as_kube_openapi_names_it() -> None:
    assert definition_name("k8s.io/api/core/v1.Pod") == "io.k8s.api.core.v1.Pod"
    assert (
        definition_name("k8s.io/apimachinery/pkg/apis/meta/v1.Time")
        == "io.k8s.apimachinery.pkg.apis.meta.v1.Time"
    )


def test_enum_fields_are_read_with_their_paths_and_descriptions() -> None:
    found = enum_fields(GO_SOURCE)
    assert found["io.k8s.api.core.v1.ServiceSpec"] == [
        (
            ("type",),
            'type.\n\nPossible enum values:\n - `"ClusterIP"` is one.',
            ["ClusterIP", "NodePort"],
        ),
        (("ipFamilies", "items"), None, ["", "IPv4", "IPv6"]),
    ]
    # Older generators registered a definition by its Go name, quoted.
    quoted = GO_SOURCE.replace(
        "corev1.ServiceSpec{}.OpenAPIModelName():", '"k8s.io/api/core/v1.ServiceSpec":'
    )
    assert enum_fields(quoted) == found


def test_the_served_form_names_enums_and_no_cbor() -> None:
    published = {
        "paths": {
            "/api/v1/services": {
                "get": {
                    "responses": {
                        "200": {
                            "content": {
                                "application/json": {"schema": {}},
                                "application/cbor": {"schema": {}},
                                "application/cbor-seq": {"schema": {}},
                            }
                        }
                    }
                }
            }
        },
        "components": {
            "schemas": {
                "io.k8s.api.core.v1.ServiceSpec": {
                    "properties": {
                        "type": {"type": "string", "description": "type determines how."},
                        "ipFamilies": {"type": "array", "items": {"type": "string"}},
                    }
                }
            }
        },
    }
    served = served_document(published, enum_fields(GO_SOURCE))
    content = served["paths"]["/api/v1/services"]["get"]["responses"]["200"]["content"]
    assert list(content) == ["application/json"]
    spec = served["components"]["schemas"]["io.k8s.api.core.v1.ServiceSpec"]["properties"]
    assert spec["type"]["enum"] == ["ClusterIP", "NodePort"]
    assert spec["type"]["description"].endswith("is one.")
    assert spec["ipFamilies"]["items"]["enum"] == ["", "IPv4", "IPv6"]
    swagger = served_document({"produces": ["application/json", "application/cbor"]}, {})
    assert swagger == {"produces": ["application/json"]}
