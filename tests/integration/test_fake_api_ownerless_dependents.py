"""Issue 12, gap 8: a dependent written after its owner went is collected.

kube-controller-manager's garbage collector deletes an object whose owners are all absent, also
when a controller wrote it after the owner's deletion (its informer had not seen the DELETE).
Found running the official client's e2e suite against a served world: a Deployment deleted right
after its create left its ReplicaSet and three Running pods behind for good.
"""

from __future__ import annotations

import time
from pathlib import Path

from kubernetes import client

from tests.integration.served_world import served_world, wait_for


def _deployment(name: str) -> dict[str, object]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
            },
        },
    }


def test_what_a_controller_writes_for_a_deleted_owner_is_collected(tmp_path: Path) -> None:
    """Deployments deleted as soon as created leave no ReplicaSet and no pod."""
    with served_world(tmp_path) as (_world, api):
        apps, core = client.AppsV1Api(api.client()), client.CoreV1Api(api.client())
        names = [f"brief-{i}" for i in range(8)]
        for name in names:
            apps.create_namespaced_deployment("shop", _deployment(name))
            apps.delete_namespaced_deployment(name, "shop")

        def leftovers() -> list[str]:
            sets = apps.list_namespaced_replica_set("shop").items
            pods = core.list_namespaced_pod("shop").items
            return [o.metadata.name for o in [*sets, *pods] if o.metadata.name.startswith("brief-")]

        wait_for(lambda: not leftovers(), what="no dependents of the deleted Deployments")
        time.sleep(1)  # a minute of the world: nothing comes back
        assert leftovers() == []
        ping = _deployment("ping")
        apps.create_namespaced_deployment("shop", ping)  # the world's controllers still run
        wait_for(
            lambda: apps.read_namespaced_deployment("ping", "shop").status.ready_replicas == 2,
            what="a later Deployment ready",
        )
