"""`appliance-sim` follows the conventions of kubectl and flux: `--version` on every command, the
exit codes in `--help`, and `appliance-sim completion bash|zsh|fish` (argcomplete).

The production CLIs have the same conventions in `appliance.command_line`; the simulator never
imports production code, so the few lines are repeated here on purpose.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable, Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, NoReturn

__all__ = [
    "EXIT_CODES_HELP",
    "OneLineParser",
    "add_completion_command",
    "add_version_everywhere",
    "complete",
    "completion_script",
]

EXIT_CODES_HELP: Mapping[int, str] = {
    0: "done (run: the replay had no errors; --bootstrap: the last bootstrapper run passed)",
    1: "the replay or the bootstrapper failed (the lines above say where)",
    2: "bad input: a scenario file (file:line: field: reason) or a flag",
    130: "interrupted (Ctrl-C or SIGTERM); the world and every process it started are stopped",
}


def bounded(what: str, minimum: float, maximum: float) -> Callable[[str], float]:
    """An argparse type: a finite number in [minimum, maximum] (nan, inf, 1e999 and a zero that
    would spin a loop are refused in one line, not met later as a hang or a traceback)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number of {what}") from None
        if not math.isfinite(value) or not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError(f"{text!r} must be {minimum:g} to {maximum:g} {what}")
        return value

    parse.__name__ = what  # argparse names the type in some messages
    return parse


def output_file(text: str) -> Path:
    """An argparse type: a file to write, checked before any work (a directory or a device
    given as --out failed only at the end, after the work, or left a half-started world)."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a directory; name a file to write")
    if path.exists() and not path.is_file():
        raise argparse.ArgumentTypeError(f"{text} is not a regular file")
    return path


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line, exit 2, pointing at --help (argparse prints
    the usage block first: seven to eleven lines for one wrong flag). Subcommands' parsers are
    of the same class."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def exit_codes_help(codes: Mapping[int, str] = EXIT_CODES_HELP) -> str:
    """The `exit codes:` section of --help."""
    width = max(len(str(code)) for code in codes)
    return "exit codes:\n" + "\n".join(
        f"  {str(code).rjust(width)}  {meaning}" for code, meaning in sorted(codes.items())
    )


def add_version_everywhere(parser: argparse.ArgumentParser, prog: str) -> None:
    """`--version` on `parser` and on every subcommand beneath it, and the exit codes on each
    that does not list its own."""
    try:
        text = f"{prog} {version('appliance-bootstrap')}"
    except PackageNotFoundError:  # a source tree that was never installed
        text = f"{prog} 0+unknown"
    pending = [parser]
    while pending:
        current = pending.pop()
        current.add_argument("--version", action="version", version=text)
        current.epilog = current.epilog or exit_codes_help()  # a command's own codes stay
        current.formatter_class = argparse.RawDescriptionHelpFormatter
        for action in current._actions:
            if isinstance(action, argparse._SubParsersAction):
                pending.extend(action.choices.values())


def add_completion_command(subparsers: Any, prog: str) -> None:
    """`<prog> completion bash|zsh|fish` prints the shell code that completes `<prog>`."""
    parser = subparsers.add_parser(
        "completion",
        help="print the shell completion script",
        description=f"Load it with `source <({prog} completion bash)`.",
    )
    parser.add_argument("shell", choices=("bash", "zsh", "fish"))


def complete(parser: argparse.ArgumentParser) -> None:
    """Answer a shell's completion request and exit, when the completion script asks."""
    if "_ARGCOMPLETE" in os.environ:
        import argcomplete

        argcomplete.autocomplete(parser)


def completion_script(prog: str, shell: str) -> str:
    """The script `<prog> completion SHELL` prints."""
    from argcomplete.shell_integration import shellcode

    return shellcode([prog], shell=shell)
