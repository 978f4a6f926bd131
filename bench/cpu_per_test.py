"""A pytest plugin for the suite bench: each test's CPU seconds, by the process that ran it.

CPU of the pytest process (its worker) and of every child process it reaped while the test ran
(the worlds' processes, a control plane stopped in the test's teardown), written per worker as
JSON lines into $BENCH_CPU_DIR. A child reaped outside any test (a plane shared by a lane, stopped
at the session's end) counts for none: the bench reports it apart, as unattributed.
"""

from __future__ import annotations

import json
import os
import resource
from collections.abc import Iterator
from pathlib import Path

import pytest


def _cpu() -> float:
    mine, reaped = (
        resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return mine.ru_utime + mine.ru_stime + reaped.ru_utime + reaped.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    before = _cpu()
    yield
    folder = os.environ.get("BENCH_CPU_DIR")
    if folder:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        line = json.dumps({"nodeid": item.nodeid, "cpu": _cpu() - before})
        with (Path(folder) / f"{worker}.jsonl").open("a", encoding="utf-8") as out:
            out.write(line + "\n")
