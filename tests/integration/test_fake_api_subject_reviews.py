"""Reviews asked on another's behalf: SubjectAccessReview and LocalSubjectAccessReview answered by
the fake API's RBAC for the user and groups in the spec, TokenReview from its token book; asking
is itself RBAC's to allow (system:auth-delegator). Before, both were 404s."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from tests.integration.fake_api_harness import Harness, needs_bootstrap_policy, running_api

RBAC = "rbac.authorization.k8s.io/v1"
pytestmark = needs_bootstrap_policy


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    with running_api(tmp_path_factory.mktemp("reviews")) as harness:
        store = harness.store
        store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
        store.create(
            {
                "apiVersion": RBAC,
                "kind": "RoleBinding",
                "metadata": {"name": "alice-views", "namespace": "shop"},
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "ClusterRole",
                    "name": "view",
                },
                "subjects": [
                    {"kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"}
                ],
            }
        )
        yield harness


def _access(api: Harness, user: str, verb: str, namespace: str, token: str | None = None) -> Any:
    body = client.V1SubjectAccessReview(
        spec=client.V1SubjectAccessReviewSpec(
            user=user,
            resource_attributes=client.V1ResourceAttributes(
                verb=verb, resource="pods", namespace=namespace
            ),
        )
    )
    return client.AuthorizationV1Api(api.client(token)).create_subject_access_review(body).status


def test_a_subject_access_review_answers_for_the_named_user(api: Harness) -> None:
    """alice may list pods in shop through her binding (RBAC names it), not elsewhere, and
    not delete; the admin asking changes nothing of alice's answer."""
    allowed = _access(api, "alice", "list", "shop")
    assert allowed.allowed is True
    assert allowed.reason == (
        'RBAC: allowed by RoleBinding "alice-views/shop" of ClusterRole "view" to User "alice"'
    )
    assert _access(api, "alice", "list", "default").allowed is False
    assert _access(api, "alice", "delete", "shop").allowed is False


def test_a_local_review_takes_its_namespace_from_the_url(api: Harness) -> None:
    """The namespace in the spec must be the URL's: kube-apiserver's 422 and words."""
    authz = client.AuthorizationV1Api(api.client())

    def local(namespace: str) -> Any:
        spec = client.V1SubjectAccessReviewSpec(
            user="alice",
            resource_attributes=client.V1ResourceAttributes(
                verb="get", resource="pods", namespace=namespace
            ),
        )
        body = client.V1LocalSubjectAccessReview(spec=spec)
        return authz.create_namespaced_local_subject_access_review("shop", body)

    assert local("shop").status.allowed is True
    with pytest.raises(ApiException) as refused:
        local("default")
    assert refused.value.status == 422
    assert json.loads(refused.value.body)["message"] == (
        '.authorization.k8s.io "" is invalid: spec.resourceAttributes.namespace: Invalid value: '
        '"default": must match metadata.namespace'
    )


def test_a_token_review_names_the_account_until_it_is_gone(api: Harness) -> None:
    """A TokenRequest's token reviews as its service account (uid, groups, the API's audience);
    once the account is deleted the same token is an invalid bearer token."""
    api.kubectl("create", "serviceaccount", "hook", "-n", "shop")
    token = api.kubectl("create", "token", "hook", "-n", "shop").stdout.strip()
    uid = api.store.get("v1", "serviceaccounts", "hook", "shop")["metadata"]["uid"]
    authn = client.AuthenticationV1Api(api.client())

    def review(token: str) -> Any:
        body = client.V1TokenReview(spec=client.V1TokenReviewSpec(token=token))
        return authn.create_token_review(body).status

    status = review(token)
    assert status.authenticated is True
    assert (status.user.username, status.user.uid) == ("system:serviceaccount:shop:hook", uid)
    assert status.user.groups == [
        "system:serviceaccounts",
        "system:serviceaccounts:shop",
        "system:authenticated",
    ]
    assert status.audiences == ["https://kubernetes.default.svc.cluster.local"]
    api.kubectl("delete", "serviceaccount", "hook", "-n", "shop")
    gone = review(token)
    assert (gone.authenticated, gone.error) == (None, "invalid bearer token")


def test_asking_for_others_needs_the_auth_delegator_role(api: Harness) -> None:
    """A service account may not ask about others until bound to system:auth-delegator, as
    webhook servers are; then its answer is alice's, not its own."""
    api.kubectl("create", "serviceaccount", "proxy", "-n", "shop")
    token = api.server.issue_token("shop", "proxy")
    with pytest.raises(ApiException) as refused:
        _access(api, "alice", "list", "shop", token=token)
    assert refused.value.status == 403
    api.kubectl(
        "create",
        "clusterrolebinding",
        "proxy-delegates",
        "--clusterrole=system:auth-delegator",
        "--serviceaccount=shop:proxy",
    )
    assert _access(api, "alice", "list", "shop", token=token).allowed is True
