"""How the simulator stops: on Ctrl-C or SIGTERM alike, and never leaving a child behind.

Every long-running command (a served world, the control plane) turns both signals into one
KeyboardInterrupt, so the same `finally` cleans up; every child runs in its own process group,
which `terminate_group` ends (SIGTERM, then SIGKILL if it lingers).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess

__all__ = ["stop_on_signals", "terminate_group"]


def stop_on_signals() -> None:
    """Ctrl-C and SIGTERM both raise KeyboardInterrupt (its handlers stop what we started)."""

    def interrupt(_signum: int, _frame: object) -> None:
        # Once is enough: a second signal must not interrupt the cleanup the first one started.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)


def terminate_group(process: subprocess.Popen[bytes], *, grace: float = 5.0) -> None:
    """End a child started with `start_new_session=True` and everything it started."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=grace)
