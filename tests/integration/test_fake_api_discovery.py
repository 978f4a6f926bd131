"""Discovery, OpenAPI and the Date header as clients negotiate them."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from simulator.neighbours.flux_crds import FLUX_CRDS
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
