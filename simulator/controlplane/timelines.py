"""One scenario's bootstrap on either backend, and the shape of its rollup timeline.

`bootstrap_on(scenario, backend)` runs the README's main job (the scenario's bootstrapper
invocations, the status service as a process) on the fake API or on a fresh control plane, at the
same speed on both (the control plane's, `SPEED`) so that the status service and the poller see
both worlds at the same rate, and returns the rollup timeline. `timeline_shape` is what the two
backends must agree on: the sequence of rollup states with the layer of the top blocker (not its
wording, which names whichever of two equal blockers came first), each change once.

A status service reports from when it first answers, and that moment is not the same on both:
its process boots in wall seconds, and the control plane's Flux clones and applies in wall
seconds too (at 30x, a 3s clone is 90s of the install), so it may answer before or after the
Postgres claim was made. `shapes_agree` therefore compares from where the later observer came
in: its shape must be the end of the other's.
"""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from simulator.bootstrapping import SETTLED_STATES, BootstrapSession, RollupLine
from simulator.controlplane.bootstrap import SPEED, served_on_control_plane
from simulator.world.scenario import load_scenario
from simulator.world.served import ServedWorld

__all__ = ["Backend", "BootstrapRun", "bootstrap_on", "shapes_agree", "timeline_shape"]

Backend = Literal["fake-api", "control-plane"]


@dataclass(frozen=True)
class BootstrapRun:
    """What one run left: the last exit code, the bootstrapper's output, the rollup changes."""

    backend: Backend
    code: int
    output: tuple[str, ...]
    lines: tuple[RollupLine, ...]
    # What `inspect` read from the world before it stopped.
    inspected: Any = None

    @property
    def shape(self) -> list[tuple[str, str]]:
        return timeline_shape(self.lines)


def timeline_shape(lines: Sequence[RollupLine]) -> list[tuple[str, str]]:
    """(state, top blocker layer) at each change of either, in order."""
    shape: list[tuple[str, str]] = []
    for line in lines:
        step = (line.state, line.blocker.split(":", 1)[0].strip())
        if not shape or shape[-1] != step:
            shape.append(step)
    return shape


def shapes_agree(first: Sequence[tuple[str, str]], second: Sequence[tuple[str, str]]) -> bool:
    """Whether one shape is the other's from some step on (see the module docstring)."""
    longer, shorter = (list(first), list(second))
    if len(shorter) > len(longer):
        longer, shorter = shorter, longer
    return bool(shorter) and longer[len(longer) - len(shorter) :] == shorter


def _branch(repository: Path) -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--abbrev-ref", "HEAD"],
        cwd=repository,
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    return done.stdout.strip()


@contextlib.contextmanager
def _world(
    scenario: Path, backend: Backend, repository: Path, speed: float, warp: bool
) -> Iterator[tuple[ServedWorld, str]]:
    if backend == "control-plane":
        with served_on_control_plane(scenario, speed=speed, repository=repository) as served:
            yield served
        return
    loaded = load_scenario(scenario)
    world = ServedWorld(
        loaded,
        speed=speed,
        skip_actors=loaded.bootstrap.skip_actors,
        base_dir=scenario.resolve().parent,
        warp=warp,
    )
    world.start()
    try:
        yield world, str(repository)
    finally:
        world.stop()


def bootstrap_on(
    scenario: Path,
    backend: Backend,
    *,
    repository: Path,
    speed: float = SPEED,
    warp: bool = False,
    inspect: Callable[[ServedWorld], Any] | None = None,
) -> BootstrapRun:
    """Run `scenario`'s bootstrap on `backend` until the rollup settles (or 1.5x its end: the
    real components' wall-time steps stretch a run in virtual time); `inspect` reads what it
    wants from the world before it stops. `warp` (the fake API only: a real control plane's
    clock cannot jump) lets the clock jump whenever every process waits, instead of `speed`."""
    if warp and backend == "control-plane":
        raise ValueError("a control plane's clock cannot be warped")
    loaded = load_scenario(scenario)
    output: list[str] = []
    with (
        _world(scenario, backend, repository, speed, warp) as (world, repo_url),
        tempfile.TemporaryDirectory(prefix="appliance-sim-site-") as config_dir,
    ):
        session = BootstrapSession(
            world,
            config_dir=Path(config_dir),
            bin_dir=world.bin_dir,
            fields={"repo_url": repo_url, "branch": _branch(repository)},
            echo=output.append,
        )
        code = session.run(until_state=SETTLED_STATES, until_seconds=loaded.end * 1.5)
        inspected = inspect(world) if inspect is not None else None
    return BootstrapRun(backend, code, tuple(output), tuple(session.poller.lines), inspected)
