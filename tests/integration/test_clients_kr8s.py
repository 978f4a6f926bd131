"""kr8s, another client nobody here wrote, does its typical operations against a served world."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.served_world import served_world, wait_for

kr8s = pytest.importorskip("kr8s", reason="kr8s is a dev dependency: pip install -e '.[dev]'")


def test_kr8s_typical_operations(tmp_path: Path) -> None:
    """Version, get, create, patch, scale, labels, exists, delete (kr8s's documented calls)."""
    from kr8s.objects import ConfigMap, Deployment, Pod

    with served_world(tmp_path) as (world, _api):
        wait_for(lambda: world.ready("Deployment", "web", "shop"), what="web ready")
        api = kr8s.api(kubeconfig=str(world.kubeconfig_path))
        assert api.version()["gitVersion"].startswith("v1.")
        pods = list(api.get("pods", namespace="shop", label_selector={"app": "web"}))
        assert len(pods) == 2
        assert all(isinstance(p, Pod) and p.ready() for p in pods)
        nodes = list(api.get("nodes"))
        assert [n.name for n in nodes] == [world.node_name]
        config = ConfigMap(
            {"metadata": {"name": "settings", "namespace": "shop"}, "data": {"a": "1"}}, api=api
        )
        config.create()
        assert config.exists()
        config.patch({"data": {"b": "2"}})
        config.refresh()
        assert config.raw["data"] == {"a": "1", "b": "2"}
        config.label({"tier": "web"})
        labelled = list(api.get("configmaps", namespace="shop", label_selector={"tier": "web"}))
        assert [c.name for c in labelled] == ["settings"]
        deployment = Deployment.get("web", namespace="shop", api=api)
        deployment.scale(3)
        wait_for(lambda: len(world.pods("shop", app="web")) == 3, what="three web pods")
        config.delete()
        assert not config.exists()
