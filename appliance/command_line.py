"""The conventions every `appliance` and `appliance-status` command follows, as kubectl and flux do.

- `--version` on every command and subcommand;
- `-o json|yaml` for machine-readable output (`--json` kept as an alias of `-o json`);
- the exit codes in `--help`, under the options;
- shell completion (argcomplete): `appliance completion bash|zsh|fish` prints the script to source.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import Any, TextIO

__all__ = [
    "OUTPUT_FORMATS",
    "add_completion_command",
    "add_output_option",
    "add_version_everywhere",
    "enable_completion",
    "exit_codes_help",
    "package_version",
    "write_document",
]

OUTPUT_FORMATS = ("text", "json", "yaml")
COMPLETION_SHELLS = ("bash", "zsh", "fish")


def package_version() -> str:
    """The installed version of this project (what `--version` prints)."""
    try:
        return version("appliance-bootstrap")
    except PackageNotFoundError:  # a source tree that was never installed
        return "0+unknown"


def add_version_everywhere(parser: argparse.ArgumentParser, prog: str) -> None:
    """`--version` on `parser` and on every subcommand beneath it."""
    text = f"{prog} {package_version()}"
    pending = [parser]
    while pending:
        current = pending.pop()
        current.add_argument("--version", action="version", version=text)
        for action in current._actions:
            if isinstance(action, argparse._SubParsersAction):
                pending.extend(action.choices.values())


def exit_codes_help(codes: Mapping[int, str]) -> str:
    """The `Exit codes:` section of a command's --help (use RawDescriptionHelpFormatter)."""
    width = max(len(str(code)) for code in codes)
    lines = [f"  {str(code).rjust(width)}  {meaning}" for code, meaning in sorted(codes.items())]
    return "exit codes:\n" + "\n".join(lines)


def add_output_option(parser: argparse.ArgumentParser, *, what: str) -> None:
    """`-o/--output text|json|yaml`, with `--json` as an alias of `-o json`."""
    parser.add_argument(
        "-o",
        "--output",
        choices=OUTPUT_FORMATS,
        default="text",
        help=f"text (default), or {what} as json or yaml",
    )
    parser.add_argument(
        "--json", dest="output", action="store_const", const="json", help="same as -o json"
    )


def write_document(data: Any, output: str, out: TextIO) -> None:
    """Write JSON-ready data (dicts, lists, strings, numbers) as `output` (json or yaml)."""
    if output == "yaml":
        import yaml

        out.write(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    else:
        out.write(json.dumps(data, indent=2) + "\n")


def add_completion_command(subparsers: Any, prog: str) -> None:
    """`<prog> completion bash|zsh|fish`: the shell code that completes `<prog>`'s arguments."""
    parser = subparsers.add_parser(
        "completion",
        help="print the shell completion script",
        description=(
            f"Print the shell code that completes {prog}'s commands and flags. Load it with "
            f"`source <({prog} completion bash)` (bash, zsh), or `{prog} completion fish | "
            "source` (fish); put that line in your shell's start-up file to keep it."
        ),
    )
    parser.add_argument("shell", choices=COMPLETION_SHELLS)

    def handler(args: argparse.Namespace) -> int:
        from argcomplete.shell_integration import shellcode

        print(shellcode([prog], shell=args.shell), end="")
        return 0

    parser.set_defaults(handler=handler)


def enable_completion(parser: argparse.ArgumentParser) -> None:
    """Answer a shell's completion request (and exit) when the completion script asks."""
    import os

    if "_ARGCOMPLETE" not in os.environ:
        return  # the usual case: no import cost for a normal run
    import argcomplete

    argcomplete.autocomplete(parser)
