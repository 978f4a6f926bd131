#!/usr/bin/env python3
"""Bench (a): replay utm-rc5-observed end to end and report virtual seconds per wall second.

Goal (issue 3): the whole > 60-minute observed timeline in < 10 s wall, i.e. > 360x. The baseline
row is the same replay's fixed goal rate (360 virtual seconds per wall second); the ratio says
how many times faster than the goal the replay ran on this machine.

    .venv/bin/python bench/replay.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from simulator.world.engine import World  # noqa: E402

GOAL_RATE = 360.0


def _replay(name: str) -> tuple[float, float, int]:
    world = World.from_scenario(ROOT / "scenarios" / f"{name}.yaml")
    end = world.scenario.end
    started = time.perf_counter()
    world.start()
    world.run_until(end)
    wall = time.perf_counter() - started
    if world.scheduler.errors:
        raise RuntimeError(f"{name}: replay raised {world.scheduler.errors[0]!r}")
    return end, wall, len(world.timeline.entries)


def run(quick: bool) -> list[dict[str, object]]:
    """Rows {name, value, baseline, ratio, goal} for bench/run."""
    rows: list[dict[str, object]] = []
    names = ["utm-rc5-observed"] if quick else ["utm-rc5-observed", "happy-path"]
    for name in names:
        virtual, wall, events = _replay(name)
        rate = virtual / max(wall, 1e-9)
        rows.append(
            {
                "name": f"replay {name} ({virtual / 60:.0f} virtual min, {events} events): "
                f"virtual s per wall s",
                "value": rate,
                "baseline": GOAL_RATE,
                "ratio": rate / GOAL_RATE,
                "goal": ">= 1 (whole timeline < 10 s wall)",
            }
        )
        rows.append(
            {
                "name": f"replay {name}: wall seconds for the whole timeline",
                "value": wall,
                "baseline": 10.0,
                "ratio": wall / 10.0,
                "goal": "< 1",
            }
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    for row in run(args.quick):
        print(
            f"{row['name']:<90} value={row['value']:.3g} baseline={row['baseline']} "
            f"ratio={row['ratio']:.3g} goal {row['goal']}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
