"""Bench: the test suite's wall time, warped worlds against the old fixed speed.

Full size: `pytest tests` as `./tasks test` runs it (the BDD worlds and the end-to-end worlds
warped) against the BDD world features alone at the old fixed speed (`--fixed-speed`), both in
this run. Goal (issue 15): the whole suite under 3 minutes. Quick: one BDD world scenario both
ways (a smoke run of the bench).

    bench/run --only suite [--quick]
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
QUICK = ["tests/bdd/test_host.py", "-k", "without_explicit_dns_servers_the_observed_install"]
# The workers and scheduling `./tasks test` gives pytest (its control plane lanes need loadgroup).
WORKERS = os.environ.get("APPLIANCE_TEST_WORKERS", "4")
AS_TASKS_RUNS_IT = ["-n", WORKERS, "--dist", "loadgroup"] if WORKERS != "0" else []


def _pytest(*args: str) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system of pytest and every process it waited for:
    its workers, the worlds' real processes, the control planes) of one pytest run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [*PYTEST, *args], cwd=ROOT, capture_output=True, text=True, timeout=3600, check=False
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"pytest {' '.join(args)} failed:\n{done.stdout[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def run(quick: bool) -> list[dict[str, object]]:
    """Rows {name, value, baseline, ratio, goal} for bench/run."""
    if quick:
        (warped, _), (fixed, _) = _pytest(*QUICK), _pytest(*QUICK, "--fixed-speed")
        return [
            {
                "name": "one BDD world scenario: wall s warped, against --fixed-speed",
                "value": warped,
                "baseline": fixed,
                "ratio": warped / fixed,
                "goal": "<= 1",
            }
        ]
    suite, cpu = _pytest("tests", *AS_TASKS_RUNS_IT)
    fixed_worlds, _ = _pytest("tests/bdd", "--fixed-speed", *AS_TASKS_RUNS_IT)
    cores = os.cpu_count() or 1
    return [
        {
            "name": "pytest tests (worlds warped): wall s, against 180 s",
            "value": suite,
            "baseline": 180.0,
            "ratio": suite / 180.0,
            "goal": "< 1 (under 3 minutes)",
        },
        {
            "name": (
                f"pytest tests: CPU s of all its processes, against {cores} cores for 3 minutes "
                f"({cores} x 180 s)"
            ),
            "value": cpu,
            "baseline": 180.0 * cores,
            "ratio": cpu / (180.0 * cores),
            "goal": "< 1 is needed for 3 minutes",
        },
        {
            "name": "pytest tests (worlds warped): wall s, against tests/bdd at --fixed-speed",
            "value": suite,
            "baseline": fixed_worlds,
            "ratio": suite / fixed_worlds,
            "goal": "reference",
        },
    ]
