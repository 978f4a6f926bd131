"""Claims and volumes in the fake API's store: the default StorageClass and the protection
finalizers on create, and deletions that wait for the pods on a node that name the claim (the
judge against kube-apiserver and kube-controller-manager is
tests/integration/test_fake_api_vs_apiserver_volumes.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from simulator.api.store import ObjectStore
from simulator.api.volume_warnings import volume_warnings
from simulator.clock import VirtualClock

NS = "vols"


@pytest.fixture
def store() -> ObjectStore:
    store = ObjectStore(VirtualClock(datetime(2026, 1, 1, tzinfo=UTC)))
    store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    return store


def _class(name: str, *, default: bool) -> dict[str, Any]:
    annotations = {"storageclass.kubernetes.io/is-default-class": "true"} if default else {}
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": name, "annotations": annotations},
        "provisioner": "example.com/none",
    }


def _claim(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}},
            **spec,
        },
    }


def _pod(claim: str, *, node: str | None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "containers": [{"name": "c", "image": "x"}],
        "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}],
    }
    if node:
        spec["nodeName"] = node
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": NS},
        "spec": spec,
    }


def test_a_claim_without_a_class_gets_the_newest_default(store: ObjectStore) -> None:
    store.create(_class("older", default=True), strict=True)
    store.clock.advance(5)
    store.create(_class("newer", default=True), strict=True)
    store.create(_class("plain", default=False), strict=True)
    claim = store.create(_claim("c1"), strict=True)
    assert claim["spec"]["storageClassName"] == "newer"
    assert claim["metadata"]["finalizers"] == ["kubernetes.io/pvc-protection"]
    assert (
        "storageClassName" in store.create(_claim("c2", storageClassName=""), strict=True)["spec"]
    )
    assert store.get("v1", "PersistentVolumeClaim", "c2", NS)["spec"]["storageClassName"] == ""


def test_a_claim_a_scheduled_pod_names_waits_for_the_pod(store: ObjectStore) -> None:
    store.create(_claim("data"), strict=True)
    store.create(_pod("data", node="node-1"))
    store.delete("v1", "PersistentVolumeClaim", "data", NS)
    held = store.get("v1", "PersistentVolumeClaim", "data", NS)
    assert held is not None
    assert held["metadata"]["deletionTimestamp"]
    store.delete("v1", "Pod", "p", NS, grace_period=0)
    assert store.get("v1", "PersistentVolumeClaim", "data", NS) is None


def test_a_pod_never_scheduled_does_not_hold_a_claim(store: ObjectStore) -> None:
    store.create(_claim("data"), strict=True)
    store.create(_pod("data", node=None))
    store.delete("v1", "PersistentVolumeClaim", "data", NS)
    assert store.get("v1", "PersistentVolumeClaim", "data", NS) is None


def test_a_volume_goes_once_it_is_not_bound(store: ObjectStore) -> None:
    volume = {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": "pv1"},
        "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"]},
    }
    created = store.create(volume, strict=True)
    assert created["metadata"]["finalizers"] == ["kubernetes.io/pv-protection"]
    store.patch("v1", "PersistentVolume", "pv1", {"status": {"phase": "Bound"}}, "merge")
    store.delete("v1", "PersistentVolume", "pv1")
    assert store.get("v1", "PersistentVolume", "pv1") is not None
    store.patch("v1", "PersistentVolume", "pv1", {"status": {"phase": "Released"}}, "merge")
    assert store.get("v1", "PersistentVolume", "pv1") is None


def test_a_volume_is_warned_about_what_is_deprecated() -> None:
    volume = {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"annotations": {"volume.beta.kubernetes.io/mount-options": "ro"}},
        "spec": {"persistentVolumeReclaimPolicy": "Recycle", "rbd": {"image": "x"}},
    }
    assert volume_warnings(volume) == [
        "metadata.annotations[volume.beta.kubernetes.io/mount-options]: deprecated since v1.31; "
        'use "mountOptions" attribute instead',
        "spec.persistentVolumeReclaimPolicy: The Recycle reclaim policy is deprecated. Instead, "
        "the recommended approach is to use dynamic provisioning.",
        "spec.rbd: deprecated in v1.28, non-functional in v1.31+",
    ]
    storage_os = {"kind": "PersistentVolume", "metadata": {}, "spec": {"storageos": {}}}
    assert volume_warnings(storage_os) == [
        "spec.storageOS: deprecated in v1.22, non-functional in v1.25+"
    ]
    assert volume_warnings({"kind": "ConfigMap", "metadata": {}}) == []
