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


def _quick(
    python: list[str], bench: str, *, run: Path = BENCH_RUN, timeout: float = 400
) -> subprocess.CompletedProcess[str]:
    """`PYTHON bench/run --quick --only BENCH` from the project's root, its output captured."""
    return subprocess.run(
        [*python, str(run), "--quick", "--only", bench],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.mark.parametrize("bench", BENCHES)
def test_every_bench_runs_quick_and_prints_one_table(bench: str) -> None:
    """`bench/run --quick --only BENCH` exits 0 and prints its rows with a baseline and a
    ratio, under the table's header."""
    done = _quick([sys.executable], bench)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["bench", "name", "value", "baseline", "ratio", "goal"]
    rows = [line for line in lines[2:] if line.strip()]
    assert rows
    assert {line.split()[0] for line in rows} == {bench}


def _base_python() -> Path:
    """The Python the tests' virtual environment was made from (it does not have the project
    installed), or skip."""
    if Path(sys.prefix) == Path(sys.base_prefix):
        pytest.skip("the tests do not run in a virtual environment: no other Python to start from")
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for name in ("python3", version):
        python = Path(sys.base_prefix) / "bin" / name
        if python.exists():
            return python
    pytest.skip(f"no python3 or {version} in {sys.base_prefix}/bin")


def test_bench_run_started_by_another_python_runs_under_the_project_venv() -> None:
    """`bench/run` as the docs write it (whichever `python3` is first on PATH) goes on under
    `.venv`, instead of failing in every bench on the first import."""
    done = _quick([str(_base_python())], "replay", timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    assert done.stdout.splitlines()[0].split()[:2] == ["bench", "name"]


def test_bench_run_without_the_project_or_a_venv_says_what_to_run(tmp_path: Path) -> None:
    """No project in this Python and no `.venv` beside the benches: one line and exit 2."""
    copied = tmp_path / "bench" / "run"
    copied.parent.mkdir()
    copied.write_bytes(BENCH_RUN.read_bytes())
    # -S: no site-packages, so not even a Python that has the project installed finds it.
    done = _quick([str(_base_python()), "-S"], "replay", run=copied, timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert "run ./tasks demo once" in done.stderr


def test_bench_run_with_a_venv_that_lacks_the_project_says_so_once(tmp_path: Path) -> None:
    """A `.venv` without the project (an install that failed): one line and exit 2, not a
    re-run of itself in that venv, again and again."""
    copied = tmp_path / "bench" / "run"
    copied.parent.mkdir()
    copied.write_bytes(BENCH_RUN.read_bytes())
    base = str(_base_python())
    subprocess.run([base, "-m", "venv", "--without-pip", str(tmp_path / ".venv")], check=True)
    done = _quick([base, "-S"], "replay", run=copied, timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert "does not have the project installed; run ./tasks demo once" in done.stderr
