"""The authorizer's bindings filed by subject: changes count at once, the order of grants holds.

The fake API files each binding under the users and groups it names (simulator/api/rbac_index.py)
and files again after any change to a binding or role; these pin that a decision follows each
change immediately, that groups and namespaces grant as kube-apiserver's RBAC does, and that the
allow reason still names the binding kube-apiserver names (the first in its order).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from simulator.api.rbac import (
    RequestAttributes,
    UserInfo,
    allowed_by,
    authorize,
    rules_review,
    service_account_user,
)
from simulator.api.store import ObjectStore
from simulator.clock import VirtualClock

RBAC = "rbac.authorization.k8s.io/v1"
VIEWER = service_account_user("shop", "viewer")
GET_PODS = RequestAttributes(verb="get", resource="pods", namespace="shop")


@pytest.fixture
def store() -> ObjectStore:
    store = ObjectStore(VirtualClock(datetime(2026, 1, 1, tzinfo=UTC), speed=0))
    for namespace in ("shop", "other"):
        store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    store.create(role("ClusterRole", "pod-reader", ["pods"]))
    return store


def role(kind: str, name: str, resources: list[str], namespace: str = "") -> dict[str, Any]:
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    rule = {"apiGroups": [""], "resources": resources, "verbs": ["get", "list"]}
    return {"apiVersion": RBAC, "kind": kind, "metadata": meta, "rules": [rule]}


def binding(
    kind: str, name: str, subjects: list[dict[str, str]], *, namespace: str = "", to: str = ""
) -> dict[str, Any]:
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    ref = {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "pod-reader"}
    if to:  # a Role of the binding's namespace
        ref = {**ref, "kind": "Role", "name": to}
    return {
        "apiVersion": RBAC,
        "kind": kind,
        "metadata": meta,
        "roleRef": ref,
        "subjects": subjects,
    }


def service_account(namespace: str, name: str) -> dict[str, str]:
    return {"kind": "ServiceAccount", "name": name, "namespace": namespace}


def test_a_binding_made_changed_or_deleted_after_a_request_decides_the_next(
    store: ObjectStore,
) -> None:
    assert not authorize(store, VIEWER, GET_PODS)  # files the bindings there are: none
    store.create(
        binding("RoleBinding", "read", [service_account("shop", "viewer")], namespace="shop")
    )
    assert authorize(store, VIEWER, GET_PODS)
    moved = {"subjects": [service_account("shop", "someone-else")]}
    store.patch(RBAC, "RoleBinding", "read", moved, namespace="shop")
    assert not authorize(store, VIEWER, GET_PODS)
    back = {"subjects": [service_account("shop", "viewer")]}
    store.patch(RBAC, "RoleBinding", "read", back, namespace="shop")
    assert authorize(store, VIEWER, GET_PODS)
    store.delete(RBAC, "RoleBinding", "read", "shop")
    assert not authorize(store, VIEWER, GET_PODS)


def test_a_role_changed_or_deleted_after_a_request_decides_the_next(store: ObjectStore) -> None:
    store.create(binding("ClusterRoleBinding", "read", [service_account("shop", "viewer")]))
    assert authorize(store, VIEWER, GET_PODS)
    store.patch(
        RBAC,
        "ClusterRole",
        "pod-reader",
        {"rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["services"]}]},
    )
    assert not authorize(store, VIEWER, GET_PODS)
    assert authorize(store, VIEWER, RequestAttributes(verb="get", resource="services"))
    store.delete(RBAC, "ClusterRole", "pod-reader")
    assert not authorize(store, VIEWER, RequestAttributes(verb="get", resource="services"))
    assert rules_review(store, VIEWER, "shop")["resourceRules"] == []
    store.create(role("ClusterRole", "pod-reader", ["pods"]))
    assert authorize(store, VIEWER, GET_PODS)
    assert rules_review(store, VIEWER, "shop")["resourceRules"] == [
        {"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]}
    ]


def test_a_group_subject_grants_each_member_and_is_named(store: ObjectStore) -> None:
    group = {"kind": "Group", "name": "system:serviceaccounts:shop"}
    store.create(binding("ClusterRoleBinding", "shop-readers", [group]))
    assert allowed_by(store, VIEWER, GET_PODS) == (
        'RBAC: allowed by ClusterRoleBinding "shop-readers" of ClusterRole "pod-reader" '
        'to Group "system:serviceaccounts:shop"'
    )
    assert authorize(store, service_account_user("shop", "anyone"), GET_PODS)
    assert not authorize(store, service_account_user("other", "viewer"), GET_PODS)
    assert not authorize(store, UserInfo("system:serviceaccounts:shop"), GET_PODS)  # a name


def test_a_user_subject_is_the_users_name_not_a_group(store: ObjectStore) -> None:
    store.create(binding("ClusterRoleBinding", "alice", [{"kind": "User", "name": "alice"}]))
    assert authorize(store, UserInfo("alice", ("devs",)), GET_PODS)
    assert not authorize(store, UserInfo("bob", ("alice",)), GET_PODS)


def test_a_rolebinding_grants_only_in_its_own_namespace(store: ObjectStore) -> None:
    store.create(
        binding("RoleBinding", "read", [service_account("shop", "viewer")], namespace="other")
    )
    assert not authorize(store, VIEWER, GET_PODS)
    assert not authorize(store, VIEWER, RequestAttributes(verb="get", resource="pods"))
    in_other = RequestAttributes(verb="get", resource="pods", namespace="other")
    assert allowed_by(store, VIEWER, in_other) == (
        'RBAC: allowed by RoleBinding "read/other" of ClusterRole "pod-reader" '
        'to ServiceAccount "viewer/shop"'
    )
    # A ServiceAccount subject without a namespace is one of the binding's namespace.
    store.create(
        binding(
            "RoleBinding",
            "local",
            [{"kind": "ServiceAccount", "name": "viewer"}],
            namespace="other",
        )
    )
    assert authorize(store, service_account_user("other", "viewer"), in_other)
    assert not authorize(store, service_account_user("other", "viewer"), GET_PODS)


def test_a_role_is_read_from_the_bindings_namespace(store: ObjectStore) -> None:
    store.create(role("Role", "secrets", ["secrets"], namespace="other"))
    subjects = [service_account("shop", "viewer")]
    store.create(binding("RoleBinding", "r", subjects, namespace="shop", to="secrets"))
    secrets = RequestAttributes(verb="get", resource="secrets", namespace="shop")
    assert not authorize(store, VIEWER, secrets)  # no Role "secrets" in shop
    store.create(role("Role", "secrets", ["secrets"], namespace="shop"))
    assert authorize(store, VIEWER, secrets)


def test_the_reason_names_the_first_binding_in_kube_apiservers_order(store: ObjectStore) -> None:
    viewer = service_account("shop", "viewer")
    group = {"kind": "Group", "name": "system:authenticated"}
    store.create(binding("RoleBinding", "a-local", [viewer], namespace="shop"))
    store.create(binding("ClusterRoleBinding", "z-by-sa", [viewer]))
    # ClusterRoleBindings come before RoleBindings, whatever their names.
    assert allowed_by(store, VIEWER, GET_PODS) == (
        'RBAC: allowed by ClusterRoleBinding "z-by-sa" of ClusterRole "pod-reader" '
        'to ServiceAccount "viewer/shop"'
    )
    # Then by name; within a binding, the first of its subjects that names the caller.
    store.create(
        binding("ClusterRoleBinding", "m-both", [{"kind": "User", "name": "x"}, group, viewer])
    )
    assert allowed_by(store, VIEWER, GET_PODS) == (
        'RBAC: allowed by ClusterRoleBinding "m-both" of ClusterRole "pod-reader" '
        'to Group "system:authenticated"'
    )
    plain = UserInfo(VIEWER.name)  # the same ServiceAccount, in no group
    assert allowed_by(store, plain, GET_PODS) == (
        'RBAC: allowed by ClusterRoleBinding "m-both" of ClusterRole "pod-reader" '
        'to ServiceAccount "viewer/shop"'
    )
    store.replace(binding("ClusterRoleBinding", "m-both", [viewer, group]))
    assert allowed_by(store, VIEWER, GET_PODS) == (
        'RBAC: allowed by ClusterRoleBinding "m-both" of ClusterRole "pod-reader" '
        'to ServiceAccount "viewer/shop"'
    )
    # A binding naming the caller's group comes before a later one naming the caller.
    store.create(binding("ClusterRoleBinding", "b-by-group", [group]))
    assert allowed_by(store, VIEWER, GET_PODS) == (
        'RBAC: allowed by ClusterRoleBinding "b-by-group" of ClusterRole "pod-reader" '
        'to Group "system:authenticated"'
    )
    for name in ("b-by-group", "m-both", "z-by-sa"):
        store.delete(RBAC, "ClusterRoleBinding", name)
    assert allowed_by(store, VIEWER, GET_PODS) == (
        'RBAC: allowed by RoleBinding "a-local/shop" of ClusterRole "pod-reader" '
        'to ServiceAccount "viewer/shop"'
    )


def test_a_deleted_namespace_takes_its_rolebindings_grants(store: ObjectStore) -> None:
    store.create(
        binding("RoleBinding", "read", [service_account("shop", "viewer")], namespace="shop")
    )
    assert authorize(store, VIEWER, GET_PODS)
    store.delete("v1", "Namespace", "shop")
    assert store.get(RBAC, "RoleBinding", "read", "shop") is None
    assert not authorize(store, VIEWER, GET_PODS)


def test_bindings_changed_from_many_threads_leave_every_decision_true(store: ObjectStore) -> None:
    """Writers and readers race; afterwards each caller is allowed exactly as its binding says."""
    callers = 24

    def churn(i: int) -> None:
        user = service_account_user("shop", f"sa-{i}")
        for round_ in range(5):
            made = binding(
                "RoleBinding", f"b-{i}", [service_account("shop", f"sa-{i}")], namespace="shop"
            )
            store.create(made)
            authorize(store, user, GET_PODS)  # file between the writes of other threads
            if round_ < 4 or i % 2:
                store.delete(RBAC, "RoleBinding", f"b-{i}", "shop")
            authorize(store, user, GET_PODS)

    threads = [threading.Thread(target=churn, args=(i,)) for i in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    allowed = [
        authorize(store, service_account_user("shop", f"sa-{i}"), GET_PODS) for i in range(callers)
    ]
    assert allowed == [i % 2 == 0 for i in range(callers)]


def test_a_binding_stored_while_the_index_is_filed_counts_for_the_next_request(
    store: ObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another thread's write landing between the index's reads of the store is not lost."""
    list_refs = store.list_refs
    late = binding("ClusterRoleBinding", "late", [service_account("shop", "viewer")])

    def write_meanwhile(info: Any, **selection: Any) -> Any:
        found = list_refs(info, **selection)
        if info.kind == "ClusterRoleBinding" and store.get(RBAC, info.kind, "late") is None:
            store.create(late)  # after this read, before the index is done
        return found

    monkeypatch.setattr(store, "list_refs", write_meanwhile)
    assert not authorize(store, VIEWER, GET_PODS)  # filed from what it read: no binding yet
    assert authorize(store, VIEWER, GET_PODS)


def test_a_remembered_decision_is_one_callers_answer_to_one_request(store: ObjectStore) -> None:
    rule = {
        "apiGroups": [""],
        "resources": ["configmaps"],
        "verbs": ["get"],
        "resourceNames": ["a"],
    }
    meta = {"name": "only-a", "namespace": "shop"}
    store.create({"apiVersion": RBAC, "kind": "Role", "metadata": meta, "rules": [rule]})
    subjects = [service_account("shop", "viewer")]
    store.create(binding("RoleBinding", "only-a", subjects, namespace="shop", to="only-a"))
    get_a, get_b = (
        RequestAttributes(verb="get", resource="configmaps", namespace="shop", name=name)
        for name in ("a", "b")
    )
    in_other = RequestAttributes(verb="get", resource="configmaps", namespace="other", name="a")
    stranger = service_account_user("shop", "stranger")
    for _ in range(2):  # asked again, each answer is the one it was
        assert authorize(store, VIEWER, get_a)
        assert not authorize(store, stranger, get_a)
        assert not authorize(store, VIEWER, get_b)
        assert not authorize(store, VIEWER, in_other)


def test_a_malformed_binding_or_role_grants_nothing_and_fails_no_one(store: ObjectStore) -> None:
    """The world's writes are lenient; filing reads every binding, so one bad one must not 500."""
    broken = {"apiVersion": RBAC, "kind": "ClusterRoleBinding", "metadata": {"name": "broken"}}
    store.create({**broken, "roleRef": "pod-reader", "subjects": [{"kind": "Group"}]})
    store.create({**role("ClusterRole", "odd", ["pods"]), "rules": ["get pods", 7]})
    store.create(binding("ClusterRoleBinding", "odd", [service_account("shop", "viewer")]))
    store.patch(RBAC, "ClusterRoleBinding", "odd", {"roleRef": {"name": "odd"}})
    assert not authorize(store, VIEWER, GET_PODS)
    assert rules_review(store, VIEWER, "shop")["resourceRules"] == []
    store.create(
        binding("RoleBinding", "read", [service_account("shop", "viewer")], namespace="shop")
    )
    assert authorize(store, VIEWER, GET_PODS)
