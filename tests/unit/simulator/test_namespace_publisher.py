"""What kube-controller-manager keeps in every namespace, kept by the fake API's store.

The `default` ServiceAccount and the `kube-root-ca.crt` ConfigMap appear in the namespaces there
at start and in each one created later, come back when deleted while the namespace lives, are
mended when changed, and go with their namespace. (Judged against the real controllers in
tests/integration/test_fake_api_vs_apiserver_published.py.)
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from simulator.api.namespace_publisher import (
    DESCRIPTION,
    DESCRIPTION_ANNOTATION,
    ROOT_CA_CONFIGMAP,
    NamespacePublisher,
)
from simulator.api.store import ObjectStore
from simulator.clock import VirtualClock
from simulator.world.objects import Objects

CA = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
DEFAULTS = ["default", "kube-node-lease", "kube-public", "kube-system"]


@pytest.fixture
def store() -> Iterator[ObjectStore]:
    store = ObjectStore(VirtualClock(datetime(2026, 1, 1, tzinfo=UTC), speed=0))
    publisher = NamespacePublisher(store, CA)
    publisher.start()
    yield store
    publisher.stop()


def published(store: ObjectStore, namespace: str | None = None) -> list[tuple[str, str, str]]:
    """(kind, namespace, name) of what the controllers keep, in `namespace` or everywhere."""
    accounts = store.list("v1", "ServiceAccount", namespace=namespace)
    maps = store.list("v1", "ConfigMap", namespace=namespace)
    return sorted(
        (o["kind"], o["metadata"]["namespace"], o["metadata"]["name"]) for o in accounts + maps
    )


def both(namespace: str) -> list[tuple[str, str, str]]:
    return [("ConfigMap", namespace, ROOT_CA_CONFIGMAP), ("ServiceAccount", namespace, "default")]


def test_the_default_namespaces_have_both_at_start(store: ObjectStore) -> None:
    assert published(store) == sorted(item for ns in DEFAULTS for item in both(ns))


def test_a_new_namespace_gets_both_as_the_controllers_write_them(store: ObjectStore) -> None:
    store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    assert published(store, "shop") == both("shop")

    account = store.get("v1", "ServiceAccount", "default", "shop")
    assert account is not None
    # Only its name: no token Secret (Kubernetes >= 1.24), no fields to manage.
    assert sorted(account) == ["apiVersion", "kind", "metadata"]
    assert "managedFields" not in account["metadata"]
    assert "secrets" not in account

    configmap = store.get("v1", "ConfigMap", ROOT_CA_CONFIGMAP, "shop")
    assert configmap is not None
    assert configmap["data"] == {"ca.crt": CA.decode()}
    assert configmap["metadata"]["annotations"] == {DESCRIPTION_ANNOTATION: DESCRIPTION}
    managers = [(e["manager"], e["operation"]) for e in configmap["metadata"]["managedFields"]]
    assert managers == [("kube-controller-manager", "Update")]


def test_a_lenient_world_write_in_a_new_namespace_gets_both_too(store: ObjectStore) -> None:
    """The world's writes create a missing namespace; the controllers then fill it."""
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "w"}}
    store.create(cm)
    assert published(store, "w") == sorted([*both("w"), ("ConfigMap", "w", "a")])


def test_deleted_while_the_namespace_lives_they_come_back(store: ObjectStore) -> None:
    store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    first = store.get("v1", "ServiceAccount", "default", "shop")
    assert first is not None
    store.delete("v1", "ServiceAccount", "default", "shop")
    store.delete("v1", "ConfigMap", ROOT_CA_CONFIGMAP, "shop")
    assert published(store, "shop") == both("shop")
    again = store.get("v1", "ServiceAccount", "default", "shop")
    assert again is not None
    assert again["metadata"]["uid"] != first["metadata"]["uid"]


def test_a_changed_root_ca_is_put_back(store: ObjectStore) -> None:
    store.patch(
        "v1",
        "ConfigMap",
        ROOT_CA_CONFIGMAP,
        {"data": {"ca.crt": "mine"}, "metadata": {"annotations": {DESCRIPTION_ANNOTATION: None}}},
        namespace="default",
    )
    configmap = store.get("v1", "ConfigMap", ROOT_CA_CONFIGMAP, "default")
    assert configmap is not None
    assert configmap["data"] == {"ca.crt": CA.decode()}
    assert configmap["metadata"]["annotations"] == {DESCRIPTION_ANNOTATION: DESCRIPTION}


def test_they_go_with_their_namespace(store: ObjectStore) -> None:
    store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    store.delete("v1", "Namespace", "shop")
    assert store.get("v1", "Namespace", "shop") is None
    assert published(store, "shop") == []


def test_a_restart_with_another_ca_republishes_it() -> None:
    """A restarted fake API serves with a new CA; the publisher updates every bundle."""
    store = ObjectStore(VirtualClock(datetime(2026, 1, 1, tzinfo=UTC), speed=0))
    first = NamespacePublisher(store, CA)
    first.start()
    first.stop()
    store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "later"}})
    assert published(store, "later") == []  # nobody keeps them while stopped
    second = NamespacePublisher(store, b"other CA")
    second.start()
    try:
        bundles = {o["data"]["ca.crt"] for o in store.list("v1", "ConfigMap")}
        assert bundles == {"other CA"}
        assert published(store, "later") == both("later")
    finally:
        second.stop()


def test_without_a_ca_only_the_service_account_is_published() -> None:
    """Plain http (benches, raw clients): there is no CA that signs the server to publish."""
    store = ObjectStore(VirtualClock(datetime(2026, 1, 1, tzinfo=UTC), speed=0))
    publisher = NamespacePublisher(store, None)
    publisher.start()
    try:
        assert published(store) == [("ServiceAccount", ns, "default") for ns in DEFAULTS]
    finally:
        publisher.stop()


def test_the_world_applies_a_default_account_into_a_new_namespace(store: ObjectStore) -> None:
    """Its create makes the namespace, whose `default` the controller makes first: the world's
    apply then updates that one (as `kubectl apply` would), instead of failing AlreadyExists."""
    objects = Objects(store, clock=store.clock, seed="t")
    account = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": "default", "namespace": "fresh", "labels": {"team": "ops"}},
    }
    applied = objects.apply(account)
    assert applied["metadata"]["labels"] == {"team": "ops"}
    assert published(store, "fresh") == both("fresh")
