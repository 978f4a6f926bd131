"""Steps proving the status service's RBAC (T015): the fake API, with our status manifests applied,
answers a ServiceAccount's token as kube-apiserver would.
"""

from __future__ import annotations

import base64
import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pytest_bdd import given, parsers, then

# --- T015: RBAC enforced by the fake API ------------------------------------------------------


@pytest.fixture
def fake_apis() -> Iterator[list[Any]]:
    """Stops every fake API server a scenario started."""
    servers: list[Any] = []
    yield servers
    for server in servers:
        server.stop()


@given("the fake API with our status manifests applied", target_fixture="fake_api")
def fake_api_with_status(fake_apis: list[Any]) -> Any:
    from simulator.api import ApiServer
    from simulator.api.store import ObjectStore
    from simulator.clock import VirtualClock
    from tests.bdd.manifest_steps import ROOT, kustomize
    from tests.fixtures import NOW, Appliance

    store = ObjectStore(VirtualClock(NOW))
    for crd in _flux_crds():
        store.create(crd)
    for obj in kustomize(ROOT / "appliance" / "manifests" / "status"):
        store.create(obj)
    for namespace in ("msp", "flux-system"):
        if store.get("v1", "Namespace", namespace) is None:
            store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "appliance-status-auth", "namespace": "appliance-system"},
        "data": {"token": base64.b64encode(b"s3cret-token").decode()},
    }
    if store.get("v1", "Secret", "appliance-status-auth", "appliance-system") is None:
        store.create(secret)
    for pod in Appliance.healthy().of_kind("Pod"):
        if pod["metadata"]["namespace"] == "msp":
            store.create({k: v for k, v in pod.items() if k != "status"})
    server = ApiServer(store, host="127.0.0.1", port=0)
    server.start()
    fake_apis.append(server)
    return server


def _flux_crds() -> list[dict[str, Any]]:
    from simulator.neighbours.flux_crds import FLUX_CRDS

    return [dict(crd) for crd in FLUX_CRDS]


@given(parsers.parse('a token for ServiceAccount "{ref}"'), target_fixture="sa_token")
def serviceaccount_token(fake_api: Any, ref: str) -> str:
    namespace, name = ref.split("/", 1)
    return str(fake_api.issue_token(namespace, name))


_COLLECTIONS = {
    "pods": "/api/v1/pods",
    "events": "/api/v1/events",
    "secrets": "/api/v1/secrets",
    "helmreleases": "/apis/helm.toolkit.fluxcd.io/v2/helmreleases",
}


def _call(fake_api: Any, token: str, method: str, path: str, **kwargs: Any) -> int:
    response = httpx.request(
        method,
        f"{fake_api.url.rstrip('/')}{path}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10.0,
        verify=ssl.create_default_context(cafile=str(fake_api.ca_file))
        if fake_api.ca_file
        else True,
        **kwargs,
    )
    return response.status_code


@then(parsers.parse('with that token listing "{resource}" in all namespaces is allowed'))
def listing_allowed(fake_api: Any, sa_token: str, resource: str) -> None:
    assert _call(fake_api, sa_token, "GET", _COLLECTIONS[resource]) == 200


@then(parsers.parse('with that token listing "{resource}" in all namespaces is forbidden'))
def listing_forbidden(fake_api: Any, sa_token: str, resource: str) -> None:
    assert _call(fake_api, sa_token, "GET", _COLLECTIONS[resource]) == 403


@then(parsers.parse('with that token reading Secret "{ref}" is forbidden'))
def secret_forbidden(fake_api: Any, sa_token: str, ref: str) -> None:
    namespace, name = ref.split("/", 1)
    path = f"/api/v1/namespaces/{namespace}/secrets/{name}"
    assert _call(fake_api, sa_token, "GET", path) == 403


@then(parsers.parse('with that token creating a ConfigMap in "{namespace}" is forbidden'))
def create_forbidden(fake_api: Any, sa_token: str, namespace: str) -> None:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {}}
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    assert _call(fake_api, sa_token, "POST", path, json=body) == 403


@then(parsers.parse('with that token deleting pod "{ref}" is forbidden'))
def delete_forbidden(fake_api: Any, sa_token: str, ref: str) -> None:
    namespace, name = ref.split("/", 1)
    assert _call(fake_api, sa_token, "DELETE", f"/api/v1/namespaces/{namespace}/pods/{name}") == 403


@then(parsers.parse('with that token exec into "{ref}" is forbidden'))
def exec_forbidden(fake_api: Any, sa_token: str, ref: str) -> None:
    namespace, name = ref.split("/", 1)
    path = f"/api/v1/namespaces/{namespace}/pods/{name}/exec?command=sh&stdout=true"
    assert _call(fake_api, sa_token, "POST", path) == 403
