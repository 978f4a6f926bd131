"""The fake API's object store: identity, versions, generation, history, events, logs and exec."""

from __future__ import annotations

import copy
import functools
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from simulator.api.store import (
    AlreadyExistsError,
    ConflictError,
    ExpiredError,
    InvalidError,
    NotFoundError,
    ObjectStore,
    pod_log,
)
from simulator.clock import VirtualClock
from simulator.world.objects import Objects

START = datetime(2026, 1, 1, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def store() -> ObjectStore:
    return ObjectStore(VirtualClock(START), history_limit=20)


def _deploy(name: str = "web", image: str = "web:1") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "alga"},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "web", "image": image}]},
            },
        },
    }


def test_create_sets_identity_in_virtual_time(store: ObjectStore) -> None:
    """create sets uid, creationTimestamp (virtual clock), generation 1 and a resourceVersion."""
    store.clock.advance(90)
    obj = store.create(_deploy())
    meta = obj["metadata"]
    assert meta["creationTimestamp"] == "2026-01-01T00:01:30Z"
    assert meta["generation"] == 1
    assert meta["uid"]
    assert int(meta["resourceVersion"]) == store.resource_version


def test_resource_versions_increase_across_kinds(store: ObjectStore) -> None:
    """resourceVersion is one cluster-wide counter."""
    a = store.create(_deploy("a"))
    b = store.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"}})
    assert int(b["metadata"]["resourceVersion"]) == int(a["metadata"]["resourceVersion"]) + 1


def test_only_kinds_with_a_generation_get_one(store: ObjectStore) -> None:
    """As on kube-apiserver (the fidelity run found it): a ConfigMap, a Secret, a Namespace or a
    ClusterRole has no metadata.generation, before or after an update."""
    config = store.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}})
    assert "generation" not in config["metadata"]
    updated = store.patch("v1", "ConfigMap", "c", {"data": {"a": "b"}}, "merge", "default")
    assert "generation" not in updated["metadata"]
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole"}
    assert "generation" not in store.create({**role, "metadata": {"name": "r"}})["metadata"]
    assert store.create(_deploy())["metadata"]["generation"] == 1


def test_spec_change_bumps_generation_but_status_and_labels_do_not(store: ObjectStore) -> None:
    """generation follows spec changes only."""
    store.create(_deploy())
    labelled = store.patch(
        "apps/v1", "Deployment", "web", {"metadata": {"labels": {"a": "b"}}}, "merge", "alga"
    )
    assert labelled["metadata"]["generation"] == 1
    status = store.patch_status(
        "apps/v1", "Deployment", "web", {"status": {"replicas": 1}}, namespace="alga"
    )
    assert status["metadata"]["generation"] == 1
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "web:2"}]}}}}
    changed = store.patch("apps/v1", "Deployment", "web", patch, "strategic", "alga")
    assert changed["metadata"]["generation"] == 2


def test_noop_update_keeps_the_resource_version(store: ObjectStore) -> None:
    """An update that changes nothing is not a new version (no watch event)."""
    created = store.create(_deploy())
    same = store.patch("apps/v1", "Deployment", "web", {"spec": {}}, "merge", "alga")
    assert same["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


def test_a_reapply_that_only_reorders_keys_keeps_the_resource_version(store: ObjectStore) -> None:
    """kube-apiserver compares the bytes it would store, and Go writes a map's keys sorted: a
    server-side apply of the same Service again (which merges its defaulted ports anew) is no
    new version. kustomize-controller's change set reads the version: it would say
    `Service/... configured` at every reconcile."""
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "redis", "namespace": "alga"},
        "spec": {"selector": {"app": "redis"}, "ports": [{"port": 6379}]},
    }
    apply = functools.partial(
        store.patch,
        "v1",
        "Service",
        "redis",
        patch_type="apply",
        namespace="alga",
        field_manager="kustomize-controller",
        force=True,
    )
    first = apply(copy.deepcopy(service))
    again = apply(copy.deepcopy(service))
    assert again["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]


def test_a_reapply_a_minute_later_keeps_the_version_and_its_time(store: ObjectStore) -> None:
    """Our db StatefulSet applied as kustomize-controller, its status written by another
    manager, and applied again a minute later: nothing but the apply's managedFields time
    would change, which kube-apiserver reverts (IgnoreManagedFieldsTimestampsTransformer,
    k8s.io/apiserver fieldmanager/equality.go), so it is no new version."""
    manifest = ROOT / "appliance" / "manifests" / "core" / "postgres.yaml"
    [db] = [d for d in yaml.safe_load_all(manifest.read_text()) if d["kind"] == "StatefulSet"]
    db["metadata"]["namespace"] = "alga"
    apply = functools.partial(
        store.patch,
        "apps/v1",
        "StatefulSet",
        db["metadata"]["name"],
        patch_type="apply",
        namespace="alga",
        field_manager="kustomize-controller",
        force=True,
    )
    apply(copy.deepcopy(db))
    store.clock.advance(30)
    status = {"status": {"replicas": 1}}
    first = store.patch(
        "apps/v1", "StatefulSet", "db", status, "merge", "alga", "status", field_manager="other"
    )
    store.clock.advance(60)
    again = apply(copy.deepcopy(db))
    assert again["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
    assert again["metadata"]["managedFields"] == first["metadata"]["managedFields"]


def test_errors_name_the_object(store: ObjectStore) -> None:
    """Missing, duplicate, stale and nameless writes raise the matching Status errors."""
    with pytest.raises(NotFoundError, match=re.escape('deployments.apps "nope" not found')):
        store.delete("apps/v1", "Deployment", "nope", "alga")
    created = store.create(_deploy())
    with pytest.raises(
        AlreadyExistsError, match=re.escape('deployments.apps "web" already exists')
    ):
        store.create(_deploy())
    store.patch(
        "apps/v1", "Deployment", "web", {"metadata": {"labels": {"x": "1"}}}, "merge", "alga"
    )
    with pytest.raises(ConflictError, match="the object has been modified"):
        store.replace(created)
    with pytest.raises(InvalidError) as invalid:
        store.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}})
    assert invalid.value.status()["code"] == 422


def test_strict_writes_ignore_status_on_the_main_resource(store: ObjectStore) -> None:
    """With strict=True (the HTTP path) status only changes through the subresource."""
    store.create(_deploy())
    store.patch_status(
        "apps/v1", "Deployment", "web", {"status": {"replicas": 1}}, namespace="alga"
    )
    after = store.patch(
        "apps/v1", "Deployment", "web", {"status": {"replicas": 9}}, "merge", "alga", strict=True
    )
    assert after["status"] == {"replicas": 1}


def test_strict_create_needs_the_namespace(store: ObjectStore) -> None:
    """The HTTP path 404s on a missing namespace; the Python path creates it."""
    with pytest.raises(NotFoundError, match='namespaces "alga" not found'):
        store.create(_deploy(), strict=True)
    store.create(_deploy())
    assert store.get("v1", "Namespace", "alga") is not None


def test_dry_run_persists_nothing(store: ObjectStore) -> None:
    """dry_run answers like the write but the store and its version do not change."""
    rv = store.resource_version
    store.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "d"}}, dry_run=True)
    assert store.get("v1", "ConfigMap", "d", "default") is None
    assert store.resource_version == rv


def test_apply_creates_then_merges(store: ObjectStore) -> None:
    """An apply patch creates a missing object; another manager's apply merges into it."""
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "s"}, "data": {"a": "1"}}
    store.patch("v1", "ConfigMap", "s", cm, "apply", "default", field_manager="one")
    store.patch(
        "v1", "ConfigMap", "s", {**cm, "data": {"b": "2"}}, "apply", "default", field_manager="two"
    )
    live = store.get("v1", "ConfigMap", "s", "default")
    assert live is not None
    assert live["data"] == {"a": "1", "b": "2"}


def test_subscribers_see_every_change_in_order(store: ObjectStore) -> None:
    """subscribe() callbacks get ADDED, MODIFIED, DELETED synchronously."""
    store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "alga"}})
    seen: list[tuple[str, str]] = []
    unsubscribe = store.changes.subscribe(
        lambda kind, obj: seen.append((kind, obj["metadata"]["name"]))
    )
    store.create(_deploy())
    store.patch(
        "apps/v1", "Deployment", "web", {"metadata": {"labels": {"a": "b"}}}, "merge", "alga"
    )
    store.delete("apps/v1", "Deployment", "web", "alga")
    unsubscribe()
    store.create(_deploy("later"))
    assert seen == [("ADDED", "web"), ("MODIFIED", "web"), ("DELETED", "web")]


def test_subscribers_hear_only_the_changes_they_want(store: ObjectStore) -> None:
    """subscribe(wants=...) asks the predicate of each change and calls back only for those it
    accepts, each time with a copy of its own."""
    store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "alga"}})
    asked: list[str] = []
    heard: list[dict[str, Any]] = []

    def wants(event_type: str, obj: dict[str, Any]) -> bool:
        asked.append(f"{event_type} {obj['kind']}")
        return bool(obj["kind"] == "Deployment")

    store.changes.subscribe(lambda _, obj: heard.append(obj), wants=wants)
    store.changes.subscribe(lambda _, obj: heard.append(obj), wants=wants)
    store.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}})
    store.create(_deploy())
    assert asked == ["ADDED ConfigMap", "ADDED ConfigMap", "ADDED Deployment", "ADDED Deployment"]
    assert [o["metadata"]["name"] for o in heard] == ["web", "web"]
    heard[0]["metadata"]["name"] = "changed by the first subscriber"
    assert heard[1]["metadata"]["name"] == "web"
    assert store.get("apps/v1", "Deployment", "web", "alga") is not None


def test_finalizers_hold_deletion_until_removed(store: ObjectStore) -> None:
    """An object with finalizers gets a deletionTimestamp; removing them deletes it."""
    obj = _deploy()
    obj["metadata"]["finalizers"] = ["example.com/hold"]
    store.create(obj)
    marked = store.delete("apps/v1", "Deployment", "web", "alga")
    assert marked["metadata"]["deletionTimestamp"]
    store.patch("apps/v1", "Deployment", "web", {"metadata": {"finalizers": None}}, "merge", "alga")
    assert store.get("apps/v1", "Deployment", "web", "alga") is None


def test_history_expires_like_a_compacted_etcd(store: ObjectStore) -> None:
    """history.since an rv older than the retained history raises ExpiredError (410)."""
    start = store.resource_version
    for i in range(30):
        store.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"c{i}"}})
    with pytest.raises(ExpiredError) as expired:
        store.history.since(start)
    assert expired.value.status()["code"] == 410
    recent = store.history.since(store.resource_version - 3)
    assert [e.obj["metadata"]["name"] for e in recent] == ["c27", "c28", "c29"]


def test_emit_event_counts_repeats_like_kubelet(store: ObjectStore) -> None:
    """A repeated reason+message on one object bumps count and lastTimestamp."""
    pod = store.create(
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "db-0", "namespace": "alga"}}
    )
    first = store.events.emit(pod, "BackOff", "Back-off pulling image", type="Warning")
    store.clock.advance(30)
    again = store.events.emit(pod, "BackOff", "Back-off pulling image", type="Warning")
    assert again["metadata"]["name"] == first["metadata"]["name"]
    assert again["count"] == 2
    assert again["lastTimestamp"] == "2026-01-01T00:00:30Z"
    assert again["firstTimestamp"] == "2026-01-01T00:00:00Z"
    assert again["involvedObject"]["kind"] == "Pod"


def test_logs_and_exec_handlers(store: ObjectStore) -> None:
    """Logs are per container; exec asks handlers newest first and falls through on None."""
    store.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "db-0", "namespace": "alga"},
            "spec": {"containers": [{"name": "pg"}]},
        }
    )
    store.logs.set("alga", "db-0", "pg", "a\n")
    store.logs.append("alga", "db-0", "pg", "b\n")
    assert pod_log(store, "alga", "db-0") == "a\nb\n"
    store.execs.register(lambda *_: ("old\n", "", 0))
    store.execs.register(lambda _ns, _p, _c, cmd: ("7\n", "", 0) if cmd[0] == "psql" else None)
    assert store.execs.run("alga", "db-0", "pg", ["psql"]) == ("7\n", "", 0)
    assert store.execs.run("alga", "db-0", "pg", ["ls"]) == ("old\n", "", 0)


def test_crd_serves_its_kind_until_deleted(store: ObjectStore) -> None:
    """Creating a CRD registers its kind; deleting it removes the kind and its objects."""
    from simulator.neighbours.flux_crds import FLUX_CRDS

    hr_crd = next(c for c in FLUX_CRDS if c["spec"]["names"]["kind"] == "HelmRelease")
    with pytest.raises(NotFoundError):
        store.list("helm.toolkit.fluxcd.io/v2", "HelmRelease")
    store.create(hr_crd)
    store.create(
        {
            "apiVersion": "helm.toolkit.fluxcd.io/v2",
            "kind": "HelmRelease",
            "metadata": {"name": "alga-core"},
        }
    )
    assert len(store.list("helm.toolkit.fluxcd.io/v2", "helmreleases")) == 1
    store.delete("apiextensions.k8s.io/v1", "CustomResourceDefinition", hr_crd["metadata"]["name"])
    with pytest.raises(NotFoundError):
        store.list("helm.toolkit.fluxcd.io/v2", "HelmRelease")


def test_namespace_deletion_removes_its_objects(store: ObjectStore) -> None:
    """Deleting a namespace deletes what is in it."""
    store.create(_deploy())
    store.delete("v1", "Namespace", "alga")
    assert store.get("apps/v1", "Deployment", "web", "alga") is None


def test_server_side_apply_removes_what_the_manager_dropped(store: ObjectStore) -> None:
    """Re-applying without an env var removes it; fields set by others stay."""
    body = _deploy()
    container = body["spec"]["template"]["spec"]["containers"][0]
    container["env"] = [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    body["metadata"]["labels"] = {"applied": "yes"}
    store.patch("apps/v1", "Deployment", "web", body, "apply", "alga", field_manager="kubectl")
    store.patch(
        "apps/v1", "Deployment", "web", {"metadata": {"labels": {"other": "x"}}}, "merge", "alga"
    )
    container["env"] = [{"name": "A", "value": "1"}]
    del body["metadata"]["labels"]
    live = store.patch(
        "apps/v1", "Deployment", "web", body, "apply", "alga", field_manager="kubectl"
    )
    assert live["spec"]["template"]["spec"]["containers"][0]["env"] == [{"name": "A", "value": "1"}]
    assert live["metadata"]["labels"] == {"other": "x"}


def _owned(name: str, ref: dict[str, Any]) -> dict[str, Any]:
    """A Deployment beside `_deploy()`'s that names `ref` as its owner."""
    obj = _deploy(name)
    obj["metadata"]["ownerReferences"] = [ref]
    return obj


def test_a_dependent_whose_owners_are_gone_is_collected(store: ObjectStore) -> None:
    """Gap 8: a write naming only owners that no longer exist (a controller that had not seen
    the delete) is deleted, as kube-controller-manager's garbage collector deletes it."""
    owner = store.create(_deploy())
    ref = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "gone"}
    stale = _owned("stale", ref)
    store.create(stale)
    assert store.get("apps/v1", "Deployment", "stale", "alga") is None
    live = {**ref, "uid": owner["metadata"]["uid"]}
    store.create(_owned("kept", live))
    assert store.get("apps/v1", "Deployment", "kept", "alga") is not None


def test_a_scenarios_owner_reference_by_name_is_bound_to_the_owner(store: ObjectStore) -> None:
    """A recording's references carry no uid (the recorded cluster's); the world binds each to
    the owner of that name, so the collector keeps the dependent."""
    objects = Objects(store, clock=store.clock, seed="t")
    owner = objects.create(_deploy())
    assert owner is not None
    ref = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "controller": True}
    made = objects.create(_owned("child", ref))
    assert made is not None
    assert made["metadata"]["ownerReferences"][0]["uid"] == owner["metadata"]["uid"]
    orphan = {**ref, "name": "absent"}
    kept = objects.create(_owned("lone", orphan))
    assert kept is not None
    assert "uid" not in kept["metadata"]["ownerReferences"][0]


def test_a_custom_resource_gets_its_schema_defaults_on_every_write(store: ObjectStore) -> None:
    """apiextensions-apiserver defaults what it decodes: a create, an update, a status write."""
    schema = {
        "type": "object",
        "properties": {
            "spec": {"type": "object", "properties": {"mode": {"type": "string", "default": "a"}}},
            "status": {
                "type": "object",
                "properties": {"seen": {"type": "integer", "default": -1}},
            },
        },
    }
    store.create(
        {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "gadgets.example.com"},
            "spec": {
                "group": "example.com",
                "scope": "Namespaced",
                "names": {"kind": "Gadget", "plural": "gadgets"},
                "versions": [
                    {
                        "name": "v1",
                        "served": True,
                        "storage": True,
                        "subresources": {"status": {}},
                        "schema": {"openAPIV3Schema": schema},
                    }
                ],
            },
        }
    )
    gadget = {"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": "g"}}
    created = store.create({**gadget, "spec": {}}, strict=True)
    assert created["spec"] == {"mode": "a"}
    assert "status" not in created  # defaults fill objects that are there, make none
    updated = store.replace({**created, "spec": {"mode": None}}, strict=True)
    assert updated["spec"] == {"mode": "a"}  # a disallowed null is defaulted again
    written = store.replace({**updated, "status": {}}, subresource="status", strict=True)
    assert written["status"] == {"seen": -1}


def test_a_secrets_string_data_is_stored_in_its_data(store: ObjectStore) -> None:
    """As kube-apiserver's conversion does on every write: base64 into `data`, over a `data`
    value of the same key, and no `stringData` kept; also for the world's trusted writes."""
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "namespace": "default"},
        "data": {"a": "eHl6", "b": "eHl6"},
        "stringData": {"b": "new", "c": "s3cret"},
    }
    created = store.create(secret)
    assert "stringData" not in created
    assert created["data"] == {"a": "eHl6", "b": "bmV3", "c": "czNjcmV0"}
    updated = store.patch("v1", "Secret", "s", {"stringData": {"a": "x"}}, "merge", "default")
    assert "stringData" not in updated
    assert updated["data"]["a"] == "eA=="


def test_a_container_limit_ranges_defaults_come_from_its_bounds(store: ObjectStore) -> None:
    """SetDefaults_LimitRangeItem: a Container item's default is its max, its default request
    its default, else its min; other item types are left alone."""
    limit_range = {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": {"name": "l", "namespace": "default"},
        "spec": {
            "limits": [
                {
                    "type": "Container",
                    "max": {"memory": "1Gi", "cpu": "2"},
                    "min": {"cpu": "50m", "ephemeral-storage": "1Mi"},
                    "defaultRequest": {"memory": "128Mi"},
                },
                {"type": "Pod", "max": {"cpu": "4"}},
            ]
        },
    }
    container, pod = store.create(limit_range)["spec"]["limits"]
    assert container["default"] == {"cpu": "2", "memory": "1Gi"}
    assert container["defaultRequest"] == {
        "cpu": "2",
        "ephemeral-storage": "1Mi",
        "memory": "128Mi",
    }
    assert pod == {"type": "Pod", "max": {"cpu": "4"}}


def test_a_pod_takes_its_priority_from_its_class_or_the_global_default(store: ObjectStore) -> None:
    """The Priority plugin: the named class's value and policy; without a name, the global
    default class with the lowest value, whose name the pod takes."""
    for name, value, default in (
        ("high", 1000, False),
        ("low-default", 10, True),
        ("hi-def", 50, True),
    ):
        store.create(
            {
                "apiVersion": "scheduling.k8s.io/v1",
                "kind": "PriorityClass",
                "metadata": {"name": name},
                "value": value,
                "globalDefault": default,
                **({"preemptionPolicy": "Never"} if name == "high" else {}),
            }
        )

    def pod(name: str, **spec: Any) -> dict[str, Any]:
        created = store.create(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": name, "namespace": "default"},
                "spec": {"containers": [{"name": "c", "image": "x"}], **spec},
            }
        )
        return {
            k: created["spec"].get(k) for k in ("priorityClassName", "priority", "preemptionPolicy")
        }

    assert pod("named", priorityClassName="high") == {
        "priorityClassName": "high",
        "priority": 1000,
        "preemptionPolicy": "Never",
    }
    assert pod("unnamed") == {
        "priorityClassName": "low-default",
        "priority": 10,
        "preemptionPolicy": "PreemptLowerPriority",
    }


def test_a_pod_updated_without_its_priority_keeps_it(store: ObjectStore) -> None:
    """The Priority plugin on an update: what admission gave is kept, not reset to 0."""
    critical = {"name": "system-cluster-critical"}
    store.create(
        {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": critical}
        | {"value": 2000000000}
    )
    store.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p", "namespace": "default"},
            "spec": {
                "priorityClassName": "system-cluster-critical",
                "containers": [{"name": "c", "image": "x"}],
            },
        }
    )
    sent = copy.deepcopy(store.get("v1", "Pod", "p", "default"))
    assert sent is not None
    del sent["spec"]["priority"], sent["spec"]["preemptionPolicy"]
    sent["metadata"]["labels"] = {"a": "b"}
    updated = store.replace(sent, strict=True, field_manager="kubectl")
    assert (updated["spec"]["priority"], updated["spec"]["preemptionPolicy"]) == (
        2000000000,
        "PreemptLowerPriority",
    )
