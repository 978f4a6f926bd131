"""`appliance-sim control-plane`: a real Kubernetes control plane on loopback, until stopped.

    appliance-sim control-plane --kubeconfig-out FILE [--dir DIR] [--pod-security talos]

Builds what is missing (`tools/control-plane`, cached), starts etcd, kube-apiserver and
kube-controller-manager, and a simulated node (`control-plane-node`) that binds pods and drives
their status kwok-style, so `kubectl create deployment` runs out of the box. A scenario replayed
onto it (`appliance-sim replay SCENARIO --kubeconfig FILE`) brings its own node, and the standby
node then leaves new pods to it. Runs in the foreground until SIGTERM or Ctrl-C, then stops every
process it started and removes its state (kept when `--dir` names where to keep it).
`--pod-security talos` configures Pod Security admission as a Talos node's kube-apiserver is
(baseline enforced, restricted warned, kube-system exempt); by default it is kube-apiserver's own.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from simulator.api.store.pod_security import CONFIGS
from simulator.command_line import exit_codes_help, output_file
from simulator.controlplane.backend import NodeWorld, StandbyNode
from simulator.controlplane.binaries import BinaryError, build_missing, missing_reason
from simulator.controlplane.cluster import ControlPlane, ControlPlaneError
from simulator.lifecycle import raise_if_stopped, stop_on_signals
from simulator.world.scenario import Scenario

__all__ = ["STANDBY_NODE", "add_control_plane_command", "run_control_plane"]

STANDBY_NODE = "control-plane-node"


def add_control_plane_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `control-plane` on `appliance-sim`'s subparsers."""
    command = sub.add_parser(
        "control-plane",
        help="run a real Kubernetes control plane (and a simulated node)",
        description=(  # raw text (add_version_everywhere): lines of our own
            "Start etcd, kube-apiserver and kube-controller-manager (built from\n"
            "tools/control-plane when missing) on loopback, with a simulated node that runs\n"
            "the pods scheduled to it, and write the admin kubeconfig. Runs in the foreground\n"
            "until Ctrl-C or SIGTERM, then stops them all and removes their state (unless --dir)."
        ),
        epilog=exit_codes_help(
            {
                0: "stopped by Ctrl-C or SIGTERM",
                1: "a component did not start or exited (its log is named)",
                2: "the programs are missing and cannot be built here (one line says why)",
            }
        ),
    )
    command.add_argument(
        "--kubeconfig-out",
        type=output_file,
        required=True,
        help="write the admin kubeconfig here",
    )
    command.add_argument(
        "--dir", type=Path, help="keep the state (etcd data, PKI, logs) here instead of a temp dir"
    )
    command.add_argument(
        "--pod-security",
        choices=sorted(CONFIGS),
        default="kube-apiserver",
        help=(
            "Pod Security admission's defaults: kube-apiserver's own (none enforced; the"
            " default) or a Talos node's (baseline enforced, restricted warned, kube-system"
            " exempt)"
        ),
    )


def _standby_scenario() -> Scenario:
    return Scenario.model_validate(
        {
            "name": "control-plane",
            "speed": 1,
            "host": {"initialState": "running", "kubernetesUp": True, "nodeName": STANDBY_NODE},
        }
    )


def run_control_plane(args: argparse.Namespace) -> int:
    """Run until SIGTERM/SIGINT; exit 2 with one line when it cannot start."""
    reason = missing_reason()
    if reason is not None:
        print(f"appliance-sim control-plane: {reason}", file=sys.stderr)
        return 2
    started = time.monotonic()
    try:
        binaries = build_missing()
    except BinaryError as exc:
        print(f"appliance-sim control-plane: {exc}", file=sys.stderr)
        return 2
    stop_on_signals()
    plane = ControlPlane(binaries, folder=args.dir, pod_security=CONFIGS[args.pod_security])
    node: NodeWorld | None = None
    try:
        plane.start()
        node = NodeWorld.create(
            _standby_scenario(), plane.kubeconfig, speed=1, accept=StandbyNode(STANDBY_NODE)
        )
        node.start()
        args.kubeconfig_out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(plane.kubeconfig, args.kubeconfig_out)
        args.kubeconfig_out.chmod(0o600)
        print(f"API server:  {plane.server}  (etcd http://{plane.address}:2379)")
        print(f"kubeconfig:  {args.kubeconfig_out}")
        print(f"node:        {STANDBY_NODE} at {node.world.node_ip} (kubelet :10250)")
        print(f"state, logs: {plane.folder}")
        print(f"ready in {time.monotonic() - started:.1f}s; Ctrl-C or SIGTERM stops it")
        sys.stdout.flush()
        while True:
            time.sleep(1)
            raise_if_stopped()
            for component in plane.components:
                if component.process.poll() is not None:
                    print(
                        f"appliance-sim control-plane: {component.name} exited "
                        f"({component.process.returncode}); its log is {component.log}",
                        file=sys.stderr,
                    )
                    return 1
    except KeyboardInterrupt:
        return 0
    except ControlPlaneError as exc:
        print(f"appliance-sim control-plane: {exc}", file=sys.stderr)
        return 1
    finally:
        if node is not None:
            node.stop()
        plane.stop()
        print("control plane stopped", file=sys.stderr)
