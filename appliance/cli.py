"""`appliance`: the admin's command line (status, bootstrap, reset, smoke).

Each subcommand lives in its own module with a `register(subparsers)` function, so this file
only assembles them and turns our errors (`appliance.errors`) into one line on stderr and the
error's exit code; Ctrl-C (or SIGTERM) is one line and exit 130. A traceback means a bug, never
bad input.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from appliance import interrupts
from appliance.command_line import (
    OneLineParser,
    add_completion_command,
    add_version_everywhere,
    enable_completion,
    exit_codes_help,
)
from appliance.errors import ApplianceError

__all__ = ["main"]

EXIT_INTERRUPTED = 130

# Modules that contribute subcommands; each defines register(subparsers) -> None.
COMMAND_MODULES: tuple[str, ...] = (
    "appliance.status_command",
    "appliance.bootstrap.command",
    "appliance.reset",
    "appliance.smoke.command",
)


def build_parser() -> argparse.ArgumentParser:
    """The full `appliance` parser with every subcommand registered."""
    parser = OneLineParser(
        prog="appliance",
        description=(
            "Install and diagnose a single-node Talos/Kubernetes appliance. "
            "Start with `appliance status --help` or `appliance bootstrap --help`."
        ),
        epilog=exit_codes_help(
            {
                0: "done",
                1: "the work failed (a bootstrap phase, a smoke check, a deletion)",
                2: "bad input: a flag, a file or an unreachable cluster (one line says which)",
                EXIT_INTERRUPTED: "interrupted (Ctrl-C or SIGTERM)",
            }
        )
        + "\neach command's --help lists its own exit codes",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    add_completion_command(subparsers, "appliance")
    add_version_everywhere(parser, "appliance")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; its handler returns the exit code, our errors become one line."""
    parser = build_parser()
    enable_completion(parser)
    args = parser.parse_args(argv)
    handler = args.handler
    # A Ctrl-C that CPython drops is delivered again until handled here (interrupts.py).
    with interrupts.redelivered():
        try:
            code: int = handler(args)
        except ApplianceError as exc:
            print(f"appliance {args.command}: {exc.one_line()}", file=sys.stderr)
            return exc.exit_code
        except KeyboardInterrupt:
            interrupts.handled()
            print(f"appliance {args.command}: interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
    return code


if __name__ == "__main__":
    sys.exit(main())
