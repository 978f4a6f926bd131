"""managedFields where kube-apiserver's handlers, not the field manager's rules, decide.

Each expectation is what kube-apiserver v1.37.2 answered to the same request in
`appliance-sim fidelity` (tests/integration/test_control_plane_fidelity.py): what a REST storage
fills after the field manager saw a create is no manager's (a Namespace's finalizer, a Service's
IP families); a write through /scale keeps no time (apimachinery's ScaleHandler); a created
object that is never stored but answered with its body (an access review, a TokenRequest)
carries the create's managedFields.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes.client import AppsV1Api, AuthorizationV1Api, CoreV1Api

from simulator.api import openapi_assets
from tests.fixtures.manifests import deployment_manifest
from tests.integration.fake_api_harness import Harness, running_api


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Harness]:
    try:
        openapi_assets.build()
    except openapi_assets.OpenApiError as exc:
        pytest.skip(f"the Kubernetes OpenAPI documents could not be fetched: {exc}")
    with running_api(tmp_path) as harness:
        yield harness


def _entries(obj: Any) -> list[dict[str, Any]]:
    return [
        {
            "manager": e.manager,
            "operation": e.operation,
            "subresource": e.subresource,
            "fields": e.fields_v1,
            "timed": e.time is not None,
        }
        for e in obj.metadata.managed_fields or []
    ]


def test_what_the_storage_assigns_on_create_is_no_managers(api: Harness) -> None:
    core = CoreV1Api(api.client())
    namespace = core.create_namespace({"metadata": {"name": "shop"}})
    assert namespace.spec.finalizers == ["kubernetes"]
    assert [e["fields"] for e in _entries(namespace)] == [
        {"f:metadata": {"f:labels": {".": {}, "f:kubernetes.io/metadata.name": {}}}}
    ]
    service = core.create_namespaced_service(
        "shop", {"metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}]}}
    )
    assert (service.spec.ip_families, service.spec.ip_family_policy) == (["IPv4"], "SingleStack")
    owned = _entries(service)[0]["fields"]["f:spec"]
    assert {"f:sessionAffinity", "f:type"} <= owned.keys()  # defaults are the creator's
    assert not {"f:ipFamilies", "f:ipFamilyPolicy", "f:clusterIP"} & owned.keys()


def test_a_write_through_scale_keeps_no_time(api: Harness) -> None:
    apps = AppsV1Api(api.client())
    containers = [{"name": "web", "image": "nginx:1.27"}]
    apps.create_namespaced_deployment("default", deployment_manifest("web", containers))
    apps.patch_namespaced_deployment_scale("web", "default", {"spec": {"replicas": 2}})
    entries = _entries(apps.read_namespaced_deployment("web", "default"))
    assert [(e["subresource"], e["timed"]) for e in entries] == [("scale", False), (None, True)]
    assert entries[0]["fields"] == {"f:spec": {"f:replicas": {}}}


def test_an_access_review_and_a_token_request_answer_with_their_managed_fields(
    api: Harness,
) -> None:
    client = api.client()
    review = AuthorizationV1Api(client).create_self_subject_access_review(
        {"spec": {"resourceAttributes": {"verb": "list", "resource": "pods", "namespace": "a"}}}
    )
    assert review.status.allowed
    assert _entries(review) == [
        {
            "manager": "OpenAPI-Generator",
            "operation": "Update",
            "subresource": None,
            "fields": {
                "f:spec": {
                    "f:resourceAttributes": {
                        ".": {},
                        "f:namespace": {},
                        "f:resource": {},
                        "f:verb": {},
                    }
                }
            },
            "timed": True,
        }
    ]
    core = CoreV1Api(client)
    core.create_namespaced_service_account("default", {"metadata": {"name": "robot"}})
    token = core.create_namespaced_service_account_token(
        "robot", "default", {"spec": {"expirationSeconds": 3600}}
    )
    assert token.status.token
    assert _entries(token) == [
        {
            "manager": "OpenAPI-Generator",
            "operation": "Update",
            "subresource": "token",
            "fields": {"f:spec": {"f:expirationSeconds": {}}},
            "timed": True,
        }
    ]
