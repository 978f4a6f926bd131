"""What an update may not change in a built-in kind's spec (simulator/api/store/immutable_specs.py),
through the store as the API writes (decoded, defaulted, admitted, then validated), in
kube-apiserver v1.37's words; test_fake_api_vs_apiserver_immutable.py holds the same refusals to
a real control plane."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from simulator.api.store import ObjectStore
from simulator.api.store.errors import InvalidError
from simulator.clock import VirtualClock

Obj = dict[str, Any]
CONTAINER = {"name": "main", "image": "busybox:1.36"}


@pytest.fixture
def store() -> ObjectStore:
    return ObjectStore(VirtualClock(datetime(2026, 6, 20, tzinfo=UTC)))


def _refusal(store: ObjectStore, obj: Obj) -> str:
    with pytest.raises(InvalidError) as refused:
        store.replace(obj, strict=True)
    return str(refused.value)


def _job(**spec: Any) -> Obj:
    template = {"spec": {"restartPolicy": "Never", "containers": [dict(CONTAINER)]}}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "seed", "namespace": "default"},
        "spec": {"template": template, **spec},
    }


def test_a_running_jobs_template_and_completions_do_not_change(store: ObjectStore) -> None:
    live = store.create(_job(completions=1), strict=True)
    changed = copy.deepcopy(live)
    changed["spec"]["completions"] = 5
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = "busybox:1.37"
    message = _refusal(store, changed)
    assert message.startswith(
        'Job.batch "seed" is invalid: [spec.completions: Invalid value: 5: field is immutable, '
        "spec.template: Invalid value: {"
    )
    assert message.endswith(": field is immutable]")
    # What kubectl apply sends back unchanged, defaults left out, is no change.
    unchanged = _job(completions=1)
    unchanged["spec"]["selector"] = live["spec"]["selector"]
    unchanged["spec"]["template"]["metadata"] = live["spec"]["template"]["metadata"]
    store.replace(unchanged, strict=True)


def test_a_suspended_jobs_scheduling_and_resources_may_change(store: ObjectStore) -> None:
    live = store.create(_job(suspend=True), strict=True)
    changed = copy.deepcopy(live)
    pod = changed["spec"]["template"]["spec"]
    pod["nodeSelector"] = {"disk": "ssd"}
    pod["containers"][0]["resources"] = {"requests": {"cpu": "1"}}
    store.replace(changed, strict=True)
    changed["metadata"].pop("resourceVersion")  # unconditional from here on
    pod["containers"][0]["image"] = "busybox:1.37"
    assert _refusal(store, changed).startswith(
        'Job.batch "seed" is invalid: spec.template.spec: Invalid value: {'
    )
    store.patch_status(
        "batch/v1",
        "Job",
        "seed",
        {"status": {"startTime": "2026-06-20T00:00:00Z"}},
        "merge",
        "default",
    )
    pod["containers"][0]["image"] = "busybox:1.36"
    pod["nodeSelector"] = {"disk": "hdd"}
    assert "spec.template: Invalid value" in _refusal(store, changed)  # started: no more


def _stateful_set(**spec: Any) -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "db", "namespace": "default"},
        "spec": {
            "serviceName": "db",
            "selector": {"matchLabels": {"app": "db"}},
            "template": {
                "metadata": {"labels": {"app": "db"}},
                "spec": {"containers": [CONTAINER]},
            },
            **spec,
        },
    }


def test_a_stateful_sets_identity_does_not_change(store: ObjectStore) -> None:
    store.create(_stateful_set(), strict=True)
    changed = _stateful_set(serviceName="other", podManagementPolicy="Parallel", replicas=3)
    changed["spec"]["selector"] = {
        "matchExpressions": [{"key": "app", "operator": "In", "values": ["db"]}],
        "matchLabels": {"app": "db"},
    }
    assert _refusal(store, changed) == (
        'StatefulSet.apps "db" is invalid: [spec.selector: Invalid value: '
        '{"matchLabels":{"app":"db"},"matchExpressions":[{"key":"app","operator":"In",'
        '"values":["db"]}]}: field is immutable, spec.serviceName: Invalid value: "other": '
        'field is immutable, spec.podManagementPolicy: Invalid value: "Parallel": field is '
        "immutable]"
    )
    store.replace(_stateful_set(replicas=3), strict=True)  # replicas may change


def _pod(**spec: Any) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"containers": [dict(CONTAINER)], **spec},
    }


_OTHER_THAN = (
    "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only "
    "additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be "
    "set to 1 if it was previously negative)"
)


def test_a_pod_changes_its_images_and_little_else(store: ObjectStore) -> None:
    account = {"metadata": {"name": "default", "namespace": "default"}}
    store.create({"apiVersion": "v1", "kind": "ServiceAccount", **account})
    live = store.create(_pod(activeDeadlineSeconds=600), strict=True)
    changed = copy.deepcopy(live)
    changed["spec"]["containers"][0]["image"] = "busybox:1.37"
    changed["spec"]["activeDeadlineSeconds"] = 300
    live = store.replace(changed, strict=True)
    changed = copy.deepcopy(live)
    changed["spec"]["containers"][0]["env"] = [{"name": "A", "value": "1"}]
    assert _refusal(store, changed) == f'Pod "web" is invalid: {_OTHER_THAN}'
    changed = copy.deepcopy(live)
    changed["spec"]["activeDeadlineSeconds"] = 900
    assert _refusal(store, changed) == (
        'Pod "web" is invalid: spec.activeDeadlineSeconds: Invalid value: 900: must be less '
        "than or equal to previous value"
    )
    changed = copy.deepcopy(live)
    changed["spec"]["containers"].append({"name": "side", "image": "busybox:1.36"})
    assert _refusal(store, changed) == (
        'Pod "web" is invalid: spec.containers: Forbidden: pod updates may not add or remove '
        "containers"
    )
    store.patch("v1", "Pod", "web", {"metadata": {"labels": {"a": "b"}}}, "merge", "default")


def test_a_claims_spec_and_a_secrets_type_do_not_change(store: ObjectStore) -> None:
    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": "default"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "2Gi"}}},
    }
    store.create(claim, strict=True)
    smaller = copy.deepcopy(claim)
    smaller["spec"]["resources"]["requests"]["storage"] = "1536Mi"
    assert _refusal(store, smaller) == (  # unbound: no request changes
        'PersistentVolumeClaim "data" is invalid: spec: Forbidden: spec is immutable after '
        "creation except resources.requests and volumeAttributesClassName for bound claims"
    )
    bound = {"phase": "Bound", "capacity": {"storage": "2Gi"}}
    store.patch_status("v1", "PersistentVolumeClaim", "data", {"status": bound}, "merge", "default")
    assert _refusal(store, smaller) == (  # bound: lowered, but not below its volume's capacity
        'PersistentVolumeClaim "data" is invalid: spec.resources.requests.storage: Forbidden: '
        "field can not be less than status.capacity"
    )
    larger = copy.deepcopy(claim)
    larger["spec"]["resources"]["requests"]["storage"] = "3Gi"
    store.replace(larger, strict=True)
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "namespace": "default"},
    }
    store.create({**secret, "stringData": {"a": "b"}}, strict=True)
    store.replace({**secret, "type": "Opaque", "data": {}}, strict=True)
    assert _refusal(store, {**secret, "type": "example.com/other"}) == (
        'Secret "s" is invalid: type: Invalid value: "example.com/other": field is immutable'
    )
