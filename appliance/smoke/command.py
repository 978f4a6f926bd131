"""`appliance smoke monitor|verify` with `--json` and exit codes.

Exit codes: 0 all checks passed; 1 a check failed; 2 usage error; 3 inconclusive (monitor
started too late, or the app never answered within --timeout).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from appliance.clocking import clock_from_env

__all__ = ["register"]

EXIT_PASS, EXIT_FAIL, EXIT_INCONCLUSIVE = 0, 1, 3


def _monitor(args: argparse.Namespace) -> int:
    from appliance.smoke.monitor import monitor

    def on_poll(poll: int, status: bool, app: bool) -> None:
        if not args.json:
            print(
                f"poll {poll}: status API {'up' if status else 'down'}, "
                f"app {'up' if app else 'down'}",
                flush=True,
            )

    clock = clock_from_env()  # the machine's, unless a simulator set the test switch
    result = monitor(
        args.status_url,
        app_url=args.app_url,
        token=args.token,
        timeout=args.timeout,
        interval=args.interval,
        on_poll=on_poll,
        sleep=clock.sleep,
        monotonic=clock.monotonic,
    )
    if args.json:
        print(json.dumps({"test": "T020", **result.to_dict()}, indent=2))
    else:
        print(f"T020 {result.verdict.upper()}: {result.message}")
    return {"pass": EXIT_PASS, "fail": EXIT_FAIL}.get(result.verdict, EXIT_INCONCLUSIVE)


def _verify(args: argparse.Namespace) -> int:
    from appliance.smoke.verify import verify

    clock = clock_from_env()

    checks = verify(
        kubeconfig=args.kubeconfig,
        node_ip=args.node_ip,
        status_token=args.status_token,
        app_url=args.app_url,
        status_url=args.status_url,
        expect_rollup=args.expect_rollup,
        settle=args.settle,
        sleep=clock.sleep,
        monotonic=clock.monotonic,
    )
    passed = all(c.ok for c in checks)
    if args.json:
        print(json.dumps({"passed": passed, "checks": [c.to_dict() for c in checks]}, indent=2))
    else:
        for check in checks:
            print(f"{'PASS' if check.ok else 'FAIL'} {check.test} {check.name}: {check.detail}")
        print("smoke verify: " + ("all checks passed" if passed else "FAILED"))
    return EXIT_PASS if passed else EXIT_FAIL


def register(subparsers: Any) -> None:
    """Add `smoke monitor` and `smoke verify`."""
    smoke = subparsers.add_parser("smoke", help="smoke checks of a running appliance")
    sub = smoke.add_subparsers(dest="smoke_command", metavar="monitor|verify", required=True)
    mon = sub.add_parser("monitor", help="T020: status API answers before the app URL")
    mon.add_argument("--status-url", required=True, help="http://<node-ip>:8080[/api/status]")
    mon.add_argument("--app-url", required=True, help="http://<node-ip>:3000")
    mon.add_argument("--token", required=True, help="the status token")
    mon.add_argument("--timeout", type=float, default=3600.0, help="seconds (default 3600)")
    mon.add_argument("--interval", type=float, default=5.0, help="seconds between polls")
    mon.add_argument("--json", action="store_true")
    mon.set_defaults(handler=_monitor)
    ver = sub.add_parser("verify", help="T021-T023 on an installed appliance")
    ver.add_argument("--kubeconfig", required=True, type=Path)
    ver.add_argument("--node-ip", required=True)
    ver.add_argument("--status-token", required=True)
    ver.add_argument("--app-url", default=None, help="default http://<node-ip>:3000")
    ver.add_argument("--status-url", default=None, help="default http://<node-ip>:8080")
    ver.add_argument(
        "--expect-rollup",
        default="ready_with_background_issues",
        help="rollup state T022 expects (default ready_with_background_issues)",
    )
    ver.add_argument(
        "--settle",
        type=float,
        default=60.0,
        help="seconds to retry the status API checks while its rollup catches up (default 60)",
    )
    ver.add_argument("--json", action="store_true")
    ver.set_defaults(handler=_verify)
