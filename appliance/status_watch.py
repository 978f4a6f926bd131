"""`appliance status --watch`: keep reading the cluster and redraw when the status changes.

Like `flux get --watch` and `kubectl get -w`: on a terminal the summary is redrawn in place at
every read (so a pull's elapsed time ticks); piped, a new summary is printed only when something
an admin acts on changed (rollup, tiers, blockers, components, pulls started or finished), after a
line with the cluster time. `-o json|yaml` prints one document per change (YAML separated by
`---`). An unreachable API is a line, and the watch goes on; Ctrl-C ends it (exit 130).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any, TextIO

from appliance.canonical import ApplianceStatus

__all__ = ["fingerprint", "watch", "watch_loop"]

_CLEAR = "\x1b[H\x1b[2J"


def fingerprint(status: ApplianceStatus) -> tuple[Any, ...]:
    """What an admin acts on; clocks and elapsed seconds are left out, so ticking is no change."""
    tiers = tuple((name, tier.ready, tuple(tier.reasons)) for name, tier in status.tiers)
    return (
        status.rollup.state,
        status.rollup.next_action,
        tiers,
        tuple((b.layer, b.component, b.reason, b.login_blocking) for b in status.top_blockers),
        tuple((c.name, c.ready, c.message) for c in status.components),
        tuple((op.component, op.image) for op in status.active_operations),
        status.cluster.reachable,
    )


def watch_loop(
    read: Callable[[], ApplianceStatus | str],
    *,
    show: Callable[[ApplianceStatus], None],
    note: Callable[[str], None],
    redraw_every_read: bool,
    interval: float,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Read, show on change (or every read when redrawing in place), sleep; until interrupted.

    `read` returns a status or, when the API cannot be read, the reason as text.
    """
    last: tuple[Any, ...] | str | None = None
    while True:
        result = read()
        if isinstance(result, str):
            if result != last:
                note(result)
            last = result
        else:
            key = fingerprint(result)
            if redraw_every_read or key != last:
                show(result)
            last = key
        sleep(interval)


def watch(args: argparse.Namespace, *, out: TextIO, err: TextIO) -> int:
    """Handler of `appliance status --watch`; returns only on a bad kubeconfig (exit 2)."""
    from appliance.cluster.connecting import connect
    from appliance.errors import ClusterError
    from appliance.status_command import EXIT_BAD_INPUT, collect_reachable, kubeconfig_for, show

    try:
        cluster = connect(kubeconfig_for(args, err), context=args.context)
    except ClusterError as exc:
        print(f"appliance status: {exc.one_line()}", file=err)
        return EXIT_BAD_INPUT
    in_place = args.output == "text" and out.isatty()

    def read() -> ApplianceStatus | str:
        try:
            return collect_reachable(cluster, args)
        except ClusterError as exc:
            return f"appliance status: {exc.one_line()}; still watching"

    def show_one(status: ApplianceStatus) -> None:
        if in_place:
            out.write(_CLEAR)
        elif args.output == "yaml":
            out.write("---\n")
        elif args.output == "text":
            out.write(f"--- {status.timestamp.isoformat()} (cluster time)\n")
        show(status, args.output, out)
        out.flush()

    def note(line: str) -> None:
        print(line, file=err, flush=True)

    try:
        watch_loop(
            read,
            show=show_one,
            note=note,
            redraw_every_read=in_place,
            interval=max(0.5, args.interval),
        )
    finally:
        cluster.close()
    return 0  # the loop ends only by Ctrl-C, which main() turns into exit 130
