"""`appliance`: the admin's command line (status, bootstrap, reset, smoke).

Each subcommand lives in its own module with a `register(subparsers)` function, so this file
only assembles them and turns our errors into one-line messages and exit codes.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

__all__ = ["main"]

# Modules that contribute subcommands; each defines register(subparsers) -> None.
COMMAND_MODULES: tuple[str, ...] = (
    "appliance.status_command",
    "appliance.bootstrap.command",
    "appliance.reset",
    "appliance.smoke.command",
)


def build_parser() -> argparse.ArgumentParser:
    """The full `appliance` parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="appliance",
        description=(
            "Install and diagnose a single-node Talos/Kubernetes appliance. "
            "Start with `appliance status --help` or `appliance bootstrap --help`."
        ),
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; its handler returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = args.handler
    code: int = handler(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
