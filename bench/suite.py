"""Bench: the test suite's wall time, warped worlds against the old fixed speed.

Full size: `pytest tests` as `./tasks test` runs it (the BDD worlds and the end-to-end worlds
warped) against the BDD world features alone at the old fixed speed (`--fixed-speed`), both in
this run. Goal (issue 15): the whole suite under 3 minutes. Its CPU is split by test
(bench/cpu_per_test.py): the tests that start a real control plane (tests/scheduling.py's lanes),
every other test, and what no test ran (collection, shared planes stopped at the end), so that
what a smaller suite would take can be read off. Quick: one BDD world scenario both ways (a
smoke run of the bench).

    bench/run --only suite [--quick]
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.scheduling import starts_a_control_plane  # noqa: E402 - after the root is importable

PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
QUICK = ["tests/bdd/test_host.py", "-k", "without_explicit_dns_servers_the_observed_install"]
# The workers and scheduling `./tasks test` gives pytest (its control plane lanes need loadgroup).
WORKERS = os.environ.get("APPLIANCE_TEST_WORKERS", "4")
AS_TASKS_RUNS_IT = ["-n", WORKERS, "--dist", "loadgroup"] if WORKERS != "0" else []


def _pytest(*args: str, cpu_dir: Path | None = None) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system of pytest and every process it waited for:
    its workers, the worlds' real processes, the control planes) of one pytest run; with
    `cpu_dir`, each test's CPU is written there too (bench/cpu_per_test.py)."""
    env, plugin = dict(os.environ), []
    if cpu_dir is not None:
        # The plugin is found from the root (pytest's and its workers' working directory); no
        # PYTHONPATH: the tests' own processes would inherit it (bench/run's modules would then
        # shadow the packages they are named after).
        env["BENCH_CPU_DIR"] = str(cpu_dir)
        plugin = ["-p", "bench.cpu_per_test"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [*PYTEST, *plugin, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
        env=env,
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
        with tempfile.TemporaryDirectory(prefix="bench-cpu-") as folder:
            warped, cpu = _pytest(*QUICK, cpu_dir=Path(folder))
            planes, rest = _cpu_by_kind(Path(folder))
        fixed, _ = _pytest(*QUICK, "--fixed-speed")
        return [
            {
                "name": "one BDD world scenario: wall s warped, against --fixed-speed",
                "value": warped,
                "baseline": fixed,
                "ratio": warped / fixed,
                "goal": "<= 1",
            },
            {
                "name": "one BDD world scenario: CPU s of its test, against all its CPU",
                "value": planes + rest,
                "baseline": cpu,
                "ratio": (planes + rest) / cpu,
                "goal": "reference",
            },
        ]
    with tempfile.TemporaryDirectory(prefix="bench-cpu-") as folder:
        suite, cpu = _pytest("tests", *AS_TASKS_RUNS_IT, cpu_dir=Path(folder))
        planes, rest = _cpu_by_kind(Path(folder))
        costliest, most = max(_cpu_by_module(Path(folder))[1].items(), key=lambda kv: kv[1])
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
            "name": "pytest tests: CPU s of the tests that start a real control plane, "
            "against all its CPU",
            "value": planes,
            "baseline": cpu,
            "ratio": planes / cpu,
            "goal": "reference",
        },
        {
            "name": f"pytest tests: CPU s of every other test, against {cores} x 180 s",
            "value": rest,
            "baseline": 180.0 * cores,
            "ratio": rest / (180.0 * cores),
            "goal": "reference (the rest alone)",
        },
        {
            "name": f"pytest tests: CPU s of the costliest other module ({costliest}), against "
            "every other test's",
            "value": most,
            "baseline": rest,
            "ratio": most / rest,
            "goal": "reference",
        },
        {
            "name": "pytest tests: CPU s in no test (collection, workers' start, planes shared "
            "by a lane), against all its CPU",
            "value": cpu - planes - rest,
            "baseline": cpu,
            "ratio": (cpu - planes - rest) / cpu,
            "goal": "reference",
        },
        {
            "name": "pytest tests (worlds warped): wall s, against tests/bdd at --fixed-speed",
            "value": suite,
            "baseline": fixed_worlds,
            "ratio": suite / fixed_worlds,
            "goal": "reference",
        },
    ]


def _cpu_by_kind(folder: Path) -> tuple[float, float]:
    """CPU seconds of the tests that start a control plane, and of all the others."""
    planes, others = _cpu_by_module(folder)
    return sum(planes.values()), sum(others.values())


def _cpu_by_module(folder: Path) -> tuple[dict[str, float], dict[str, float]]:
    """CPU seconds by test module: of the tests that start a control plane, of the others."""
    planes: dict[str, float] = {}
    others: dict[str, float] = {}
    for path in folder.glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            test = json.loads(line)
            kind = planes if starts_a_control_plane(test["nodeid"]) else others
            module = test["nodeid"].partition("::")[0]
            kind[module] = kind.get(module, 0.0) + test["cpu"]
    return planes, others
