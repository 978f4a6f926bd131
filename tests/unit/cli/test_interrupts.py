"""Ctrl-C ends a command even when CPython drops its KeyboardInterrupt (appliance/interrupts.py).

CPython clears any exception an I/O object's `close()` raises while its finalizer runs, so a
SIGINT whose handler runs there is lost: a bootstrap went on to the end after Ctrl-C (CI, after
"GitOps submitted"). Each case runs in its own process, as the command does, with the signal
landing inside such a finalizer every time.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.tools import ctrl_c_as_in_a_terminal

SCRIPT = textwrap.dedent(
    """
    import contextlib, io, os, signal, sys, time
    from appliance import interrupts

    interrupts.REDELIVER_SECONDS = 0.2  # the test's patience, not the product's

    class Response(io.RawIOBase):
        # As http.client's and urllib3's responses: IOBase's finalizer calls close().
        def close(self):
            os.kill(os.getpid(), SIGNAL)  # Ctrl-C (or SIGTERM) lands while the finalizer runs
            for _ in range(1000):  # bytecode: the handler runs here, inside the finalizer
                pass
            super().close()

    def command(rest):
        Response()  # made and collected at once, as a response after its body was read
        time.sleep(rest)  # the rest of the command
        return "ran on"

    mode, rest = sys.argv[1], float(sys.argv[2])
    SIGNAL = signal.Signals[sys.argv[3]]
    around = interrupts.redelivered() if mode != "python" else contextlib.nullcontext()
    with around:
        try:
            print(command(rest), flush=True)
        except KeyboardInterrupt:
            interrupts.handled()
            print("interrupted", flush=True)
            if mode == "then-quiet":
                time.sleep(1.0)  # five redelivery periods: none may come
                print("quiet", flush=True)
    print(signal.getsignal(signal.SIGINT) is signal.default_int_handler, flush=True)
    """
)


def run(
    mode: str, *, rest: float = 30.0, sigint_ignored: bool = False, signal_name: str = "SIGINT"
) -> list[str]:
    """The script's output words; `rest`: how long the command runs on after the signal."""
    command = [sys.executable, "-c", SCRIPT, mode, str(rest), signal_name]
    if sigint_ignored:  # as `nohup` starts it: ignored before Python starts
        command = ["/bin/sh", "-c", 'trap "" INT; exec "$@"', "sh", *command]
    with ctrl_c_as_in_a_terminal():
        done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    return done.stdout.split()


def test_python_alone_loses_a_ctrl_c_that_lands_in_a_finalizer() -> None:
    """The premise: with Python's own handler the command runs on."""
    assert run("python", rest=0.5) == ["ran", "on", "True"]


def test_a_lost_ctrl_c_is_delivered_again_and_ends_the_command() -> None:
    assert run("redelivered") == ["interrupted", "True"]


def test_a_lost_sigterm_is_delivered_again_and_ends_the_command() -> None:
    """SIGTERM (`kill`, a service manager's stop) is the same interrupt, lost the same way."""
    assert run("redelivered", signal_name="SIGTERM") == ["interrupted", "True"]


def test_once_handled_it_is_not_delivered_again() -> None:
    """After `handled()` the command's own handling (printing the failure) is not cut short,
    and Python's handler is back when the command returns."""
    assert run("then-quiet") == ["interrupted", "quiet", "True"]


def test_a_sigint_ignored_from_the_start_stays_ignored() -> None:
    """`nohup` and `&` jobs start with SIGINT ignored: redelivered() must not take it over."""
    assert run("redelivered", rest=0.5, sigint_ignored=True) == ["ran", "on", "False"]
