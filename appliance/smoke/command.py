"""`appliance smoke monitor|verify`: the field log's smoke checks, with `-o json|yaml`.

Secrets never go on the command line (every user on the machine can read it in `ps`): the status
token comes from `--token-file`, else `$APPLIANCE_STATUS_TOKEN`, else the site's token file that
bootstrap wrote (`<config-dir>/<site-id>/status-token`), as `appliance-status serve` reads it.
`verify` finds the site kubeconfig the same way (`--kubeconfig`, `$KUBECONFIG`, the site's).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from appliance.clocking import clock_from_env
from appliance.command_line import (
    add_output_option,
    bounded,
    exit_codes_help,
    http_url,
    ip_address_flag,
    write_document,
)
from appliance.errors import TokenError
from appliance.site import (
    DEFAULT_CONFIG_DIR,
    add_site_options,
    choose_kubeconfig,
    site_kubeconfig,
)
from appliance.tokens import TOKEN_ENV, read_token_file, token_path

__all__ = ["register", "status_token"]

EXIT_PASS, EXIT_FAIL, EXIT_INCONCLUSIVE = 0, 1, 3
_EXIT_HELP = {
    EXIT_PASS: "every check passed",
    EXIT_FAIL: "a check failed (the FAIL line says which and what was seen)",
    2: "usage error: a flag, or no status token",
    EXIT_INCONCLUSIVE: "inconclusive: the monitor started after both answered, or the app never "
    "answered within --timeout",
}


def status_token(args: argparse.Namespace) -> str:
    """The status token: --token-file, $APPLIANCE_STATUS_TOKEN, or the site's token file."""
    if args.token_file is not None:
        value = read_token_file(args.token_file.expanduser(), what="token file")
        if not value:
            raise TokenError(f"token file {args.token_file} is empty")
        return value
    from_env = os.environ.get(TOKEN_ENV, "").strip()
    if from_env:
        return from_env
    site_token = token_path(
        (args.config_dir or DEFAULT_CONFIG_DIR).expanduser(), site_id=args.site_id
    )
    if site_token.is_file():
        print(f"appliance smoke: using the site token file {site_token}", file=sys.stderr)
        return read_token_file(site_token)
    raise TokenError(
        f"no status token: pass --token-file FILE or set ${TOKEN_ENV} "
        f"(bootstrap writes it to {site_token})"
    )


def _monitor(args: argparse.Namespace) -> int:
    from appliance.smoke.monitor import monitor

    def on_poll(poll: int, status: bool, app: bool) -> None:
        if args.output == "text":
            print(
                f"poll {poll}: status API {'up' if status else 'down'}, "
                f"app {'up' if app else 'down'}",
                flush=True,
            )

    clock = clock_from_env()  # the machine's, unless a simulator set the test switch
    result = monitor(
        args.status_url,
        app_url=args.app_url,
        token=status_token(args),
        timeout=args.timeout,
        interval=args.interval,
        on_poll=on_poll,
        sleep=clock.sleep,
        monotonic=clock.monotonic,
    )
    if args.output == "text":
        print(f"T020 {result.verdict.upper()}: {result.message}")
    else:
        write_document({"test": "T020", **result.to_dict()}, args.output, sys.stdout)
    return {"pass": EXIT_PASS, "fail": EXIT_FAIL}.get(result.verdict, EXIT_INCONCLUSIVE)


def _verify(args: argparse.Namespace) -> int:
    from appliance.smoke.verify import verify

    clock = clock_from_env()
    kubeconfig = choose_kubeconfig(
        args.kubeconfig, site=site_kubeconfig(args.config_dir, args.site_id)
    )
    if kubeconfig.note:
        print(f"appliance smoke: {kubeconfig.note}", file=sys.stderr)
    checks = verify(
        kubeconfig=kubeconfig.path,
        node_ip=args.node_ip,
        status_token=status_token(args),
        app_url=args.app_url,
        status_url=args.status_url,
        expect_rollup=args.expect_rollup,
        settle=args.settle,
        sleep=clock.sleep,
        monotonic=clock.monotonic,
    )
    passed = all(c.ok for c in checks)
    if args.output == "text":
        for check in checks:
            print(f"{'PASS' if check.ok else 'FAIL'} {check.test} {check.name}: {check.detail}")
        print("smoke verify: " + ("all checks passed" if passed else "FAILED"))
    else:
        document = {"passed": passed, "checks": [c.to_dict() for c in checks]}
        write_document(document, args.output, sys.stdout)
    return EXIT_PASS if passed else EXIT_FAIL


class _SecretOnCommandLine(argparse.Action):
    """The old `--token`/`--status-token VALUE`: refused with the way to pass it instead."""

    def __call__(self, parser: argparse.ArgumentParser, *_args: Any, **_kwargs: Any) -> None:
        parser.error(
            f"{self.option_strings[0]} is gone: a token on the command line is visible to every "
            f"user in `ps`; pass --token-file FILE or set ${TOKEN_ENV}"
        )


def _token_arguments(parser: argparse.ArgumentParser, *, old: str) -> None:
    parser.add_argument(
        "--token-file",
        type=Path,
        metavar="FILE",
        help=f"file holding the status token (else ${TOKEN_ENV}, else the site's status-token)",
    )
    parser.add_argument(old, action=_SecretOnCommandLine, help=argparse.SUPPRESS)
    add_site_options(parser)


def register(subparsers: Any) -> None:
    """Add `smoke monitor` and `smoke verify`."""
    formatting = {
        "epilog": exit_codes_help(_EXIT_HELP),
        "formatter_class": argparse.RawDescriptionHelpFormatter,
    }
    smoke = subparsers.add_parser("smoke", help="smoke checks of a running appliance", **formatting)
    sub = smoke.add_subparsers(dest="smoke_command", metavar="monitor|verify", required=True)
    mon = sub.add_parser(
        "monitor", help="T020: status API answers before the app URL", **formatting
    )
    mon.add_argument(
        "--status-url", type=http_url, required=True, help="http://<node-ip>:8080[/api/status]"
    )
    mon.add_argument("--app-url", type=http_url, required=True, help="http://<node-ip>:3000")
    _token_arguments(mon, old="--token")
    mon.add_argument(
        "--timeout",
        type=bounded("seconds", 1, 7 * 86400),
        default=3600.0,
        help="seconds (default 3600)",
    )
    mon.add_argument(
        "--interval",
        type=bounded("seconds", 1e-6, 3600),
        default=5.0,
        help="seconds between polls (default 5)",
    )
    add_output_option(mon, what="the verdict")
    mon.set_defaults(handler=_monitor)
    ver = sub.add_parser("verify", help="T021-T023 on an installed appliance", **formatting)
    ver.add_argument(
        "--kubeconfig",
        type=Path,
        metavar="PATH",
        help="default: $KUBECONFIG, else the site kubeconfig bootstrap wrote",
    )
    ver.add_argument("--node-ip", type=ip_address_flag, required=True, help="the node's IP address")
    _token_arguments(ver, old="--status-token")
    ver.add_argument("--app-url", type=http_url, default=None, help="default http://<node-ip>:3000")
    ver.add_argument(
        "--status-url", type=http_url, default=None, help="default http://<node-ip>:8080"
    )
    ver.add_argument(
        "--expect-rollup",
        default="ready_with_background_issues",
        help="rollup state T022 expects (default ready_with_background_issues)",
    )
    ver.add_argument(
        "--settle",
        type=bounded("seconds", 0, 3600),
        default=60.0,
        help="seconds to retry what lags right after an install: the status rollup and "
        "Temporal's Deployments (default 60)",
    )
    add_output_option(ver, what="the checks")
    ver.set_defaults(handler=_verify)
