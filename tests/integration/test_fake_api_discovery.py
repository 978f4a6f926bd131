"""Discovery, OpenAPI and the Date header as clients negotiate them."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from simulator.neighbours.flux_crds import FLUX_CRDS
from tests.fixtures.manifests import widget_crd
from tests.integration.fake_api_harness import Harness, running_api

AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Harness]:
    with running_api(tmp_path) as harness:
        yield harness


@pytest.fixture
def http(api: Harness) -> Iterator[httpx.Client]:
    assert api.server.ca_file is not None
    with httpx.Client(
        base_url=api.server.url,
        verify=ssl.create_default_context(cafile=str(api.server.ca_file)),
        headers={"Authorization": f"Bearer {api.server.admin_token}"},
    ) as client:
        yield client


def test_aggregated_discovery_is_served_when_asked(http: httpx.Client) -> None:
    """`Accept: ...as=APIGroupDiscoveryList` gets the v2 list with its content type."""
    response = http.get("/apis", headers={"Accept": f"{AGGREGATED},application/json"})
    assert response.headers["content-type"] == AGGREGATED
    groups = [item["metadata"]["name"] for item in response.json()["items"]]
    assert {"apps", "batch", "rbac.authorization.k8s.io"} <= set(groups)


def test_legacy_discovery_lists_resources_and_subresources(http: httpx.Client) -> None:
    """`/api/v1` lists pods with short names, categories and the exec/log subresources."""
    resources = {r["name"]: r for r in http.get("/api/v1").json()["resources"]}
    assert resources["pods"]["shortNames"] == ["po"]
    assert resources["pods"]["categories"] == ["all"]
    assert {"pods/exec", "pods/log", "pods/status"} <= set(resources)


def test_crd_group_appears_in_discovery_and_openapi_once_created(
    api: Harness, http: httpx.Client
) -> None:
    """A Flux CRD makes its group discoverable and its OpenAPI v3 path appear; deletion 404s."""
    assert http.get("/apis/helm.toolkit.fluxcd.io/v2").status_code == 404
    crd = next(c for c in FLUX_CRDS if c["spec"]["group"] == "helm.toolkit.fluxcd.io")
    api.store.create(crd)
    names = [r["name"] for r in http.get("/apis/helm.toolkit.fluxcd.io/v2").json()["resources"]]
    assert names == ["helmreleases", "helmreleases/status"]
    assert "apis/helm.toolkit.fluxcd.io/v2" in http.get("/openapi/v3").json()["paths"]
    api.store.delete("apiextensions.k8s.io/v1", "CustomResourceDefinition", crd["metadata"]["name"])
    assert http.get("/apis/helm.toolkit.fluxcd.io/v2/helmreleases").status_code == 404


def test_openapi_v3_declares_the_patch_parameters_kubectl_verifies(http: httpx.Client) -> None:
    """The PATCH operation carries the GVK extension and dryRun/fieldValidation parameters."""
    doc = http.get("/openapi/v3/apis/apps/v1").json()
    patch = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"]["kind"] == "Deployment"
    assert {"dryRun", "fieldValidation"} <= {p["name"] for p in patch["parameters"]}


def test_version_and_health_need_no_token(api: Harness) -> None:
    """`/version` and `/healthz` answer anonymous clients; resources do not."""
    context = ssl.create_default_context(cafile=str(api.server.ca_file))
    with httpx.Client(base_url=api.server.url, verify=context) as anonymous:
        assert anonymous.get("/version").json()["gitVersion"] == "v1.31.4"
        assert anonymous.get("/healthz").text == "ok"
        assert anonymous.get("/api/v1/pods").status_code == 401


def _aggregated(http: httpx.Client, path: str) -> dict[str, dict[str, list[dict[str, object]]]]:
    """{group: {version: resources}} of an aggregated discovery list."""
    doc = http.get(path, headers={"Accept": AGGREGATED}).json()
    return {
        item["metadata"].get("name", ""): {v["version"]: v["resources"] for v in item["versions"]}
        for item in doc["items"]
    }


def test_aggregated_discovery_reads_as_kube_apiservers(api: Harness, http: httpx.Client) -> None:
    """As kube-apiserver v1.37 answers (appliance-sim fidelity compares them): resources and
    subresources by name; a built-in's responseKind names its group and version only when they
    are another's; a custom resource's names them always, with the CRD handler's verbs; a
    group's versions GA first, newest first; namespaces have no collection delete."""
    core = _aggregated(http, "/api")[""]["v1"]
    names = [r["resource"] for r in core]
    assert names == sorted(names)
    pods = next(r for r in core if r["resource"] == "pods")
    assert pods["responseKind"] == {"group": "", "version": "", "kind": "Pod"}
    subresources = pods["subresources"]
    assert isinstance(subresources, list)
    assert [s["subresource"] for s in subresources] == sorted(
        s["subresource"] for s in subresources
    )
    namespaces = next(r for r in core if r["resource"] == "namespaces")
    assert "deletecollection" not in namespaces["verbs"]
    apps = _aggregated(http, "/apis")["apps"]["v1"]
    scale = next(s for s in next(r for r in apps if r["resource"] == "deployments")["subresources"])
    assert scale == {
        "subresource": "scale",
        "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"},
        "verbs": ["get", "patch", "update"],
    }
    for crd in FLUX_CRDS:
        api.store.create(crd)
    notification = _aggregated(http, "/apis")["notification.toolkit.fluxcd.io"]
    assert list(notification) == ["v1", "v1beta3", "v1beta2"]
    alerts = next(r for r in notification["v1beta3"] if r["resource"] == "alerts")
    assert alerts["responseKind"] == {
        "group": "notification.toolkit.fluxcd.io",
        "version": "v1beta3",
        "kind": "Alert",
    }
    assert alerts["verbs"] == [
        "delete",
        "deletecollection",
        "get",
        "list",
        "patch",
        "create",
        "update",
        "watch",
    ]


def test_a_custom_kinds_subresources_read_status_then_scale(
    api: Harness, http: httpx.Client
) -> None:
    """The CRD discovery controller adds a kind's status, then its scale (autoscaling/v1
    Scale), in both lists; the legacy list's resources are compared with kube-apiserver's in
    test_fake_api_vs_apiserver_cr_scale.py."""
    crd = widget_crd({"replicas": {"type": "integer"}})
    paths = {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas"}
    crd["spec"]["versions"][0]["subresources"] = {"scale": paths, "status": {}}
    api.store.create(crd)
    legacy = [r["name"] for r in http.get("/apis/example.com/v1").json()["resources"]]
    assert legacy == ["widgets", "widgets/status", "widgets/scale"]
    (widgets,) = _aggregated(http, "/apis")["example.com"]["v1"]
    assert widgets["subresources"] == [
        {
            "subresource": "status",
            "responseKind": {"group": "example.com", "version": "v1", "kind": "Widget"},
            "verbs": ["get", "patch", "update"],
        },
        {
            "subresource": "scale",
            "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"},
            "verbs": ["get", "patch", "update"],
        },
    ]
