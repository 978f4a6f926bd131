"""Ctrl-C that always ends the command, even when CPython drops its KeyboardInterrupt.

Python's own SIGINT handler raises KeyboardInterrupt wherever the main thread happens to be.
If that is inside an I/O object's finalizer (an HTTP response being collected runs its
`close()` in `IOBase.__del__`, which clears any error it raises), the exception is silently
lost and the command runs on as if Ctrl-C had never been pressed. A command that talks HTTP
in a loop (every API call, every clock wait) hits that window now and then: a bootstrap once
ran to the end after the admin's Ctrl-C.

So while a command runs (`redelivered()`), SIGINT's handler raises as Python's does and also
remembers the interrupt; until the command says it has handled it (`handled()`), the signal is
delivered to the main thread again every `REDELIVER_SECONDS`, which also wakes a main thread
blocked in a system call.

SIGTERM (`kill`, `timeout`, a service manager's stop, the simulator ending a run) is the same
interrupt. Left to Python's default it ends the process on the spot: no `except`, no `finally`,
no atexit, so no "interrupted" line or next action, and the official client's temporary copies of
the kubeconfig's CA, client certificate and client key stay in the temporary folder.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

__all__ = ["REDELIVER_SECONDS", "handled", "redelivered"]

# Wall seconds between deliveries of an interrupt not yet handled: long enough for most
# `finally` blocks between the raise and the handler to run undisturbed (one cut short still
# ends in the same handler), short enough that a lost Ctrl-C still ends the command promptly.
REDELIVER_SECONDS = 2.0


class _Delivery:
    """The interrupt being delivered: its event is set once the command has handled it. Only
    the main thread (the signal handler, `handled()`) replaces or sets it, so it needs no lock,
    which a signal handler could not take safely anyway."""

    pending: threading.Event | None = None


_delivery = _Delivery()


@contextlib.contextmanager
def redelivered() -> Iterator[None]:
    """Around a command's run: SIGINT and SIGTERM raise KeyboardInterrupt as Python's SIGINT
    handler does, and each is delivered again until handled. The handlers before are back
    afterwards. Outside the main thread nothing changes; nor does a signal that is not at its
    default (ignored since the process started, as `nohup` starts it, or a caller's own)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    defaults = {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: signal.SIG_DFL}
    taken = {s: d for s, d in defaults.items() if signal.getsignal(s) is d}
    for signum in taken:
        signal.signal(signum, _on_interrupt)
    try:
        yield
    finally:
        handled()
        for signum, default in taken.items():
            signal.signal(signum, default)


def handled() -> None:
    """The command caught its KeyboardInterrupt: stop delivering it again. Call it first thing
    in the `except KeyboardInterrupt` block."""
    if _delivery.pending is not None:
        _delivery.pending.set()


def _on_interrupt(signum: int, frame: FrameType | None) -> None:
    pending = _delivery.pending
    if pending is None or pending.is_set():
        pending = _delivery.pending = threading.Event()
        threading.Thread(
            target=_redeliver,
            args=(pending, threading.main_thread().ident, signum),
            name="redeliver-interrupt",
            daemon=True,
        ).start()
    raise KeyboardInterrupt


def _redeliver(pending: threading.Event, main_thread: int | None, signum: int) -> None:
    """Send `signum` (the one received: the other may be ignored) until the interrupt is handled."""
    while main_thread is not None and not pending.wait(REDELIVER_SECONDS):
        try:
            signal.pthread_kill(main_thread, signum)
        except OSError:  # the main thread is gone: the process is ending anyway
            return
