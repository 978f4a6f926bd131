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
    """Around a command's run: SIGINT raises KeyboardInterrupt as Python's handler does, and is
    delivered again until handled. Python's handler is back afterwards. Outside the main thread,
    or when SIGINT is not Python's default (ignored since the process started, or a caller's
    own handler), nothing changes."""
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield
        return
    signal.signal(signal.SIGINT, _on_sigint)
    try:
        yield
    finally:
        handled()
        signal.signal(signal.SIGINT, signal.default_int_handler)


def handled() -> None:
    """The command caught its KeyboardInterrupt: stop delivering it again. Call it first thing
    in the `except KeyboardInterrupt` block."""
    if _delivery.pending is not None:
        _delivery.pending.set()


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    pending = _delivery.pending
    if pending is None or pending.is_set():
        pending = _delivery.pending = threading.Event()
        threading.Thread(
            target=_redeliver,
            args=(pending, threading.main_thread().ident),
            name="redeliver-sigint",
            daemon=True,
        ).start()
    raise KeyboardInterrupt


def _redeliver(pending: threading.Event, main_thread: int | None) -> None:
    while main_thread is not None and not pending.wait(REDELIVER_SECONDS):
        try:
            signal.pthread_kill(main_thread, signal.SIGINT)
        except OSError:  # the main thread is gone: the process is ending anyway
            return
