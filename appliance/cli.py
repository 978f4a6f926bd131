"""`appliance`: the admin's command line (status, bootstrap, reset, smoke).

Each subcommand lives in its own module with a `register(subparsers)` function, so this file
only assembles them and turns our errors (`appliance.errors`) into one line on stderr and the
error's exit code; Ctrl-C is one line and exit 130. A traceback means a bug, never bad input.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from appliance.errors import ApplianceError

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


EXIT_INTERRUPTED = 130


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; its handler returns the exit code, our errors become one line."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = args.handler
    try:
        code: int = handler(args)
    except ApplianceError as exc:
        print(f"appliance {args.command}: {exc.one_line()}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"appliance {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return code


if __name__ == "__main__":
    sys.exit(main())
