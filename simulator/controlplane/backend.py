"""A world that plays only the node of a cluster whose controllers are real.

`NodeWorld.create(scenario, kubeconfig)` points the world engine at a cluster through a
`FollowingStore` (it hears what kube-controller-manager creates) and tells it what the cluster
does itself: Deployments, ReplicaSets, StatefulSets, Jobs and garbage collection are the real
controllers' (and Flux is the real controllers' when `real_flux`); the world binds pods to its
node, pulls as its registry says, plays the scenario's stages and scripted actions, and writes
pod status, Events and logs through the API. The node's other duties (log endpoint, lease,
volumes) run beside it (`simulator.controlplane.node`).

Time: the control plane's clock is the wall clock and cannot be compressed. The world's clock
starts at the API server's "now" and runs at `speed`; at speed 1 every timestamp the product reads
is consistent, at 60x the world's own timestamps (pull and container times, Events) run ahead of
the server's `Date`, so ages computed across the two are not meaningful there.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from simulator.clock import VirtualClock
from simulator.controlplane.access import ControlPlaneAccess
from simulator.controlplane.binaries import flux_crd_files
from simulator.controlplane.flux import flux_process_images
from simulator.controlplane.following import FollowingStore
from simulator.controlplane.node import (
    KUBELET_PORT,
    KubeletEndpoint,
    NodeLease,
    PodReaper,
    VolumeProvisioner,
)
from simulator.neighbours.addresses import NODE_PORTS, choose_node_address
from simulator.neighbours.fluxctl import CRD_FILES_ENV
from simulator.neighbours.processes import ProcessImage, ProcessRunner
from simulator.replay.kubeclient import ApiError
from simulator.world.engine import World
from simulator.world.scenario import Scenario, load_scenario
from simulator.world.served import ServedWorld

__all__ = ["NodeWorld", "StandbyNode"]

Obj = dict[str, Any]
_SYNC_TIMEOUT = 60.0


@dataclass
class NodeWorld:
    """The world, its store and the node's services; `stop()` ends all of them."""

    world: World
    store: FollowingStore
    access: ControlPlaneAccess
    services: list[Any] = field(default_factory=list)
    flux_images: tuple[ProcessImage, ...] = ()

    @classmethod
    def create(
        cls,
        scenario: str | Path | Scenario,
        kubeconfig: Path,
        *,
        speed: float | None = None,
        skip_actors: Iterable[str] = (),
        real_flux: bool = False,
        serve: bool = False,
        accept: Callable[[str, Obj], bool] | None = None,
        binaries: Mapping[str, Path] | None = None,
    ) -> NodeWorld:
        """A world for `scenario` on the cluster `kubeconfig` reaches (not started).

        With `real_flux`, `flux install` applies the controllers' own CRDs and the controller
        Deployments run the programs in `binaries` (`simulator.controlplane.flux`).
        """
        loaded = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        base_dir = None if isinstance(scenario, Scenario) else Path(scenario).resolve().parent
        access = ControlPlaneAccess(kubeconfig)
        try:
            start = access.client.now() or datetime.now(UTC)
        except ApiError:
            access.close()
            raise
        loaded = loaded.model_copy(update={"start": start})
        store = FollowingStore(kubeconfig, VirtualClock(start, speed=0), accept=accept)
        ports = (*NODE_PORTS, KUBELET_PORT) if serve else (KUBELET_PORT,)
        world_class = _ServedOnControlPlane if serve else World
        world = world_class(
            loaded,
            speed=loaded.speed if speed is None else speed,
            skip_actors=skip_actors,
            base_dir=base_dir,
            node_ip=choose_node_address(ports=ports),
            store=store,
            cluster_runs={"workloads", "flux"} if real_flux else {"workloads"},
        )
        store.clock = world.clock
        node = cls(world, store, access)
        if isinstance(world, _ServedOnControlPlane):
            world.access = access
            if real_flux:
                crds = os.pathsep.join(str(f) for f in flux_crd_files())
                world.shim_env[CRD_FILES_ENV] = crds
        if real_flux:
            node.flux_images = flux_process_images(binaries or {})
        return node

    def start(self, *, kubeconfig_out: Path | None = None) -> NodeWorld:
        """Follow the cluster, start the node's services, then the world (its clock running)."""
        self.store.follow()
        if not self.store.synced.wait(_SYNC_TIMEOUT):
            raise TimeoutError(f"listing the cluster at {self.access.url} took over a minute")
        world = self.world
        self.services = [
            KubeletEndpoint(self.store, world.node_ip).start(),
            NodeLease(self.store, world.node_name).start(),
            VolumeProvisioner(self.store, world.node_name).start(),
            PodReaper(self.store, world.node_name).start(),
        ]
        if self.flux_images:
            self.services.append(self._flux_runner())
        if isinstance(world, ServedWorld):
            world.start(kubeconfig_out=kubeconfig_out)
            return self
        world.start()
        if world.speed > 0:
            # An unserved world's scheduler is started here: real controllers need time to pass.
            world.clock.set_speed(world.speed)
            world.scheduler.start()
        return self

    def _flux_runner(self) -> ProcessRunner:
        access = self.access

        def kubeconfig_for(namespace: str, serviceaccount: str, path: Path) -> Path:
            token = access.issue_token(namespace, serviceaccount)
            return access.write_kubeconfig(path, token=token, user=serviceaccount)

        runner = ProcessRunner(
            node_ip=self.world.node_ip,
            kubeconfig_for=kubeconfig_for,
            images=self.flux_images,
            node_name=self.world.node_name,
        )
        return runner.attach(self.store)

    def stop(self) -> None:
        self.world.stop()
        for service in reversed(self.services):
            service.stop()
        self.services.clear()
        self.store.close()
        self.access.close()

    def __enter__(self) -> NodeWorld:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


class _ServedOnControlPlane(ServedWorld):
    """A served world whose API is the real control plane's (TokenRequest for its processes)."""

    access: ControlPlaneAccess

    def _start_api(self) -> ControlPlaneAccess:
        self.api = self.access
        return self.access


class StandbyNode:
    """A filter for a node that steps aside: it takes unbound pods only while it is alone.

    `appliance-sim control-plane` keeps such a node so that pods run out of the box; a scenario
    replayed onto the same control plane brings its own node, and from then on the standby node
    leaves new pods to it (the pods already bound to the standby node stay its own).
    """

    def __init__(self, node_name: str) -> None:
        self.node_name = node_name
        self._others: set[str] = set()

    def __call__(self, event_type: str, obj: Obj) -> bool:
        kind = obj.get("kind")
        if kind == "Node":
            name = str((obj.get("metadata") or {}).get("name", ""))
            if name != self.node_name:
                if event_type == "DELETED":
                    self._others.discard(name)
                else:
                    self._others.add(name)
            return True
        if kind != "Pod":
            return True
        bound = (obj.get("spec") or {}).get("nodeName")
        return bool(bound == self.node_name or (not bound and not self._others))
