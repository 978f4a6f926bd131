"""`appliance-sim record`, `replay` and `control-plane`: the simulator and real clusters.

    appliance-sim record --kubeconfig PATH --out FILE [--duration 90m | --until-idle 30s]
                         [--namespaces a,b] [--name NAME]
    appliance-sim replay SCENARIO --kubeconfig PATH [--speed N] [--until 90m]
                         [--controllers auto|cluster|world]
    appliance-sim control-plane --kubeconfig-out PATH [--dir DIR]

`record` lists and watches the cluster and writes a scenario that replays verbatim (`appliance-sim
run FILE`); Ctrl-C stops it early and still writes the file. `replay` plays a scenario onto the
cluster: the world engine creates the objects, binds pods to its simulated node and patches
their status kwok-style, and emits the Events.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import yaml

from simulator.command_line import bounded, output_file
from simulator.controlplane.command import add_control_plane_command, run_control_plane
from simulator.errors import SimulatorError
from simulator.lifecycle import stop_on_signals
from simulator.replay.kubeclient import KubeClient
from simulator.replay.scripting import run_recording
from simulator.world.durations import parse_duration
from simulator.world.timeline import format_elapsed

__all__ = ["COMMANDS", "add_commands", "run_command"]

COMMANDS = ("record", "replay", "control-plane")


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `record` and `replay` on `appliance-sim`'s subparsers."""
    record = sub.add_parser("record", help="watch a cluster and write a scenario of what happened")
    record.add_argument("--kubeconfig", type=Path, required=True, help="the cluster to watch")
    record.add_argument("--out", type=output_file, required=True, help="scenario file to write")
    stop = record.add_mutually_exclusive_group()
    stop.add_argument("--duration", help="stop after this much server-clock time (90m)")
    stop.add_argument("--until-idle", help="stop once nothing changed for this long (30s)")
    record.add_argument("--namespaces", default="", help="comma-separated (default: all)")
    record.add_argument("--name", help="scenario name (default: the output file's name)")
    replay = sub.add_parser("replay", help="play a scenario onto a cluster (kwok-style)")
    replay.add_argument("scenario", type=Path)
    replay.add_argument("--kubeconfig", type=Path, required=True, help="the cluster to drive")
    replay.add_argument(
        "--speed",
        type=bounded("virtual seconds per wall second", 0, 100_000),
        help="virtual seconds per wall second (default: 0, no waiting; on a cluster running its "
        "own controllers, the scenario's speed)",
    )
    replay.add_argument("--until", help="stop at this virtual time (default: the scenario end)")
    add_control_plane_command(sub)
    replay.add_argument(
        "--controllers",
        choices=("auto", "cluster", "world"),
        default="auto",
        help="who runs Deployments, StatefulSets and Jobs: the cluster's kube-controller-manager "
        "(the world plays only the node) or the world; auto: the cluster when its "
        "kube-controller-manager holds its leader Lease",
    )


def run_command(args: argparse.Namespace) -> int:
    """Run `record` or `replay`; returns the exit code."""
    if args.command == "control-plane":
        return run_control_plane(args)
    # SIGTERM as Ctrl-C: a recording is written either way, a replay's world stopped, and the
    # client's copies of the kubeconfig's CA and key removed at exit (not left by a kill).
    stop_on_signals()
    try:
        if args.command == "record":
            return _record(args)
        return _replay(args)
    except KeyboardInterrupt:
        print(f"appliance-sim {args.command}: interrupted", file=sys.stderr)
        return 130
    except SimulatorError as exc:
        print(f"appliance-sim {args.command}: {exc.one_line()}", file=sys.stderr)
        return exc.exit_code
    except ValueError as exc:  # a flag value (--duration, --until) that does not parse
        print(f"appliance-sim {args.command}: {exc}", file=sys.stderr)
        return 2


def _record(args: argparse.Namespace) -> int:
    client = KubeClient(args.kubeconfig)
    namespaces = [n for n in args.namespaces.split(",") if n]
    duration = parse_duration(args.duration) if args.duration else None
    idle = parse_duration(args.until_idle) if args.until_idle else None
    name = args.name or args.out.stem
    print(f"recording {client.server} into {args.out} (Ctrl-C to stop)", flush=True)

    def progress(count: int) -> None:
        print(f"  {count} changes", flush=True)

    doc = run_recording(
        client,
        name=name,
        duration=duration,
        until_idle=idle,
        namespaces=namespaces,
        on_change=progress,
    )
    text = yaml.safe_dump(doc, sort_keys=False)
    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
    except OSError as exc:
        # The recording is not lost: it goes where it can, and the line says where.
        kept = Path(tempfile.mkstemp(prefix=f"{args.out.stem}-", suffix=".yaml")[1])
        kept.write_text(text, encoding="utf-8")
        raise SimulatorError(
            f"cannot write {args.out} ({exc.strerror or exc}); the recording is in {kept}"
        ) from None
    print(
        f"wrote {args.out}: {len(doc['objects'])} objects at the start, {len(doc['events'])} "
        f"actions over {format_elapsed(float(doc['duration']))}; replay it with "
        f"`appliance-sim run {args.out}`"
    )
    return 0


def _replay(args: argparse.Namespace) -> int:
    from simulator.controlplane.replaying import (
        cluster_runs_controllers,
        replay_onto_control_plane,
    )
    from simulator.replay.remote import replay_onto_cluster

    until = parse_duration(args.until) if args.until else None
    controllers = args.controllers
    if controllers == "auto":
        controllers = "cluster" if cluster_runs_controllers(args.kubeconfig) else "world"
    if controllers == "cluster":
        result = replay_onto_control_plane(
            args.scenario, kubeconfig=args.kubeconfig, speed=args.speed, until=until
        )
    else:
        result = replay_onto_cluster(
            args.scenario, kubeconfig=args.kubeconfig, speed=args.speed or 0.0, until=until
        )
    for line in result.world.timeline.lines():
        print(line)
    print(
        f"replayed {format_elapsed(result.virtual_seconds)} of {args.scenario} onto the cluster "
        f"in {result.wall_seconds:.1f}s wall"
        + (f"; {len(result.errors)} errors: {result.errors[0]}" if result.errors else "")
    )
    return 1 if result.errors else 0
