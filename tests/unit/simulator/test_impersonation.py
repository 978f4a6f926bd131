"""Impersonation as kube-apiserver v1.37 decides it (judged against one in
tests/integration/test_fake_api_vs_apiserver_rbac.py); here without a control plane."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from simulator.api.impersonation import impersonated, wants_impersonation
from simulator.api.rbac import ADMIN, RequestAttributes, service_account_user
from simulator.api.store import ObjectStore
from simulator.api.store.errors import BadRequestError, ForbiddenError
from simulator.clock import VirtualClock

LIST_PODS = RequestAttributes(verb="list", resource="pods", namespace="alga")
READER = service_account_user("alga", "reader")


def _store() -> ObjectStore:
    return ObjectStore(VirtualClock(datetime(2026, 1, 1, tzinfo=UTC)))


def _grant(store: ObjectStore, name: str, group: str, resources: list[str], verb: str) -> None:
    rbac = "rbac.authorization.k8s.io/v1"
    rule = {"apiGroups": [group], "resources": resources, "verbs": [verb]}
    store.create(
        {"apiVersion": rbac, "kind": "ClusterRole", "metadata": {"name": name}} | {"rules": [rule]}
    )
    store.create(
        {
            "apiVersion": rbac,
            "kind": "ClusterRoleBinding",
            "metadata": {"name": name},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": name,
            },
            "subjects": [{"kind": "ServiceAccount", "name": "reader", "namespace": "alga"}],
        }
    )


def test_only_impersonate_headers_ask_for_impersonation() -> None:
    assert wants_impersonation([(b"Impersonate-User", b"u")])
    assert not wants_impersonation([(b"authorization", b"Bearer x")])


def test_the_admin_acts_as_the_user_with_kube_apiservers_groups() -> None:
    store = _store()
    user = impersonated(
        store, ADMIN, [(b"impersonate-user", b"u"), (b"impersonate-group", b"g")], LIST_PODS
    )
    assert (user.name, user.groups, user.admin) == ("u", ("g", "system:authenticated"), False)
    account = impersonated(store, ADMIN, [(b"impersonate-user", READER.name.encode())], LIST_PODS)
    assert account.groups == READER.groups
    anonymous = impersonated(store, ADMIN, [(b"impersonate-user", b"system:anonymous")], LIST_PODS)
    assert anonymous.groups == ("system:unauthenticated",)


def test_groups_without_a_user_are_a_bad_request_in_go_words() -> None:
    with pytest.raises(BadRequestError) as refused:
        impersonated(_store(), ADMIN, [(b"impersonate-group", b"g1")], LIST_PODS)
    assert refused.value.status()["message"] == (
        'requested &user.DefaultInfo{Name:"", UID:"", Groups:[]string{"g1"}, '
        "Extra:map[string][]string(nil)} without impersonating a user name"
    )


def test_an_account_needs_a_grant_and_the_refusal_names_the_constrained_check() -> None:
    store, asked = _store(), [(b"impersonate-user", b"u")]
    with pytest.raises(ForbiddenError) as action:
        impersonated(store, READER, asked, LIST_PODS)
    assert (
        'cannot impersonate-on:user-info:list resource "pods"' in action.value.status()["message"]
    )
    _grant(store, "act", "", ["pods"], "impersonate-on:user-info:list")
    with pytest.raises(ForbiddenError) as identity:
        impersonated(store, READER, asked, LIST_PODS)
    assert identity.value.status()["message"].startswith(
        'users.authentication.k8s.io "u" is forbidden: User "system:serviceaccount:alga:reader" '
        'cannot impersonate:user-info resource "users" in API group "authentication.k8s.io"'
    )
    _grant(store, "legacy", "", ["users"], "impersonate")  # the old verb suffices alone
    assert impersonated(store, READER, asked, LIST_PODS).name == "u"
