"""Every benchmark still runs and reports comparable rows (no timing is asserted here).

Timings belong to `bench/run`; this only keeps the bench code from rotting between the runs
that produce the figures in the issues' closing notes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_bench_runs_quick_and_prints_one_table() -> None:
    """`bench/run --quick` exits 0 and prints a row per bench with a baseline and a ratio."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run"), "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["bench", "name", "value", "baseline", "ratio", "goal"]
    benches = {line.split()[0] for line in lines[2:] if line.strip()}
    assert benches == {
        "status_engine",
        "fake_api",
        "replay",
        "demo",
        "suite",
        "status_web",
        "control_plane",
    }
