"""`appliance bootstrap`: the subcommand's registration and handler."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from appliance.bootstrap.display import PHASES
from appliance.bootstrap.flags import FlagError, add_bootstrap_arguments, options_from_args
from appliance.command_line import exit_codes_help

__all__ = ["register"]

EXIT_USAGE = 2


def _handle(args: argparse.Namespace) -> int:
    try:
        options = options_from_args(args)
    except FlagError as exc:
        print(f"appliance bootstrap: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    # Imported here: the cluster client is heavy and other subcommands should not pay for it.
    from appliance.bootstrap.display import make_display
    from appliance.bootstrap.running import Collaborators, run_bootstrap
    from appliance.clocking import clock_from_env

    clock = clock_from_env()  # the machine's, unless a simulator set the test switch
    collaborators = Collaborators(clock=clock, sleep=clock.sleep, monotonic=clock.monotonic)
    return run_bootstrap(options, display=make_display(), collaborators=collaborators)


def register(subparsers: Any) -> None:
    """Add `bootstrap` to the `appliance` parser."""
    parser = subparsers.add_parser(
        "bootstrap",
        help="install Talos, Flux and the app on a single-node appliance",
        description="Install or recover a single-node appliance, one phase each: "
        + ", ".join(PHASES)
        + ". On failure the failure layer and the next action are printed.",
        epilog=exit_codes_help(
            {
                0: "installed: login is ready (the summary lists any background issue)",
                1: "a phase failed: `Failure layer:` and `Next action:` say where and what to do",
                2: "a flag or an input file (release, token) is unusable",
                130: "interrupted: rerun with --bootstrap-mode recover",
            }
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_bootstrap_arguments(parser)
    parser.set_defaults(handler=_handle)
