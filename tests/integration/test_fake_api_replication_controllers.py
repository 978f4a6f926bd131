"""Issue 12, gap 5: a ReplicationController runs its pods, as kube-controller-manager's does.

kube-controller-manager runs the ReplicaSet controller's code for ReplicationControllers: pods
named `<rc>-<suffix>` owned by the RC, `SuccessfulCreate` events from `replication-controller`,
the RC's status counting them, and the garbage collector removing them with the RC. Found running
the official client's e2e suite (`test_replication_controller_apis`, the multi-resource YAMLs)
against a served world: the RC was stored but no pod ever came.
"""

from __future__ import annotations

from pathlib import Path

from kubernetes import client

from tests.integration.served_world import served_world, wait_for

RC = {
    "apiVersion": "v1",
    "kind": "ReplicationController",
    "metadata": {"name": "front"},
    "spec": {
        "replicas": 2,
        "selector": {"app": "front"},
        "template": {
            "metadata": {"labels": {"app": "front"}},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
        },
    },
}


def test_a_replication_controller_runs_and_collects_its_pods(tmp_path: Path) -> None:
    """Two ready pods owned by the RC; its row and events say so; deleting it takes them."""
    with served_world(tmp_path) as (_world, api):
        core = client.CoreV1Api(api.client())
        core.create_namespaced_replication_controller("shop", RC)

        def ready() -> client.V1ReplicationController | None:
            rc = core.read_namespaced_replication_controller("front", "shop")
            return rc if rc.status.ready_replicas == 2 else None

        rc = wait_for(ready, what="two ready replicas")
        pods = core.list_namespaced_pod("shop", label_selector="app=front").items
        assert len(pods) == 2
        for pod in pods:
            assert pod.metadata.name.startswith("front-")
            (ref,) = pod.metadata.owner_references
            assert (ref.kind, ref.uid, ref.controller) == (
                "ReplicationController",
                rc.metadata.uid,
                True,
            )
        events = core.list_namespaced_event("shop", field_selector="involvedObject.name=front")
        assert {(e.reason, e.source.component) for e in events.items} == {
            ("SuccessfulCreate", "replication-controller")
        }
        row = api.kubectl("get", "rc", "front", "-n", "shop").stdout.splitlines()[1].split()
        assert row[:4] == ["front", "2", "2", "2"]

        core.delete_namespaced_replication_controller(
            "front", "shop", propagation_policy="Background"
        )
        wait_for(
            lambda: not core.list_namespaced_pod("shop", label_selector="app=front").items,
            what="the RC's pods collected",
        )
