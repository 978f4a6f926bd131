"""`appliance-sim run SCENARIO --bootstrap --backend control-plane`: the main job, on a real API.

Everything the served fake world offers, with a real control plane where the fake API was: the
Talos host and `talosctl` (which hands out the control plane's admin kubeconfig), the OCI
registry and the app endpoint stay simulated; the bootstrapper's Platform..Background phases,
the status service (a process with a TokenRequest token of its own ServiceAccount) and the real
Flux controllers (fetching this repository from a git server on loopback) all talk to the real
kube-apiserver. The world plays the node.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from simulator.api.store.pod_security import CONFIGS
from simulator.controlplane.backend import NodeWorld
from simulator.controlplane.binaries import build_missing
from simulator.controlplane.cluster import ControlPlane
from simulator.controlplane.gitserver import GitServer
from simulator.world.scenario import load_scenario
from simulator.world.served import ServedWorld

__all__ = ["SPEED", "served_on_control_plane"]

# The control plane's own steps (controllers' queues, Flux's health polling, the status service's
# refresh) take wall seconds; at the fake API's 60x each would be a virtual minute. 30x keeps the
# observed install at about two minutes of wall time and the timeline close to the fake API's.
SPEED = 30.0


@contextlib.contextmanager
def served_on_control_plane(
    scenario: Path,
    *,
    speed: float | None,
    repository: Path | None,
    kubeconfig_out: Path | None = None,
) -> Iterator[tuple[ServedWorld, str]]:
    """A served world on a fresh control plane, and the URL Flux should fetch `repository` from.

    Everything is stopped (and the control plane's state removed) on the way out.
    """
    loaded = load_scenario(scenario)
    binaries = build_missing()
    with contextlib.ExitStack() as stack:
        # The Pod Security admission the scenario's Talos node runs (TALOS unless it says not).
        security = CONFIGS[loaded.host.pod_security if loaded.host else "kube-apiserver"]
        plane = stack.enter_context(ControlPlane(binaries, pod_security=security))
        repo_url = ""
        if repository is not None:
            git = GitServer(repository).start()
            stack.callback(git.stop)
            repo_url = git.url
        node = NodeWorld.create(
            scenario,
            plane.kubeconfig,
            speed=speed or min(loaded.bootstrap.speed, SPEED),
            skip_actors=loaded.bootstrap.skip_actors,
            real_flux=True,
            serve=True,
            binaries=binaries,
        )
        stack.callback(node.stop)
        node.start(kubeconfig_out=kubeconfig_out)
        assert isinstance(node.world, ServedWorld)
        yield node.world, repo_url
