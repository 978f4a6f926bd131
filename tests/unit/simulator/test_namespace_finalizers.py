"""A namespace's spec.finalizers in the fake API's store: only its `finalize` subresource changes
them, and they hold a deleted namespace until they are gone (the judge against kube-apiserver is
tests/integration/test_fake_api_vs_apiserver_namespaces.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from simulator.api.store import InvalidError, ObjectStore
from simulator.clock import VirtualClock

HOLD = "example.com/hold"


@pytest.fixture
def store() -> ObjectStore:
    return ObjectStore(VirtualClock(datetime(2026, 1, 1, tzinfo=UTC)))


def _namespace(name: str, *finalizers: str) -> dict[str, Any]:
    spec = {"finalizers": list(finalizers)} if finalizers else {}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}, "spec": spec}


def _finalize(store: ObjectStore, name: str, *finalizers: str) -> dict[str, Any]:
    return store.replace(_namespace(name, *finalizers), subresource="finalize", strict=True)


def test_a_create_adds_kubernetes_and_an_update_cannot_change_them(store: ObjectStore) -> None:
    created = store.create(_namespace("held", HOLD), strict=True)
    assert created["spec"]["finalizers"] == [HOLD, "kubernetes"]
    patched = store.patch(
        "v1", "Namespace", "held", {"spec": {"finalizers": ["other"]}}, "merge", strict=True
    )
    assert patched["spec"]["finalizers"] == [HOLD, "kubernetes"]


def test_finalize_changes_them_and_checks_each_name(store: ObjectStore) -> None:
    store.create(_namespace("open"), strict=True)
    freed = _finalize(store, "open")
    assert freed["spec"] == {}
    assert freed["metadata"]["labels"] == {"kubernetes.io/metadata.name": "open"}
    assert freed["status"] == {"phase": "Active"}
    with pytest.raises(InvalidError, match=r"spec\.finalizers\[0\]: Invalid value: \"bad one\""):
        _finalize(store, "open", "bad one")


def test_a_create_with_a_bad_finalizer_is_refused_naming_the_list(store: ObjectStore) -> None:
    with pytest.raises(InvalidError, match=r"spec\.finalizers: Invalid value: \"nodomain\""):
        store.create(_namespace("bad", "nodomain"), strict=True)


def test_a_finalizer_of_its_own_holds_a_deleted_namespace_until_finalized(
    store: ObjectStore,
) -> None:
    store.create(_namespace("held", HOLD), strict=True)
    store.create(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "held"}},
        strict=True,
    )
    store.delete("v1", "Namespace", "held")
    held = store.get("v1", "Namespace", "held")
    assert held is not None
    assert store.get("v1", "ConfigMap", "c", "held") is None
    # The namespace controller finalized its own, and said all content is gone.
    assert held["spec"]["finalizers"] == [HOLD]
    reasons = [c["reason"] for c in held["status"]["conditions"]]
    assert "ContentRemoved" in reasons
    assert held["status"]["phase"] == "Terminating"
    # An update that leaves it held is no deletion; emptying its finalizers through finalize is.
    store.patch("v1", "Namespace", "held", {"metadata": {"labels": {"a": "b"}}}, "merge")
    assert store.get("v1", "Namespace", "held") is not None
    _finalize(store, "held")
    assert store.get("v1", "Namespace", "held") is None


def test_a_deleted_namespace_without_other_finalizers_goes_at_once(store: ObjectStore) -> None:
    store.create(_namespace("plain"), strict=True)
    store.delete("v1", "Namespace", "plain")
    assert store.get("v1", "Namespace", "plain") is None
