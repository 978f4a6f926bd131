"""`appliance-sim replay` onto a cluster that runs its own workload controllers.

A cluster holding kube-controller-manager's leader Lease runs the Deployment, ReplicaSet,
StatefulSet and Job controllers itself; the world must then play only the node (`NodeWorld`), and
time must pass, because those controllers act on their own schedule: the replay runs at the
scenario's speed unless told otherwise. A cluster without that Lease (a bare fake API, k3s or kind
with the controllers off) gets the whole world engine (`simulator.remote`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from simulator.controlplane.backend import NodeWorld
from simulator.replay.kubeclient import ApiError, KubeClient
from simulator.replay.remote import ReplayResult
from simulator.world.engine import World
from simulator.world.scenario import Scenario, load_scenario

__all__ = ["cluster_runs_controllers", "replay_onto_control_plane"]

_CONTROLLER_LEASE = (
    "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-controller-manager"
)


def cluster_runs_controllers(kubeconfig: Path) -> bool:
    """Whether kube-controller-manager holds its leader Lease on the cluster."""
    client = KubeClient(kubeconfig)
    try:
        lease = client.request("GET", _CONTROLLER_LEASE)
    except ApiError as exc:
        if exc.code in (403, 404):
            return False
        raise
    finally:
        client.close()
    return bool((lease.get("spec") or {}).get("holderIdentity"))


def replay_onto_control_plane(
    scenario: str | Path | Scenario,
    *,
    kubeconfig: Path,
    speed: float | None = None,
    until: float | None = None,
    on_progress: Callable[[World], None] | None = None,
) -> ReplayResult:
    """Play a scenario's node and script onto the cluster; the cluster's controllers do the rest.

    `speed` defaults to the scenario's; 0 is refused (the real controllers' time cannot freeze).
    """
    loaded = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    rate = loaded.speed if speed is None or speed <= 0 else speed
    node = NodeWorld.create(scenario, kubeconfig, speed=rate)
    end = until if until is not None else loaded.end
    began = time.perf_counter()
    try:
        node.start()
        world = node.world
        while world.elapsed < end and not world.scheduler.errors:
            time.sleep(0.1)
            if on_progress is not None:
                on_progress(world)
    finally:
        node.stop()
    return ReplayResult(
        world=node.world,
        virtual_seconds=end,
        wall_seconds=time.perf_counter() - began,
        errors=tuple(str(e) for e in node.world.scheduler.errors),
    )
