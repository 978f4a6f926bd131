"""lightkube, a client nobody here wrote, does its typical operations against a served world."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.served_world import served_world, wait_for

lightkube = pytest.importorskip(
    "lightkube", reason="lightkube is a dev dependency: pip install -e '.[dev]'"
)


def test_lightkube_typical_operations(tmp_path: Path) -> None:
    """Get, list, create, patch, apply, watch, logs, delete (the README's operations)."""
    from lightkube import Client, KubeConfig
    from lightkube.models.meta_v1 import ObjectMeta
    from lightkube.resources.apps_v1 import Deployment
    from lightkube.resources.core_v1 import ConfigMap, Namespace, Node, Pod
    from lightkube.types import PatchType

    with served_world(tmp_path) as (world, _api):
        client = Client(KubeConfig.from_file(str(world.kubeconfig_path)))
        wait_for(lambda: world.ready("Deployment", "web", "shop"), what="web ready")
        assert client.get(Namespace, "shop").status.phase == "Active"
        assert [n.metadata.name for n in client.list(Node)] == [world.node_name]
        pods = list(client.list(Pod, namespace="shop", labels={"app": "web"}))
        assert len(pods) == 2
        deployment = client.get(Deployment, "web", namespace="shop")
        assert deployment.status.readyReplicas == 2
        created = client.create(
            ConfigMap(metadata=ObjectMeta(name="settings", namespace="shop"), data={"a": "1"})
        )
        assert created.metadata.resourceVersion
        patched = client.patch(
            ConfigMap,
            "settings",
            {"data": {"b": "2"}},
            namespace="shop",
            patch_type=PatchType.MERGE,
        )
        assert patched.data == {"a": "1", "b": "2"}
        applied = client.apply(
            ConfigMap(
                apiVersion="v1",
                kind="ConfigMap",
                metadata=ObjectMeta(name="applied", namespace="shop"),
                data={"x": "y"},
            ),
            field_manager="lightkube-test",
        )
        assert applied.data == {"x": "y"}
        client.patch(Deployment, "web", {"spec": {"replicas": 3}}, namespace="shop")
        for event_type, pod in client.watch(
            Pod,
            namespace="shop",
            labels={"app": "web"},
            resource_version=pods[0].metadata.resourceVersion,
        ):
            if event_type == "ADDED":
                assert pod.metadata.name.startswith("web-")
                break
        world.store.logs.set("shop", pods[0].metadata.name, "web", "hello\n")
        assert list(client.log(pods[0].metadata.name, namespace="shop")) == ["hello\n"]
        client.delete(ConfigMap, "settings", namespace="shop")
        listed = [c.metadata.name for c in client.list(ConfigMap, namespace="shop")]
        assert listed == ["applied", "kube-root-ca.crt"]  # the second kube-controller-manager's
        client.close()
