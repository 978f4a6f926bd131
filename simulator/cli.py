"""`appliance-sim`: run or serve a scenario.

    appliance-sim run SCENARIO [--speed N] [--kubeconfig-out PATH] [--until TIME|STATE]
                      [--bootstrap]
    appliance-sim serve SCENARIO [--speed N] [--kubeconfig-out PATH]
    appliance-sim check SCENARIO...
    appliance-sim record --kubeconfig PATH --out FILE [--duration 90m|--until-idle 30s]
    appliance-sim replay SCENARIO --kubeconfig PATH [--speed N]
    appliance-sim control-plane --kubeconfig-out PATH
    appliance-sim fidelity --kubeconfig PATH [--corpus FILE] [--record FILE] [--helm PATH]

`run` without `--speed` or `--bootstrap` replays the scripted timeline as fast as correctness
allows (the frozen clock jumps from one due callback to the next) and prints it. With `--speed`
the world is served (fake API, registry, app endpoint) and runs at that many virtual seconds per
wall second. `--bootstrap` runs the scenario's bootstrapper invocations against the served world
and prints the status service's rollup timeline; time is warped (the clock jumps whenever every
real process waits: simulator/warp.py) unless `--speed` asks for a fixed speed.
Every run ends with the virtual time it covered, the wall time it took and their ratio.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from simulator.bootstrapping import SETTLED_STATES, BootstrapSession
from simulator.command_line import (
    OneLineParser,
    add_completion_command,
    add_version_everywhere,
    bounded,
    complete,
    completion_script,
    exit_codes_help,
    output_file,
)
from simulator.errors import SimulatorError
from simulator.fidelity.command import add_fidelity_command, run_fidelity_command
from simulator.lifecycle import raise_if_stopped as _raise_if_stopped
from simulator.lifecycle import stop_on_signals as _stop_on_signals
from simulator.replay.commands import COMMANDS, add_commands, run_command
from simulator.world.durations import parse_duration
from simulator.world.engine import World
from simulator.world.scenario import Scenario, load_scenario
from simulator.world.served import ServedWorld
from simulator.world.timeline import format_duration, format_elapsed

__all__ = ["bootstrap_stop", "main"]

_SCENARIO_HELP = "a scenario file, e.g. scenarios/utm-rc5-observed.yaml (see docs/scenarios.md)"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `appliance-sim`."""
    parser: argparse.ArgumentParser = OneLineParser(
        prog="appliance-sim", description=__doc__.split("\n\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="replay a scenario and print its timeline")
    run.add_argument("scenario", type=Path, help=_SCENARIO_HELP)
    run.add_argument(
        "--speed",
        type=bounded("virtual seconds per wall second", 0.001, 100_000),
        help="a fixed speed: virtual seconds per wall second (serves the world; with "
        "--bootstrap, instead of warping time)",
    )
    run.add_argument(
        "--kubeconfig-out", type=output_file, help="write the fake API's kubeconfig here"
    )
    run.add_argument("--until", help="stop at a virtual time (90m) or a status rollup state")
    run.add_argument(
        "--bootstrap", action="store_true", help="run the real bootstrapper against it"
    )
    run.add_argument(
        "--repo-url", default="", help="{repo_url} in bootstrap argv (default: this git repo)"
    )
    run.add_argument(
        "--branch", default="", help="{branch} in bootstrap argv (default: the current branch)"
    )
    run.add_argument(
        "--config-dir", type=Path, help="{config_dir} (default: a temporary directory)"
    )
    run.add_argument(
        "--backend",
        choices=("fake-api", "control-plane"),
        default="fake-api",
        help="with --bootstrap: the simulator's fake API, or a real control plane on loopback "
        "(kube-apiserver, kube-controller-manager, real Flux; built from Go modules when missing)",
    )
    run.add_argument(
        "--keep-serving",
        action="store_true",
        help="after --bootstrap, keep the world up (status UI, kubectl) until Ctrl-C",
    )
    check = sub.add_parser("check", help="validate scenario files without running them")
    check.add_argument("scenarios", type=Path, nargs="+", help="scenario files to validate")
    serve = sub.add_parser(
        "serve",
        help="serve a scenario's world for manual kubectl",
        description="Serve a scenario's world (the fake API and its simulated node) until "
        "Ctrl-C, printing its timeline as it goes; point kubectl at the kubeconfig it prints.",
        epilog=exit_codes_help(
            {
                0: "stopped by Ctrl-C or SIGTERM (its way to end); the world is stopped",
                2: "bad input: a scenario file or a flag (one line says which)",
            }
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("scenario", type=Path, help=_SCENARIO_HELP)
    serve.add_argument(
        "--speed",
        type=bounded("virtual seconds per wall second", 0.001, 100_000),
        help="virtual seconds per wall second (default: the scenario's speed)",
    )
    serve.add_argument(
        "--kubeconfig-out",
        type=output_file,
        help="write the fake API's kubeconfig here (default: a file in a temporary directory)",
    )
    add_commands(sub)  # record, replay --kubeconfig: real clusters
    add_fidelity_command(sub)  # the fake API against a real control plane
    add_completion_command(sub, "appliance-sim")
    add_version_everywhere(parser, "appliance-sim")
    complete(parser)
    args = parser.parse_args(argv)
    elsewhere = {"fidelity": run_fidelity_command, **dict.fromkeys(COMMANDS, run_command)}
    if args.command in elsewhere:
        return elsewhere[args.command](args)
    if args.command in ("check", "completion"):
        return _check(args.scenarios) if args.command == "check" else _completion(args.shell)
    try:
        scenario = load_scenario(args.scenario)
        if args.command == "serve":
            return _serve(args, scenario.speed if args.speed is None else args.speed)
        return _run(args)
    except SimulatorError as exc:
        print(f"appliance-sim: {exc.one_line()}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        # The world (and every process it started) was stopped on the way out.
        print("appliance-sim: interrupted; the simulated world is stopped", file=sys.stderr)
        return 130


def _check(paths: Sequence[Path]) -> int:
    """Load each scenario: `FILE: ok (...)` on stdout, or its error as one line on stderr."""
    failed = False
    for path in paths:
        try:
            scenario = load_scenario(path)
        except SimulatorError as exc:
            print(f"appliance-sim: {exc.one_line()}", file=sys.stderr)
            failed = True
            continue
        print(
            f"{path}: ok ({len(scenario.objects)} objects, {len(scenario.events)} actions, "
            f"{len(scenario.stages)} stages)"
        )
    return 2 if failed else 0


def _completion(shell: str) -> int:
    print(completion_script("appliance-sim", shell), end="")
    return 0


def _run(args: argparse.Namespace) -> int:
    until_seconds, until_state = _until(args.until)
    if until_state is not None and not args.bootstrap:
        print(
            f"appliance-sim: --until {until_state!r} is not a duration; a rollup state needs the "
            "status service, so add --bootstrap (or give a virtual time such as 90m)",
            file=sys.stderr,
        )
        return 2
    if args.bootstrap:
        return _bootstrap(args, until_seconds, until_state)
    if args.backend != "fake-api":
        print(
            "appliance-sim: --backend control-plane runs with --bootstrap; to replay a scenario "
            "onto a control plane, start one (appliance-sim control-plane) and use "
            "appliance-sim replay SCENARIO --kubeconfig FILE",
            file=sys.stderr,
        )
        return 2
    if args.speed is None and args.kubeconfig_out is None:
        return _replay(args.scenario, until_seconds)
    return _run_served(args, until_seconds)


def _git(*args: str) -> str:
    """A git answer about the working directory's repository ('' outside one)."""
    import subprocess

    done = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
    return done.stdout.strip() if done.returncode == 0 else ""


def _until(value: str | None) -> tuple[float | None, str | None]:
    if value is None:
        return None, None
    try:
        return parse_duration(value), None
    except ValueError:
        return None, value


def _replay(path: Path, until: float | None) -> int:
    world = World.from_scenario(path)
    end = until if until is not None else world.scenario.end
    started = time.perf_counter()
    world.start()
    world.run_until(end)
    wall = time.perf_counter() - started
    for line in _lines(world):
        print(line)
    print(
        f"replayed {format_elapsed(end)} of virtual time in {wall:.2f}s wall "
        f"({end / max(wall, 1e-9):.0f}x); app ready at "
        + (format_elapsed(world.app_ready_at) if world.app_ready_at is not None else "never")
    )
    return 1 if world.scheduler.errors else 0


def _lines(world: World, since: int = 0) -> list[str]:
    """Timeline lines: scripted notes and Events, in virtual-time order."""
    notes = [
        (at, f"{format_elapsed(at):>10}  NOTE    {action.note}")
        for at, action in world.actions_run
        if action.action == "note"
    ]
    events = [
        (e.at, line) for e, line in zip(world.timeline.entries, world.timeline.lines(), strict=True)
    ]
    merged = sorted(notes + events, key=lambda item: item[0])
    return [line for _, line in merged][since:]


def _announce(world: ServedWorld) -> None:
    print(f"API:        {world.api_url}")
    print(f"kubeconfig: {world.kubeconfig_path}")
    print(f"registry:   {world.registry_url}")
    print(f"node:       {world.node_ip}  (app {world.app_url}, status http://{world.node_ip}:8080)")
    if world.warped:
        print("speed:      warped (the clock jumps whenever every process waits)")
    else:
        print(f"speed:      {world.clock.speed:g} virtual seconds per wall second")
    sys.stdout.flush()


def _serve(args: argparse.Namespace, speed: float) -> int:
    world = _served_world(args.scenario, speed=speed, skip=())
    world.start(kubeconfig_out=args.kubeconfig_out)
    _announce(world)
    _stop_on_signals()
    printed = 0
    try:
        while True:
            time.sleep(0.5)
            _raise_if_stopped()
            lines = _lines(world)
            for line in lines[printed:]:
                print(line)
            printed = len(lines)
            sys.stdout.flush()
    except KeyboardInterrupt:
        print("appliance-sim serve: stopped; the simulated world is stopped", file=sys.stderr)
        return 0
    finally:
        world.stop()


def _served_world(
    path: Path,
    *,
    speed: float,
    skip: Sequence[str],
    warp: bool = False,
    scenario: Scenario | None = None,
) -> ServedWorld:
    """A world serving `path`'s scenario (`scenario`: already loaded from it, not read again)."""
    return ServedWorld(
        scenario or load_scenario(path),
        speed=speed,
        skip_actors=skip,
        base_dir=path.resolve().parent,
        warp=warp,
    )


def _ratio_line(world: World, wall: float) -> str:
    """`ran +34m10s of virtual time in 8.2s wall (250x, warped: 412 jumps)`."""
    virtual = world.elapsed
    how = (
        f"warped: {world.warp.jumps} jumps"
        if isinstance(world, ServedWorld) and world.warp is not None
        else f"fixed speed {world.clock.speed:g}x"
    )
    return (
        f"ran {format_elapsed(virtual)} of virtual time in {wall:.1f}s wall "
        f"({virtual / max(wall, 1e-9):.0f}x, {how})"
    )


def _run_served(args: argparse.Namespace, until: float | None) -> int:
    scenario = load_scenario(args.scenario)
    world = _served_world(
        args.scenario, speed=args.speed or scenario.speed, skip=(), scenario=scenario
    )
    end = until if until is not None else scenario.end
    started = time.perf_counter()
    world.start(kubeconfig_out=args.kubeconfig_out)
    _announce(world)
    _stop_on_signals()
    printed = 0
    try:
        while world.elapsed < end:
            time.sleep(0.2)
            _raise_if_stopped()
            lines = _lines(world)
            for line in lines[printed:]:
                print(line)
            printed = len(lines)
            sys.stdout.flush()
        print(_ratio_line(world, time.perf_counter() - started))
    finally:
        world.stop()
    return 0


def _bootstrap(args: argparse.Namespace, until: float | None, state: str | None) -> int:
    scenario = load_scenario(args.scenario)
    # SIGTERM must stop the world (and so the status service process) as Ctrl-C does.
    _stop_on_signals()
    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        config_dir = args.config_dir or Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="appliance-sim-site-"))
        )
        repo_url = args.repo_url or _git("rev-parse", "--show-toplevel")
        if args.backend == "control-plane":
            from simulator.controlplane.bootstrap import served_on_control_plane

            # The real source-controller clones over http: this repository is served on loopback.
            # A real control plane cannot jump its clock: it runs at a fixed speed.
            world, served_url = stack.enter_context(
                served_on_control_plane(
                    args.scenario,
                    speed=args.speed,
                    repository=None if args.repo_url else Path(repo_url),
                    kubeconfig_out=args.kubeconfig_out,
                )
            )
            repo_url = args.repo_url or served_url
        else:
            world = _served_world(
                args.scenario,
                speed=args.speed or scenario.bootstrap.speed,
                skip=scenario.bootstrap.skip_actors,
                warp=args.speed is None,
                scenario=scenario,
            )
            stack.callback(world.stop)
            world.start(kubeconfig_out=args.kubeconfig_out)
        _announce(world)
        session = BootstrapSession(
            world,
            config_dir=config_dir,
            bin_dir=world.bin_dir,
            fields={
                "repo_url": repo_url,
                "branch": args.branch or _git("rev-parse", "--abbrev-ref", "HEAD"),
            },
        )
        stop_state, stop_seconds = bootstrap_stop(until, state, scenario_end=scenario.end)
        code = session.run(until_state=stop_state, until_seconds=stop_seconds)
        wall = time.perf_counter() - started
        _summary(world, session, keep_serving=args.keep_serving)
        print(_ratio_line(world, wall))
        sys.stdout.flush()
        if args.keep_serving:
            print("serving until Ctrl-C (kubectl with the kubeconfig above, the status UI...)")
            sys.stdout.flush()
            _wait_for_interrupt()
        return code


def bootstrap_stop(
    until: float | None, state: str | None, *, scenario_end: float
) -> tuple[str | frozenset[str] | None, float]:
    """When `run --bootstrap` stops: (rollup state(s) to stop at, virtual time to stop at).

    An explicit --until wins: a time keeps the world up until then, settled or not (a smoke test
    runs against it after the install settles); a state stops there. Without one, the run ends
    at the first settled state or at the scenario's end.
    """
    if until is not None:
        return None, until
    if state is not None:
        return state, scenario_end
    return SETTLED_STATES, scenario_end


def _wait_for_interrupt() -> None:
    _stop_on_signals()
    try:
        while True:
            time.sleep(1)
            _raise_if_stopped()
    except KeyboardInterrupt:
        return


def _summary(world: World, session: BootstrapSession, *, keep_serving: bool) -> None:
    """How the install went as the status service told it, and where its UI is (or was)."""
    print("rollup timeline (the status service's /api/status, virtual time):")
    for line in session.poller.lines:
        print(line.render())
    status_at = session.poller.first_answer_at
    app_at = world.app_ready_at
    if status_at is None:
        print("the status UI never answered")
    elif app_at is None:
        print(f"the status UI answered at {format_elapsed(status_at)}; the app URL never did")
    else:
        lead = app_at - status_at
        order = "before" if lead >= 0 else "after"
        print(
            f"the status UI answered at {format_elapsed(status_at)}, "
            f"{format_duration(abs(lead))} {order} the app URL "
            f"({format_elapsed(app_at)})"
        )
    link = session.poller.sign_in_link()
    if keep_serving:
        print(f"the world stays up until Ctrl-C; sign in to the status UI at {link}")
    else:
        # The world stops with this command; say how to keep it up rather than point at nothing.
        print(
            "the world stops now, and its status UI with it; add --keep-serving to keep it up "
            f"and sign in at {link}"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    raise SystemExit(main())
