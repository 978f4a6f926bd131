"""How the simulator stops: on Ctrl-C or SIGTERM alike, and never leaving a child behind.

Every long-running command (a served world, the control plane) turns both signals into one
KeyboardInterrupt, so the same `finally` cleans up; every child runs in its own process group,
which `terminate_group` ends (SIGTERM, then SIGKILL if it lingers).

CPython drops a KeyboardInterrupt raised while an I/O object's finalizer runs (an HTTP
response being collected): the stop would be lost, and the signals are ignored by then. So the
handler also records the stop, and each main loop calls `raise_if_stopped()` every turn.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading

__all__ = ["raise_if_stopped", "stop_on_signals", "terminate_group"]

# Set by the first SIGINT or SIGTERM; only the signal handler sets it, in the main thread.
_stopped = threading.Event()


def stop_on_signals() -> None:
    """Ctrl-C and SIGTERM both raise KeyboardInterrupt (its handlers stop what we started)."""

    def interrupt(_signum: int, _frame: object) -> None:
        # Once is enough: a second signal must not interrupt the cleanup the first one started.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _stopped.set()
        raise KeyboardInterrupt

    _stopped.clear()
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)


def raise_if_stopped() -> None:
    """Each turn of a main loop: a stop whose KeyboardInterrupt CPython dropped raises here."""
    if _stopped.is_set():
        raise KeyboardInterrupt


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
