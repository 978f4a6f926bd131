"""The ServiceAccounts kube-controller-manager's controllers act as, kept by the fake API's store.

kube-system holds one account per controller a default kube-controller-manager starts (the
subjects of the policy's `system:controller:*` bindings, less the cloud controllers' and the
disabled SELinux warning controller's), each nothing but its name; the authorizer grants each what
its binding grants; one deleted is not made again until the next start. (Judged against a real
control plane in tests/integration/test_fake_api_vs_apiserver_published.py.)
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from simulator.api.bootstrap_objects import publish_bootstrap_objects
from simulator.api.controller_accounts import (
    CONTROLLER_NAMESPACE,
    controller_accounts,
    publish_controller_accounts,
)
from simulator.api.rbac import RequestAttributes, authorize, service_account_user
from simulator.api.store import ObjectStore
from simulator.clock import VirtualClock
from tests.fixtures.policy import build_bootstrap_policy


@pytest.fixture
def store() -> ObjectStore:
    build_bootstrap_policy()
    store = ObjectStore(VirtualClock(datetime(2026, 1, 1, tzinfo=UTC), speed=0))
    publish_bootstrap_objects(store)
    publish_controller_accounts(store)
    return store


def accounts(store: ObjectStore) -> dict[str, str]:
    """Each kube-system ServiceAccount's name and uid."""
    listed = store.list("v1", "ServiceAccount", namespace=CONTROLLER_NAMESPACE)
    return {str(o["metadata"]["name"]): str(o["metadata"]["uid"]) for o in listed}


def test_kube_system_holds_the_account_of_each_controller_that_starts(store: ObjectStore) -> None:
    names = set(accounts(store))
    # A real v1.37.2 kube-controller-manager (all default controllers) made 38.
    assert len(names) == len(controller_accounts()) == 38
    assert {
        "deployment-controller",
        "replicaset-controller",
        "job-controller",
        "namespace-controller",
        "generic-garbage-collector",
        "node-controller",  # node-lifecycle's, also node-ipam's (off in our control plane)
        "certificate-controller",  # the CSR cleaner's, also the signer's and approver's
    } <= names
    # Bound by the policy but used by no controller that starts; or bound by a RoleBinding only.
    unused = {"route-controller", "service-controller", "selinux-warning-controller"}
    assert not names & (unused | {"bootstrap-signer", "token-cleaner", "kube-controller-manager"})


def test_each_account_is_only_a_name(store: ObjectStore) -> None:
    """No token Secret, no automount setting, no labels, no field a manager would own."""
    for obj in store.list("v1", "ServiceAccount", namespace=CONTROLLER_NAMESPACE):
        assert sorted(obj) == ["apiVersion", "kind", "metadata"]
        meta = obj["metadata"]
        assert sorted(meta) == ["creationTimestamp", "name", "namespace", "resourceVersion", "uid"]


def test_each_account_may_do_what_its_controllers_binding_grants(store: ObjectStore) -> None:
    create_replicasets = RequestAttributes(
        verb="create", group="apps", resource="replicasets", namespace="shop"
    )
    deployments = service_account_user(CONTROLLER_NAMESPACE, "deployment-controller")
    jobs = service_account_user(CONTROLLER_NAMESPACE, "job-controller")
    assert authorize(store, deployments, create_replicasets)
    assert not authorize(store, jobs, create_replicasets)
    create_pods = RequestAttributes(verb="create", resource="pods", namespace="shop")
    assert authorize(store, jobs, create_pods)
    read_secrets = RequestAttributes(verb="get", resource="secrets", namespace="shop")
    assert not authorize(store, deployments, read_secrets)


def test_a_deleted_account_comes_back_only_at_the_next_start(store: ObjectStore) -> None:
    """kube-controller-manager gets or creates it when its controller starts (or next asks
    for a token); deleting it alone brings nothing back, a restart does, leaving the rest."""
    before = accounts(store)
    store.delete("v1", "ServiceAccount", "cronjob-controller", CONTROLLER_NAMESPACE)
    assert "cronjob-controller" not in accounts(store)
    publish_controller_accounts(store)
    after = accounts(store)
    assert after.keys() == before.keys()
    assert after["cronjob-controller"] != before["cronjob-controller"]
    assert {k: v for k, v in after.items() if k != "cronjob-controller"} == {
        k: v for k, v in before.items() if k != "cronjob-controller"
    }
