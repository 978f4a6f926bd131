"""What kube-apiserver creates for itself at start, kept by the fake API's store, and granted by.

The RBAC bootstrap policy (from k8s.io/kubernetes' own test data) and the system PriorityClasses
are stored with the real labels, annotations and field managers; aggregated ClusterRoles gather
their rules as kube-controller-manager's controller does, a user's aggregate-to-view role
included; and the authorizer grants exactly what the stored roles grant. (Judged against a real
control plane in tests/integration/test_fake_api_vs_apiserver_rbac.py.)
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from simulator.api.bootstrap_objects import publish_bootstrap_objects
from simulator.api.rbac import (
    ADMIN,
    RequestAttributes,
    allowed_by,
    authorize,
    rules_review,
    service_account_user,
)
from simulator.api.role_aggregation import MANAGER, RoleAggregator
from simulator.api.store import ObjectStore
from simulator.clock import VirtualClock
from tests.fixtures.policy import build_bootstrap_policy

RBAC = "rbac.authorization.k8s.io/v1"
VIEWER = service_account_user("shop", "viewer")


@pytest.fixture(scope="module")
def built() -> None:
    build_bootstrap_policy()


@pytest.fixture
def store(built: None) -> Iterator[ObjectStore]:
    store = ObjectStore(VirtualClock(datetime(2026, 1, 1, tzinfo=UTC), speed=0))
    publish_bootstrap_objects(store)
    aggregator = RoleAggregator(store)
    aggregator.start()
    yield store
    aggregator.stop()


def names(store: ObjectStore, kind: str) -> set[str]:
    return {str(o["metadata"]["name"]) for o in store.list(RBAC, kind)}


def role(store: ObjectStore, name: str) -> dict[str, Any]:
    found = store.get(RBAC, "ClusterRole", name)
    assert found is not None, name
    return found


def bind(store: ObjectStore, kind: str, role_name: str, *, cluster: bool = False) -> None:
    """Bind `VIEWER` to the ClusterRole `role_name`, in `shop` or (cluster) everywhere."""
    meta: dict[str, Any] = {"name": f"viewer-{role_name}"}
    if not cluster:
        meta["namespace"] = "shop"
    store.create(
        {
            "apiVersion": RBAC,
            "kind": kind,
            "metadata": meta,
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": role_name,
            },
            "subjects": [{"kind": "ServiceAccount", "name": "viewer", "namespace": "shop"}],
        }
    )


def may(store: ObjectStore, verb: str, resource: str, group: str = "", **more: str) -> bool:
    attrs = RequestAttributes(verb=verb, group=group, resource=resource, namespace="shop", **more)
    return authorize(store, VIEWER, attrs)


def test_the_policy_is_stored_with_the_real_labels_and_manager(store: ObjectStore) -> None:
    roles = names(store, "ClusterRole")
    assert {"cluster-admin", "admin", "edit", "view", "system:discovery"} <= roles
    assert {"system:basic-user", "system:public-info-viewer", "system:node"} <= roles
    assert any(name.startswith("system:controller:") for name in roles)
    counts = [len(store.list(RBAC, kind)) for kind in ("ClusterRoleBinding", "Role", "RoleBinding")]
    assert counts == [54, 7, 7]
    assert len(roles) == 73
    for kind in ("ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"):
        for obj in store.list(RBAC, kind):
            meta = obj["metadata"]
            assert meta["labels"]["kubernetes.io/bootstrapping"] == "rbac-defaults"
            assert meta["annotations"] == {"rbac.authorization.kubernetes.io/autoupdate": "true"}
            assert meta["managedFields"][-1]["manager"] == "kube-apiserver"
    assert {o["metadata"]["namespace"] for o in store.list(RBAC, "Role")} == {
        "kube-public",
        "kube-system",
    }


def test_the_system_priority_classes_are_stored(store: ObjectStore) -> None:
    classes = {
        o["metadata"]["name"]: (o["value"], o["preemptionPolicy"], o["description"][:30])
        for o in store.list("scheduling.k8s.io/v1", "PriorityClass")
    }
    assert classes == {
        "system-node-critical": (
            2000001000,
            "PreemptLowerPriority",
            "Used for system critical pods ",
        ),
        "system-cluster-critical": (
            2000000000,
            "PreemptLowerPriority",
            "Used for system critical pods ",
        ),
    }


def test_publishing_again_keeps_what_is_there(store: ObjectStore) -> None:
    store.delete(RBAC, "ClusterRole", "system:monitoring")
    before = store.resource_version
    publish_bootstrap_objects(store)
    assert "system:monitoring" in names(store, "ClusterRole")
    assert store.resource_version == before + 1  # only the missing one was made


def test_view_edit_and_admin_aggregate_their_labelled_roles(store: ObjectStore) -> None:
    view, edit, admin = (role(store, n) for n in ("view", "edit", "admin"))
    assert view["rules"] == role(store, "system:aggregate-to-view")["rules"]
    assert all(rule in edit["rules"] for rule in view["rules"])
    assert all(rule in admin["rules"] for rule in edit["rules"])
    assert not any("secrets" in rule["resources"] for rule in view["rules"])
    entries = {e["manager"]: e for e in view["metadata"]["managedFields"]}
    assert entries[MANAGER]["operation"] == "Apply"
    assert entries[MANAGER]["fieldsV1"] == {"f:rules": {}}


def test_a_users_aggregate_to_view_role_extends_view_edit_and_admin(store: ObjectStore) -> None:
    widgets = {"apiGroups": ["example.com"], "resources": ["widgets"], "verbs": ["get"]}
    label = {"rbac.authorization.k8s.io/aggregate-to-view": "true"}
    store.create(
        {
            "apiVersion": RBAC,
            "kind": "ClusterRole",
            "metadata": {"name": "widgets-view", "labels": label},
            "rules": [widgets],
        }
    )
    assert all(widgets in role(store, n)["rules"] for n in ("view", "edit", "admin"))
    bind(store, "RoleBinding", "view")
    assert may(store, "get", "widgets", "example.com")

    store.patch(RBAC, "ClusterRole", "widgets-view", {"metadata": {"labels": None}})
    assert not any(widgets in role(store, n)["rules"] for n in ("view", "edit", "admin"))
    assert not may(store, "get", "widgets", "example.com")


def test_a_deleted_aggregated_source_takes_its_rules_away(store: ObjectStore) -> None:
    store.delete(RBAC, "ClusterRole", "system:aggregate-to-view")
    assert role(store, "view")["rules"] == []
    assert role(store, "edit")["rules"] == role(store, "system:aggregate-to-edit")["rules"]


def test_view_grants_reading_but_never_secrets(store: ObjectStore) -> None:
    assert not may(store, "get", "pods")
    bind(store, "RoleBinding", "view")
    assert may(store, "get", "pods")
    assert may(store, "list", "deployments", "apps")
    assert may(store, "get", "pods", subresource="log")
    assert not may(store, "get", "secrets")
    assert not may(store, "create", "pods")
    assert not may(store, "get", "pods", subresource="exec")
    outside = RequestAttributes(verb="get", resource="pods", namespace="other")
    assert not authorize(store, VIEWER, outside)


def test_cluster_admin_grants_everything_everywhere(store: ObjectStore) -> None:
    bind(store, "ClusterRoleBinding", "cluster-admin", cluster=True)
    assert may(store, "get", "secrets")
    assert may(store, "delete", "customresourcedefinitions", "apiextensions.k8s.io")
    assert authorize(store, VIEWER, RequestAttributes(verb="get", path="/metrics"))


def test_self_reviews_and_discovery_are_granted_by_the_stored_roles(store: ObjectStore) -> None:
    review = RequestAttributes(
        verb="create", group="authorization.k8s.io", resource="selfsubjectaccessreviews"
    )
    healthz = RequestAttributes(verb="get", path="/healthz")
    assert authorize(store, VIEWER, review)
    assert authorize(store, VIEWER, healthz)
    assert authorize(store, VIEWER, RequestAttributes(verb="get", path="/apis/apps/v1"))
    assert not authorize(store, VIEWER, RequestAttributes(verb="get", path="/metrics"))
    assert not authorize(store, VIEWER, RequestAttributes(verb="post", path="/healthz"))
    # One definition: without the stored bindings nothing grants them.
    store.delete(RBAC, "ClusterRoleBinding", "system:basic-user")
    store.delete(RBAC, "ClusterRoleBinding", "system:public-info-viewer")
    store.delete(RBAC, "ClusterRoleBinding", "system:discovery")
    assert not authorize(store, VIEWER, review)
    assert not authorize(store, VIEWER, healthz)
    assert authorize(store, ADMIN, review)  # system:masters is allowed before RBAC is asked


def test_a_rules_review_lists_the_stored_grants(store: ObjectStore) -> None:
    bind(store, "RoleBinding", "view")
    status = rules_review(store, VIEWER, "shop")
    urls = {url for rule in status["nonResourceRules"] for url in rule["nonResourceURLs"]}
    assert {"/api", "/apis/*", "/healthz", "/version", "/openid/v1/jwks"} <= urls
    resources = {r for rule in status["resourceRules"] for r in rule["resources"]}
    assert {"selfsubjectrulesreviews", "pods", "deployments"} <= resources
    assert "secrets" not in resources
    assert rules_review(store, VIEWER, "other")["resourceRules"] != status["resourceRules"]


def test_the_reason_names_the_binding_as_kube_apiserver_does(store: ObjectStore) -> None:
    bind(store, "RoleBinding", "view")
    pods = RequestAttributes(verb="get", resource="pods", namespace="shop")
    api = RequestAttributes(verb="get", path="/api")
    assert allowed_by(store, VIEWER, pods) == (
        'RBAC: allowed by RoleBinding "viewer-view/shop" of ClusterRole "view" '
        'to ServiceAccount "viewer/shop"'
    )
    assert allowed_by(store, VIEWER, api) == (
        'RBAC: allowed by ClusterRoleBinding "system:discovery" of ClusterRole '
        '"system:discovery" to Group "system:authenticated"'
    )
    assert allowed_by(store, VIEWER, RequestAttributes(verb="get", resource="secrets")) is None
