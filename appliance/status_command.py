"""`appliance status`: the canonical status of a live appliance or of offline dumps.

Exit codes: 0 the admin can log in (ready, ready_with_background_issues, fully_healthy),
3 installing, 4 failed_action_required, 2 bad input or an unreachable cluster.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from appliance.canonical import ApplianceStatus, RollupState
from appliance.command_line import (
    add_output_option,
    bounded,
    exit_codes_help,
    write_document,
)
from appliance.dumps import DEFAULT_MAX_DUMP_BYTES
from appliance.site import add_site_options, choose_kubeconfig, site_kubeconfig
from appliance.tier_table import FULL_HEALTH_DESCRIPTION, FULL_HEALTH_LABEL, TIERS
from appliance.words import STATE_WORDS, blocker_impact, blocker_title, human_elapsed

__all__ = ["EXIT_CODES", "exit_code_for", "register", "render_text", "run", "status_document"]

EXIT_BAD_INPUT = 2
EXIT_CODES: dict[RollupState, int] = {
    RollupState.READY: 0,
    RollupState.READY_WITH_BACKGROUND_ISSUES: 0,
    RollupState.FULLY_HEALTHY: 0,
    RollupState.INSTALLING: 3,
    RollupState.FAILED_ACTION_REQUIRED: 4,
}
_EXIT_HELP = {
    0: "the admin can log in (ready, ready_with_background_issues, fully_healthy)",
    2: "bad input (a flag, a dump file, a kubeconfig) or the cluster cannot be reached",
    3: "installing",
    4: "failed_action_required: something blocks login and waiting will not clear it",
    130: "interrupted (Ctrl-C or SIGTERM; how --watch ends)",
}

# Each tier as the bootstrapper's phases and the status page name it (tier_table.py).
_TIER_LABELS: tuple[tuple[str, str], ...] = (
    *((spec.name, spec.title) for spec in TIERS),
    ("full_health", f"{FULL_HEALTH_LABEL}: {FULL_HEALTH_DESCRIPTION}"),
)


def register(subparsers: Any) -> None:
    """Add `appliance status` to the CLI."""
    parser = subparsers.add_parser(
        "status",
        help="show whether the appliance is ready to log in, and what blocks it",
        description=(
            "Read a live appliance or offline dumps (--from-dump: what `kubectl get "
            "nodes,pods,events,... -A -o json` or `-o yaml` printed) and print the canonical "
            "status. Without --kubeconfig: $KUBECONFIG, else the site kubeconfig "
            "<config-dir>/<site-id>/kubeconfig that bootstrap wrote, else ~/.kube/config."
        ),
        epilog=exit_codes_help(_EXIT_HELP),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--kubeconfig", type=Path, metavar="PATH", help="kubeconfig of the appliance"
    )
    source.add_argument(
        "--from-dump",
        type=Path,
        nargs="+",
        metavar="FILE",
        help="kubectl JSON or YAML dump(s) to diagnose offline",
    )
    parser.add_argument(
        "--max-dump-size",
        type=_size,
        default=DEFAULT_MAX_DUMP_BYTES,
        metavar="SIZE",
        help="refuse dump files larger than this (default 512M; e.g. 2G)",
    )
    parser.add_argument("--context", metavar="NAME", help="kubeconfig context to use")
    add_output_option(parser, what="the canonical status")
    parser.add_argument(
        "-w",
        "--watch",
        action="store_true",
        help="keep reading the live cluster and redraw when the status changes (Ctrl-C ends)",
    )
    parser.add_argument(
        "--interval",
        type=bounded("seconds", 1e-6, 3600),
        default=5.0,
        metavar="SECONDS",
        help="seconds between reads with --watch (default 5)",
    )
    parser.add_argument(
        "--app-url",
        metavar="URL",
        help="app URL to probe, e.g. http://192.168.64.8:3000 (default: the one the "
        "bootstrapper recorded in ConfigMap appliance-system/appliance-status-config)",
    )
    parser.add_argument("--status-url", metavar="URL", help="status page URL to report")
    add_site_options(parser)
    parser.add_argument(
        "--no-seed-check",
        action="store_true",
        help="do not exec psql in db-0 to count seeded users",
    )
    parser.set_defaults(handler=run)


def _size(text: str) -> int:
    """Bytes from `512M`, `2G`, `800K` or a plain number (a flag value)."""
    value = text.strip().upper().removesuffix("B").removesuffix("I")
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(value[-1:], 1)
    number = value[:-1] if scale > 1 else value
    if not number.isdigit() or int(number) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size (e.g. 512M, 2G)")
    return int(number) * scale


def exit_code_for(status: ApplianceStatus) -> int:
    """The process exit code for a status."""
    return EXIT_CODES.get(status.rollup.state, 3)


def status_document(status: ApplianceStatus) -> dict[str, Any]:
    """The canonical status as JSON-ready data (camelCase names, ISO timestamps)."""
    data: dict[str, Any] = status.model_dump(mode="json", by_alias=True)
    return data


def show(status: ApplianceStatus, output: str, out: TextIO) -> None:
    """Print one status as asked: text (rich on a terminal), json or yaml."""
    if output == "json":
        out.write(status.to_json() + "\n")
    elif output == "yaml":
        write_document(status_document(status), "yaml", out)
    elif out.isatty():
        _print_rich(status, out)
    else:
        out.write(render_text(status))


def run(args: argparse.Namespace, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Handler of `appliance status`."""
    out = out or sys.stdout
    err = err or sys.stderr
    from appliance.errors import ClusterError, DumpError

    if getattr(args, "watch", False):
        if args.from_dump:
            print(
                "appliance status: --watch reads a live cluster; a dump does not change", file=err
            )
            return EXIT_BAD_INPUT
        from appliance.status_watch import watch

        return watch(args, out=out, err=err)
    try:
        status = _collect(args, err)
    except (ClusterError, DumpError) as exc:
        print(f"appliance status: {exc.one_line()}", file=err)
        return EXIT_BAD_INPUT
    show(status, args.output, out)
    return exit_code_for(status)


def kubeconfig_for(args: argparse.Namespace, err: TextIO) -> Path:
    """The kubeconfig to read (site.py's order), saying so when it is the site's."""
    choice = choose_kubeconfig(
        args.kubeconfig, site=site_kubeconfig(getattr(args, "config_dir", None), args.site_id)
    )
    if choice.note:
        print(f"appliance status: {choice.note}", file=err)
    return choice.path


def _collect(args: argparse.Namespace, err: TextIO) -> ApplianceStatus:
    from appliance.cluster.connecting import connect
    from appliance.collecting import collect_from_dumps

    if args.from_dump:
        return collect_from_dumps(
            args.from_dump,
            site_id=args.site_id,
            app_url=args.app_url,
            max_bytes=args.max_dump_size,
        )
    cluster = connect(kubeconfig_for(args, err), context=args.context)
    try:
        return collect_reachable(cluster, args)
    finally:
        cluster.close()


def collect_reachable(cluster: Any, args: argparse.Namespace) -> ApplianceStatus:
    """One status of a live cluster; ClusterError when its API does not answer."""
    from appliance.cluster.reading import read_app_url
    from appliance.collecting import collect_live
    from appliance.errors import ClusterError

    # Without --app-url, the URL the bootstrapper recorded in the cluster is probed, so a ready
    # appliance reads ready (issue 10).
    status = collect_live(
        cluster,
        site_id=args.site_id,
        app_url=args.app_url or read_app_url(cluster),
        status_url=args.status_url,
        measure_users=not args.no_seed_check,
    )
    if not status.cluster.reachable:
        error = str(status.cluster.error)
        refused = any(word in error for word in ("401", "Unauthorized", "403", "Forbidden"))
        advice = (
            "the server answered but refused the credentials; check the kubeconfig's token or "
            "client certificate"
            if refused
            else "check that the appliance is up and the kubeconfig's server address is right"
        )
        raise ClusterError(f"{error} ({cluster.origin}); {advice}")
    return status


def render_text(status: ApplianceStatus) -> str:
    """The human summary as plain text (no colours): rollup, tiers, top blocker, active pulls."""
    lines: list[str] = []
    rollup = status.rollup
    lines.append(f"Appliance {status.site_id}: {STATE_WORDS.get(rollup.state, rollup.state)}")
    lines.append(f"  {rollup.message}")
    if rollup.next_action:
        lines.append(f"  Next: {rollup.next_action}")
    if status.urls.login_url:
        lines.append(f"  Login URL: {status.urls.login_url}")
    lines.append("")
    lines.append("Tiers:")
    for key, label in _TIER_LABELS:
        tier = getattr(status.tiers, key)
        mark = "[x]" if tier.ready else "[ ]"
        lines.append(f"  {mark} {label}")
        for reason in tier.reasons[:3]:
            lines.append(f"        - {reason}")
    if status.top_blockers:
        top = status.top_blockers[0]
        lines.append("")
        where = f"{top.layer} ({top.component or 'appliance'})"
        lines.append(f"{blocker_title(top)}: {where}: {blocker_impact(top)}")
        lines.append(f"  {top.reason}")
        lines.append(f"  Next: {top.next_action}")
        more = len(status.top_blockers) - 1
        if more:
            lines.append(f"  (+{more} more; -o json lists them all)")
    if status.active_operations:
        lines.append("")
        lines.append("In progress:")
        for op in status.active_operations:
            size = f", {op.estimated_size}" if op.estimated_size else ""
            elapsed = human_elapsed(op.elapsed_seconds)
            lines.append(f"  pulling {op.image} for {op.component}: {elapsed}{size}")
            lines.append(f"    {op.note}")
    return "\n".join(lines) + "\n"


def _print_rich(status: ApplianceStatus, out: TextIO) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    console = Console(file=out)
    colour = {
        RollupState.FULLY_HEALTHY: "green",
        RollupState.READY: "green",
        RollupState.READY_WITH_BACKGROUND_ISSUES: "yellow",
        RollupState.INSTALLING: "cyan",
        RollupState.FAILED_ACTION_REQUIRED: "red",
    }.get(status.rollup.state, "white")
    words = STATE_WORDS.get(status.rollup.state, status.rollup.state)
    console.print(f"[bold {colour}]{words}[/]  ({escape(status.site_id)})")
    console.print(status.rollup.message, markup=False)
    if status.rollup.next_action:
        console.print(Text.assemble(("Next: ", "bold"), status.rollup.next_action))
    table = Table(show_header=True, header_style="bold")
    table.add_column("Tier")
    table.add_column("Ready")
    table.add_column("Reasons")
    for key, label in _TIER_LABELS:
        tier = getattr(status.tiers, key)
        table.add_row(
            label, "[green]yes[/]" if tier.ready else "[red]no[/]", "\n".join(tier.reasons[:3])
        )
    console.print(table)
    if status.top_blockers:
        top = status.top_blockers[0]
        where = escape(f"{top.layer} ({top.component or 'appliance'}): {blocker_impact(top)}")
        style = "bold red" if top.login_blocking else "bold yellow"
        console.print(f"[{style}]{blocker_title(top)}:[/] {where}")
        console.print(top.reason, markup=False)
        console.print(Text.assemble(("Next: ", "bold"), top.next_action))
    for op in status.active_operations:
        size = f", {op.estimated_size}" if op.estimated_size else ""
        elapsed = human_elapsed(op.elapsed_seconds)
        console.print(f"[cyan]Pulling[/] {op.image} ({op.component}): {elapsed}{size}")
        console.print(f"  {op.note}", markup=False)
