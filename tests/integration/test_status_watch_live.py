"""`appliance status --watch` against a served world: a document per change, Ctrl-C ends it.

The world's clock is frozen and stepped by the test, so "no change" really is none.
"""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from simulator.world.served import ServedWorld
from tests.integration.served_world import served_observed
from tests.tools import ctrl_c_as_in_a_terminal

APPLIANCE = Path(sys.executable).parent / "appliance"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[ServedWorld, Path]]:
    with served_observed(tmp_path) as served:
        yield served


class _Documents:
    """JSON documents as the watch prints them, read on a thread so the test can wait on them."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.found: queue.Queue[dict[str, Any]] = queue.Queue()
        self._process = process
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self._process.stdout is not None
        decoder = json.JSONDecoder()
        pending = ""
        for line in self._process.stdout:
            pending += line
            try:
                document, _ = decoder.raw_decode(pending.strip())
            except ValueError:
                continue
            self.found.put(document)
            pending = ""

    def next(self, timeout: float) -> dict[str, Any] | None:
        try:
            return self.found.get(timeout=timeout)
        except queue.Empty:
            return None


def test_watch_prints_a_document_per_change_and_ends_on_ctrl_c(
    world: tuple[ServedWorld, Path],
) -> None:
    """One JSON document, silence while nothing changes, a new one when the world moves on."""
    served, kubeconfig = world
    served.run_until(20 * 60)  # the Postgres subPath failure (finding-07)
    with ctrl_c_as_in_a_terminal():
        process = subprocess.Popen(
            [
                *(str(APPLIANCE), "status", "--watch", "-o", "json", "--interval", "0.5"),
                *("--kubeconfig", str(kubeconfig), "--no-seed-check"),
                *("--app-url", str(served.app_url)),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    try:
        documents = _Documents(process)
        first = documents.next(timeout=60)
        assert first is not None, "the watch printed nothing"
        assert first["rollup"]["state"] == "failed_action_required"
        assert documents.next(timeout=3) is None  # frozen world: nothing to print
        served.run_until(85 * 60)  # the install has settled
        # The watch printed a document per change it read while the world moved (how many
        # depends on how often it read meanwhile), then nothing: the last one is the end state.
        states = []
        wait = 60.0  # the first may take a while on a loaded machine
        while (later := documents.next(timeout=wait)) is not None:
            states.append(later["rollup"]["state"])
            wait = 5.0  # ten reads in a row without a change: settled
        assert states[-1:] == ["ready_with_background_issues"], states
        time.sleep(0.5)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
        assert process.returncode == 130
        assert "interrupted" in err
        assert "Traceback" not in err
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
