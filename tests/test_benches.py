"""Every benchmark still runs and reports comparable rows (no timing is asserted here).

Timings belong to `bench/run`; this only keeps the bench code from rotting between the runs
that produce the figures in the issues' closing notes. Each bench is a case of its own
(`bench/run --quick --only NAME`), so the benches run side by side on the test workers; only
the control plane's runs in a control plane lane (tests/scheduling.py).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH_RUN = ROOT / "bench" / "run"
BENCHES = ("status_engine", "fake_api", "replay", "demo", "suite", "status_web", "control_plane")


def test_the_cases_are_every_bench_bench_run_runs() -> None:
    """The cases below are exactly `bench/run`'s benches, so together they cover its table."""
    loader = importlib.machinery.SourceFileLoader("bench_run", str(BENCH_RUN))
    spec = importlib.util.spec_from_loader("bench_run", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    assert set(module.MODULES) == set(BENCHES)


@pytest.mark.parametrize("bench", BENCHES)
def test_every_bench_runs_quick_and_prints_one_table(bench: str) -> None:
    """`bench/run --quick --only BENCH` exits 0 and prints its rows with a baseline and a
    ratio, under the table's header."""
    done = subprocess.run(
        [sys.executable, str(BENCH_RUN), "--quick", "--only", bench],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["bench", "name", "value", "baseline", "ratio", "goal"]
    rows = [line for line in lines[2:] if line.strip()]
    assert rows
    assert {line.split()[0] for line in rows} == {bench}
