"""Every object's metadata rules (simulator/api/store/object_meta.py, rules.py): finalizers, owner
references, a long generateName and a delete's preconditions, in kube-apiserver v1.37's words;
test_fake_api_vs_apiserver_metadata.py holds them to a real control plane."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from simulator.api.store import ObjectStore
from simulator.api.store.errors import ConflictError, InvalidError
from simulator.clock import VirtualClock

UID = "0b1e9b6c-6d1f-4c39-9f7a-1c0c8f9d2a11"


@pytest.fixture
def store() -> ObjectStore:
    return ObjectStore(VirtualClock(datetime(2026, 6, 20, tzinfo=UTC)))


def _configmap(name: str, **meta: Any) -> dict[str, Any]:
    meta = {"name": name, "namespace": "default", **meta}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta}


def _refused(store: ObjectStore, obj: dict[str, Any]) -> str:
    with pytest.raises(InvalidError) as refused:
        store.create(obj, strict=True)
    return str(refused.value)


def test_finalizers_are_qualified_and_a_deleted_object_gains_none(store: ObjectStore) -> None:
    assert _refused(store, _configmap("a", finalizers=["hold"])) == (
        'ConfigMap "a" is invalid: metadata.finalizers[0]: Invalid value: "hold": name is '
        "neither a standard finalizer name nor is it fully qualified"
    )
    assert "cannot be both set" in _refused(
        store, _configmap("b", finalizers=["orphan", "foregroundDeletion"])
    )
    store.create(_configmap("held", finalizers=["example.com/hold"]), strict=True)
    store.delete("v1", "ConfigMap", "held", "default")
    more = {"metadata": {"finalizers": ["example.com/hold", "example.com/z", "example.com/a"]}}
    with pytest.raises(InvalidError) as refused:
        store.patch("v1", "ConfigMap", "held", more, "merge", "default", strict=True)
    assert str(refused.value) == (
        'ConfigMap "held" is invalid: metadata.finalizers: Forbidden: no new finalizers can be '
        'added if the object is being deleted, found new finalizers []string{"example.com/a", '
        '"example.com/z"}'
    )


def test_owner_references_name_one_controller_and_no_event(store: ObjectStore) -> None:
    owner = {"apiVersion": "v1", "kind": "ConfigMap", "name": "a", "uid": UID}
    two = [{**owner, "controller": True}, {**owner, "name": "b", "controller": True}]
    assert _refused(store, _configmap("two", ownerReferences=two)).endswith(
        'Only one reference can have Controller set to true. Found "true" in references for '
        "ConfigMap/a and ConfigMap/b"
    )
    half = [{"apiVersion": "a/b/c", "kind": "", "name": "a", "uid": ""}]
    assert _refused(store, _configmap("half", ownerReferences=half)) == (
        'ConfigMap "half" is invalid: [metadata.ownerReferences[0].apiVersion: Invalid value: '
        '"a/b/c": must be <group>/<version> or <version>, metadata.ownerReferences[0].kind: '
        "Required value: must not be empty, metadata.ownerReferences[0].uid: Required value: "
        "must not be empty]"
    )
    event = [{**owner, "kind": "Event"}]
    assert _refused(store, _configmap("e", ownerReferences=event)).endswith(
        "/v1, Kind=Event is disallowed from being an owner"
    )


def test_a_long_generate_name_is_cut_to_fit(store: ObjectStore) -> None:
    made = store.create(_configmap("", generateName="a" * 70), strict=True)
    name = made["metadata"]["name"]
    assert (len(name), name[:58]) == (63, "a" * 58)


def test_a_delete_meets_its_preconditions(store: ObjectStore) -> None:
    made = store.create(_configmap("c"), strict=True)
    with pytest.raises(ConflictError) as refused:
        store.delete("v1", "ConfigMap", "c", "default", preconditions={"resourceVersion": "1"})
    assert str(refused.value) == (
        'Operation cannot be fulfilled on ConfigMap "c": the ResourceVersion in the '
        f"precondition (1) does not match the ResourceVersion in record "
        f"({made['metadata']['resourceVersion']}). The object might have been modified"
    )
    version = made["metadata"]["resourceVersion"]
    store.delete("v1", "ConfigMap", "c", "default", preconditions={"resourceVersion": version})
    assert store.get("v1", "ConfigMap", "c", "default") is None
