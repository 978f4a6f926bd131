"""A stop the simulator's commands get is never lost (simulator/lifecycle.py).

CPython clears any exception an I/O object's `close()` raises while its finalizer runs, so the
KeyboardInterrupt a SIGTERM or Ctrl-C handler raises there is dropped, and the signals are
ignored once the first came. Each case runs a main loop in its own process, with the signal
landing inside such a finalizer every time.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest

from tests.tools import ctrl_c_as_in_a_terminal

SCRIPT = textwrap.dedent(
    """
    import io, os, sys, time
    from simulator.lifecycle import raise_if_stopped, stop_on_signals

    class Response(io.RawIOBase):
        # As http.client's responses: IOBase's finalizer calls close().
        def close(self):
            os.kill(os.getpid(), int(sys.argv[2]))  # the signal lands while the finalizer runs
            for _ in range(1000):  # bytecode: the handler runs here, inside the finalizer
                pass
            super().close()

    stop_on_signals()
    checked = sys.argv[1] == "checked"
    try:
        Response()  # made and collected at once
        for _ in range(10):  # a main loop's turns
            if checked:
                raise_if_stopped()
            time.sleep(0.05)
        print("ran on")
    except KeyboardInterrupt:
        print("stopped")
    """
)


def run(mode: str, signum: int) -> str:
    with ctrl_c_as_in_a_terminal():
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT, mode, str(int(signum))],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_a_stop_dropped_in_a_finalizer_is_raised_by_the_next_turn_of_the_loop(
    signum: signal.Signals,
) -> None:
    assert run("unchecked", signum) == "ran on"  # the premise: CPython dropped it
    assert run("checked", signum) == "stopped"
