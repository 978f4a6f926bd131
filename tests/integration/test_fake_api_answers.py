"""Answers of the fake API that `appliance-sim fidelity` found differing from kube-apiserver
v1.37 (issue 13), each checked in the shape the real server gives: typed and unstructured list
items, names refused with apimachinery's words, deletes answered with a Status, dry runs without a
resourceVersion, a JSON patch that cannot apply, reviews, TokenRequest tokens, namespaces."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from simulator.neighbours.flux_crds import FLUX_CRDS
from tests.integration.fake_api_harness import Harness, needs_bootstrap_policy, running_api
from tests.integration.served_world import raw_http

CONFIGMAPS = "/api/v1/namespaces/default/configmaps"


@pytest.fixture
def http(tmp_path: Path) -> Iterator[tuple[Harness, httpx.Client]]:
    with running_api(tmp_path) as api, raw_http(api) as client:
        yield api, client


def test_built_in_items_are_typed_custom_items_unstructured(
    http: tuple[Harness, httpx.Client],
) -> None:
    """A built-in list's items carry no apiVersion and kind; a custom resource list's do, and
    its metadata always says `continue`."""
    api, client = http
    api.store.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}})
    for crd in FLUX_CRDS:
        api.store.create(crd)
    api.store.create(
        {
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": {"name": "k", "namespace": "default"},
            "spec": {"interval": "1m", "prune": True, "sourceRef": {"kind": "GitRepository"}},
        }
    )
    built_in = client.get(CONFIGMAPS).json()
    assert built_in["items"][0]["metadata"]["name"] == "a"
    assert "kind" not in built_in["items"][0]
    assert "apiVersion" not in built_in["items"][0]
    assert "continue" not in built_in["metadata"]
    custom = client.get(
        "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/default/kustomizations"
    ).json()
    assert custom["items"][0]["kind"] == "Kustomization"
    assert custom["items"][0]["apiVersion"] == "kustomize.toolkit.fluxcd.io/v1"
    assert custom["metadata"]["continue"] == ""


@pytest.mark.parametrize(
    ("path", "name", "says"),
    [
        (CONFIGMAPS, "Bad_Name", "a lowercase RFC 1123 subdomain must consist of"),
        ("/api/v1/namespaces", "bad.ns", "must not contain dots"),
        ("/api/v1/namespaces/default/services", "1web", "a DNS-1035 label must consist of"),
        ("/apis/rbac.authorization.k8s.io/v1/clusterroles", "a:b/c", "may not contain '/'"),
    ],
)
def test_a_name_the_kind_may_not_have_is_422_in_apimachinerys_words(
    http: tuple[Harness, httpx.Client], path: str, name: str, says: str
) -> None:
    _, client = http
    answer = client.post(path, json={"metadata": {"name": name}, "spec": {"ports": [{"port": 1}]}})
    assert answer.status_code == 422
    status = answer.json()
    assert status["reason"] == "Invalid"
    assert f'is invalid: metadata.name: Invalid value: "{name}": {says}' in status["message"]
    assert status["details"]["causes"][0]["field"] == "metadata.name"
    assert status["details"]["name"] == name


def test_rbac_names_with_colons_are_fine(http: tuple[Harness, httpx.Client]) -> None:
    _, client = http
    path = "/apis/rbac.authorization.k8s.io/v1/clusterroles"
    assert client.post(path, json={"metadata": {"name": "system:x"}}).status_code == 201


def test_a_delete_that_removes_at_once_answers_a_status(
    http: tuple[Harness, httpx.Client],
) -> None:
    """A ConfigMap's delete answers with a Status naming what went; a ServiceAccount's (like a
    pod's, a service's, a namespace's) with the object, as its registry returns it."""
    _, client = http
    created = client.post(CONFIGMAPS, json={"metadata": {"name": "gone"}}).json()
    answer = client.delete(f"{CONFIGMAPS}/gone").json()
    assert answer == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": {"name": "gone", "kind": "configmaps", "uid": created["metadata"]["uid"]},
    }
    client.post("/api/v1/namespaces/default/serviceaccounts", json={"metadata": {"name": "sa"}})
    kept = client.delete("/api/v1/namespaces/default/serviceaccounts/sa").json()
    assert kept["kind"] == "ServiceAccount"


def test_a_dry_run_create_stores_nothing_and_has_no_resource_version(
    http: tuple[Harness, httpx.Client],
) -> None:
    _, client = http
    answer = client.post(f"{CONFIGMAPS}?dryRun=All", json={"metadata": {"name": "dry"}})
    assert answer.status_code == 201
    assert "resourceVersion" not in answer.json()["metadata"]
    assert client.get(f"{CONFIGMAPS}/dry").status_code == 404


def test_remaining_item_count_only_without_selectors(http: tuple[Harness, httpx.Client]) -> None:
    _, client = http
    for index in range(3):
        client.post(CONFIGMAPS, json={"metadata": {"name": f"p{index}", "labels": {"s": "x"}}})
    plain = client.get(CONFIGMAPS, params={"limit": 1}).json()["metadata"]
    assert plain["remainingItemCount"] == 3  # the others and kube-controller-manager's root CA
    selected = client.get(CONFIGMAPS, params={"limit": 1, "labelSelector": "s=x"}).json()
    assert selected["metadata"]["continue"]
    assert "remainingItemCount" not in selected["metadata"]


def test_a_json_patch_that_cannot_apply_is_the_generic_422(
    http: tuple[Harness, httpx.Client],
) -> None:
    _, client = http
    client.post(CONFIGMAPS, json={"metadata": {"name": "p"}, "data": {"a": "1"}})
    answer = client.patch(
        f"{CONFIGMAPS}/p",
        content=json.dumps([{"op": "test", "path": "/data/a", "value": "2"}]),
        headers={"Content-Type": "application/json-patch+json"},
    )
    assert answer.status_code == 422
    assert answer.json() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "the server rejected our request due to an error in our request",
        "reason": "Invalid",
        "details": {},
        "code": 422,
    }


def test_an_access_review_is_typed_and_unstamped(http: tuple[Harness, httpx.Client]) -> None:
    _, client = http
    spec = {"resourceAttributes": {"verb": "list", "resource": "pods"}}
    answer = client.post(
        "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", json={"spec": spec}
    ).json()
    assert answer["kind"] == "SelfSubjectAccessReview"
    assert answer["apiVersion"] == "authorization.k8s.io/v1"
    # Never stored, so never stamped; the create's managedFields are answered with the body.
    assert list(answer["metadata"]) == ["managedFields"]
    (entry,) = answer["metadata"]["managedFields"]
    assert (entry["manager"], entry["operation"]) == ("python-httpx", "Update")
    assert answer["status"] == {"allowed": True}  # system:masters: no authorizer gave a reason


@needs_bootstrap_policy
def test_a_token_request_answers_a_jwt_bound_to_the_account(
    http: tuple[Harness, httpx.Client],
) -> None:
    _, client = http
    account = client.post(
        "/api/v1/namespaces/default/serviceaccounts", json={"metadata": {"name": "robot"}}
    ).json()
    answer = client.post(
        "/api/v1/namespaces/default/serviceaccounts/robot/token",
        json={"spec": {"expirationSeconds": 3600}},
    ).json()
    uid = account["metadata"]["uid"]
    assert answer["metadata"]["uid"] == uid
    token = answer["status"]["token"]
    parts = token.split(".")
    assert len(parts) == 3
    claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    assert claims["sub"] == "system:serviceaccount:default:robot"
    assert claims["kubernetes.io"]["serviceaccount"] == {"name": "robot", "uid": uid}
    assert claims["exp"] - claims["iat"] == 3600
    whoami = client.post(
        "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        json={},
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    assert whoami["status"]["userInfo"]["username"] == "system:serviceaccount:default:robot"


def test_a_namespace_is_created_with_its_finalizer_and_deleted_as_terminating(
    http: tuple[Harness, httpx.Client],
) -> None:
    _, client = http
    created = client.post(
        "/api/v1/namespaces", json={"metadata": {"name": "shop"}, "spec": {"finalizers": []}}
    ).json()
    assert created["spec"] == {"finalizers": ["kubernetes"]}
    deleted = client.delete("/api/v1/namespaces/shop").json()
    assert deleted["status"] == {"phase": "Terminating"}
    assert "deletionGracePeriodSeconds" not in deleted["metadata"]


def test_a_foreground_delete_marks_the_owner_then_the_collector_lets_it_go(
    http: tuple[Harness, httpx.Client],
) -> None:
    """Even without dependents the answer is the marked owner (foregroundDeletion finalizer,
    deletionTimestamp, no grace left, a new generation); then it is gone."""
    _, client = http
    path = "/apis/apps/v1/namespaces/default/deployments"
    labels = {"app": "w"}
    body = {
        "metadata": {"name": "w"},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "w", "image": "busybox"}]},
            },
        },
    }
    assert client.post(path, json=body).json()["metadata"]["generation"] == 1
    answer = client.delete(f"{path}/w", params={"propagationPolicy": "Foreground"}).json()
    meta = answer["metadata"]
    assert answer["kind"] == "Deployment"
    assert meta["finalizers"] == ["foregroundDeletion"]
    assert meta["deletionTimestamp"]
    assert meta["deletionGracePeriodSeconds"] == 0
    assert meta["generation"] == 2
    assert client.get(f"{path}/w").status_code == 404


def test_a_group_versions_resources_are_listed_by_name_with_kube_hashes(
    http: tuple[Harness, httpx.Client],
) -> None:
    _, client = http
    names = [r["name"] for r in client.get("/apis/apps/v1").json()["resources"]]
    assert names == sorted(names)
    assert "deployments/scale" in names
    core = {r["name"]: r for r in client.get("/api/v1").json()["resources"]}
    # base64(sha256("/v1/ConfigMap")[:8]), what kube-apiserver v1.37 lists
    assert core["configmaps"]["storageVersionHash"] == "qFsyl6wFWjQ="


def test_a_crd_is_answered_as_created_then_established(
    http: tuple[Harness, httpx.Client],
) -> None:
    """The create answers names not yet accepted (kube-apiserver's controllers accept them a
    moment later); the next read finds the CRD established and its resources served."""
    _, client = http
    crd = next(c for c in FLUX_CRDS if c["spec"]["names"]["kind"] == "GitRepository")
    path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    created = client.post(path, json=crd).json()
    assert created["status"]["acceptedNames"] == {"plural": "", "kind": ""}
    assert created["status"]["conditions"] is None
    later = client.get(f"{path}/{crd['metadata']['name']}").json()
    assert later["status"]["acceptedNames"]["kind"] == "GitRepository"
    established = {c["type"]: c["status"] for c in later["status"]["conditions"]}
    assert established == {"NamesAccepted": "True", "Established": "True"}
    assert int(later["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
    listed = client.get("/apis/source.toolkit.fluxcd.io/v1/namespaces/default/gitrepositories")
    assert listed.status_code == 200
