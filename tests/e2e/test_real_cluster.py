"""happy-path replayed onto real Kubernetes (k3s in a container, kind), kwok-style.

The world engine plays the workload controllers and the kubelet of a simulated node, so the
clusters run with their own workload controllers off (the service-account, namespace and
garbage-collector controllers stay): otherwise two control planes would fight over the same
Deployments. Needs a Docker engine (and the `kind` binary for kind); skips with the reason
when there is none.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from simulator.replay.kubeclient import KubeClient
from simulator.replay.remote import RemoteStore, replay_onto_cluster
from simulator.world.engine import World

ROOT = Path(__file__).resolve().parents[2]
HAPPY = ROOT / "scenarios" / "happy-path.yaml"
K3S_IMAGE = "rancher/k3s:v1.31.4-k3s1"  # the Kubernetes version of the field log's appliance
# Workload controllers the world engine plays instead (aliases, accepted by 1.2x and 1.3x).
OFF = ("deployment", "replicaset", "statefulset", "daemonset", "job", "cronjob", "nodelifecycle")
CONTROLLERS = "*," + ",".join(f"-{name}" for name in OFF)


def _docker_reason() -> str | None:
    """Why no Docker engine can be used here (None when one answers)."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if host.startswith("unix://") and not Path(host.removeprefix("unix://")).exists():
        return f"no Docker engine: {host.removeprefix('unix://')} does not exist (DOCKER_HOST)"
    try:
        import docker  # type: ignore[import-untyped]
    except ImportError:
        return "the docker SDK is not installed (pip install testcontainers)"
    try:
        with contextlib.closing(docker.from_env()) as client:
            client.ping()
    except Exception as exc:  # any failure means: no engine to talk to
        return f"no Docker engine answers at {host} ({type(exc).__name__})"
    return None


DOCKER_MISSING = _docker_reason()
needs_docker = pytest.mark.skipif(DOCKER_MISSING is not None, reason=str(DOCKER_MISSING))


def _assert_happy_path_on(kubeconfig: Path) -> None:
    """Replay happy-path onto the cluster and check it ends as the embedded replay does."""
    result = replay_onto_cluster(HAPPY, kubeconfig=kubeconfig)
    assert result.errors == ()
    embedded = World.from_scenario(HAPPY)
    embedded.start()
    embedded.run_until(embedded.scenario.end)
    client = KubeClient(kubeconfig)
    try:
        remote = RemoteStore(client, embedded.clock)
        for kind, api_version in (("Pod", "v1"), ("Deployment", "apps/v1")):
            expected = {_key(o): _state(o) for o in embedded.store.list(api_version, kind)}
            found = {
                _key(o): _state(o) for o in remote.list(api_version, kind) if _key(o) in expected
            }
            assert found == expected, kind
        node = remote.get("v1", "Node", embedded.node_name)
        assert node is not None
        bound = {p["spec"].get("nodeName") for p in remote.list("v1", "Pod", "msp")}
        assert bound == {embedded.node_name}
    finally:
        client.close()


def _key(obj: dict[str, Any]) -> tuple[str, str]:
    return str(obj["metadata"].get("namespace", "")), str(obj["metadata"]["name"])


def _state(obj: dict[str, Any]) -> tuple[Any, ...]:
    status = obj.get("status") or {}
    ready = [
        c.get("status")
        for c in status.get("conditions") or []
        if c.get("type") in ("Ready", "Available")
    ]
    return status.get("phase"), ready


@needs_docker
def test_happy_path_replays_onto_k3s(tmp_path: Path) -> None:
    """k3s (testcontainers) ends with the embedded replay's pods and Deployments."""
    from testcontainers.community.k3s import K3SContainer

    config = tmp_path / "k3s-config.yaml"
    # A config file, not flags: k3s would split a flag's value on the commas.
    config.write_text(
        "disable: [traefik, servicelb, metrics-server, local-storage]\n"
        f'kube-controller-manager-arg: ["controllers={CONTROLLERS}"]\n'
    )
    container = K3SContainer(image=K3S_IMAGE).with_volume_mapping(
        str(config), "/etc/rancher/k3s/config.yaml", "ro"
    )
    with container as k3s:
        kubeconfig = tmp_path / "kubeconfig"
        kubeconfig.write_text(k3s.config_yaml())
        _assert_happy_path_on(kubeconfig)


@contextlib.contextmanager
def _kind_cluster(tmp: Path) -> Iterator[Path]:
    name = f"appliance-sim-{uuid.uuid4().hex[:8]}"
    config = tmp / "kind.yaml"
    config.write_text(
        "kind: Cluster\n"
        "apiVersion: kind.x-k8s.io/v1alpha4\n"
        "nodes:\n"
        "- role: control-plane\n"
        "  kubeadmConfigPatches:\n"
        "  - |\n"
        "    kind: ClusterConfiguration\n"
        "    controllerManager:\n"
        "      extraArgs:\n"
        f'        controllers: "{CONTROLLERS}"\n'
    )
    kubeconfig = tmp / "kubeconfig"
    subprocess.run(
        [
            "kind",
            "create",
            "cluster",
            "--name",
            name,
            "--config",
            str(config),
            "--kubeconfig",
            str(kubeconfig),
            "--wait",
            "120s",
        ],
        check=True,
        timeout=280,
    )
    try:
        yield kubeconfig
    finally:
        subprocess.run(["kind", "delete", "cluster", "--name", name], check=False, timeout=120)


@needs_docker
@pytest.mark.skipif(shutil.which("kind") is None, reason="the kind binary is not on PATH")
def test_happy_path_replays_onto_kind(tmp_path: Path) -> None:
    """A kind cluster ends with the embedded replay's pods and Deployments."""
    with _kind_cluster(tmp_path) as kubeconfig:
        _assert_happy_path_on(kubeconfig)
