"""The conventions every `appliance` and `appliance-status` command follows, as kubectl and flux do.

- `--version` on every command and subcommand;
- `-o json|yaml` for machine-readable output (`--json` kept as an alias of `-o json`);
- the exit codes in `--help`, under the options;
- shell completion (argcomplete): `appliance completion bash|zsh|fish` prints the script to source.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import math
from collections.abc import Callable, Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import Any, NoReturn, TextIO
from urllib.parse import urlsplit

__all__ = [
    "OUTPUT_FORMATS",
    "OneLineParser",
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


def http_url(text: str) -> str:
    """An argparse type: an http:// or https:// URL with a host (`http://[::1` and `ftp://x`
    refused in one line, not met later as a traceback)."""
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - a port that is no number raises here
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"{text!r} is not an http:// or https:// URL with a host")
    return text


def ip_address_flag(text: str) -> str:
    """An argparse type: an IPv4 or IPv6 address (`999.9.9.9` refused when parsed)."""
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an IP address") from None


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line, exit 2, pointing at --help (argparse prints
    the usage block first: seven to eleven lines for one wrong flag). Subcommands' parsers are
    of the same class."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


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
