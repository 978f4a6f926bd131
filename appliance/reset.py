"""`appliance reset`: remove the app and its data (and optionally wipe Talos) to start fresh.

The field log's reset script died on `target: unbound variable` (finding-3). Here every input is
optional and every absence is a line in the plan, never a crash: no kubeconfig means cluster
objects are skipped, no `--node-ip` means Talos is left alone. Nothing happens without `--force`;
`--dry-run` only prints the plan (T017).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from appliance.command_line import exit_codes_help
from appliance.site import choose_kubeconfig, site_dir

if TYPE_CHECKING:
    from appliance.bootstrap.talosctl import Talosctl

__all__ = ["ResetPlan", "plan_reset", "register", "run_reset"]

EXIT_OK, EXIT_FAILED, EXIT_REFUSED = 0, 1, 2

_APP_NAMESPACES = ("msp", "appliance-system")
# Mirrors appliance.bootstrap.platform (kept literal so `appliance --help` stays light);
# tests/unit/bootstrap/test_reset.py checks the two agree.
FLUX_NAMESPACE = "flux-system"
SOURCE_NAME = "alga-appliance"
KUSTOMIZATIONS = ("alga-background", "alga-core", "alga-platform")


@dataclass(frozen=True)
class ResetPlan:
    """What reset would delete, and what it leaves alone (with the reason)."""

    kubeconfig: Path | None
    objects: tuple[tuple[str, str, str, str | None], ...]  # apiVersion, kind, name, namespace
    talos_node: str | None
    talosconfig: Path | None
    kept: tuple[str, ...]

    def lines(self) -> list[str]:
        """Human lines: one per deletion, then what is kept."""
        out = []
        if self.kubeconfig is None:
            out.append("cluster: no kubeconfig found; Kubernetes objects are skipped")
        else:
            out.append(f"cluster: kubeconfig {self.kubeconfig}")
            for _, kind, name, namespace in self.objects:
                where = f"{namespace}/" if namespace else ""
                extra = (
                    " (all app data, including the Postgres volume)"
                    if (kind == "Namespace" and name == "msp")
                    else ""
                )
                out.append(f"  delete {kind} {where}{name}{extra}")
        if self.talos_node:
            out.append(
                f"talos: reset node {self.talos_node} to maintenance mode "
                f"(talosctl reset, wipes STATE and EPHEMERAL) using "
                f"{self.talosconfig or 'the default talosconfig'}"
            )
        else:
            out.append("talos: left alone (pass --node-ip to also wipe the node)")
        out.extend(f"keep: {item}" for item in self.kept)
        return out


def _first_existing(*paths: Path | None) -> Path | None:
    for path in paths:
        if path is not None and path.expanduser().is_file():
            return path.expanduser()
    return None


def plan_reset(
    *,
    kubeconfig: Path | None,
    config_dir: Path | None,
    site_id: str | None,
    node_ip: str | None,
    talosconfig: Path | None,
) -> ResetPlan:
    """Build the plan from whatever was given; missing values only shrink the plan."""
    site = site_dir(config_dir, site_id)
    found_kube = _first_existing(choose_kubeconfig(kubeconfig, site=site / "kubeconfig").path)
    objects: list[tuple[str, str, str, str | None]] = [
        ("kustomize.toolkit.fluxcd.io/v1", "Kustomization", name, FLUX_NAMESPACE)
        for name in KUSTOMIZATIONS
    ]
    objects.append(("source.toolkit.fluxcd.io/v1", "GitRepository", SOURCE_NAME, FLUX_NAMESPACE))
    objects.extend(("v1", "Namespace", name, None) for name in _APP_NAMESPACES)
    kept = [f"local site files in {site} (status token, Talos config, kubeconfig)"]
    return ResetPlan(
        kubeconfig=found_kube,
        objects=tuple(objects),
        talos_node=node_ip or None,
        talosconfig=_first_existing(talosconfig, site / "talosconfig"),
        kept=tuple(kept),
    )


def run_reset(  # noqa: PLR0912
    plan: ResetPlan,
    *,
    force: bool,
    dry_run: bool,
    out: Callable[[str], None] = print,
    connect: Callable[[Path], Any] | None = None,
    talosctl: Talosctl | None = None,
) -> int:
    """Print the plan; with --force (and not --dry-run) carry it out."""
    out("appliance reset plan:")
    for line in plan.lines():
        out(f"  {line}")
    if dry_run:
        out("Dry run: nothing was deleted.")
        return EXIT_OK
    if not force:
        out("Refusing to reset without --force (this deletes the app and its data).")
        return EXIT_REFUSED
    from appliance.bootstrap.talosctl import Talosctl
    from appliance.cluster.applying import Applier, ApplyError

    failures = 0
    if plan.kubeconfig is not None:
        if connect is None:
            from appliance.cluster.connecting import connect as default_connect

            connect = default_connect
        try:
            cluster = connect(plan.kubeconfig)
        except Exception as exc:  # an unusable kubeconfig is reported, not fatal for Talos reset
            out(f"cannot connect with {plan.kubeconfig}: {exc}")
            failures += 1
        else:
            applier = Applier(cluster)
            try:
                for api_version, kind, name, namespace in plan.objects:
                    try:
                        result = applier.delete(api_version, kind, name, namespace=namespace)
                        out(f"{result.action}: {result.ref}")
                    except ApplyError as exc:
                        out(f"failed: {exc}")
                        failures += 1
            finally:
                cluster.close()
    if plan.talos_node:
        runner = talosctl or Talosctl()
        args = []
        if plan.talosconfig is not None:
            args += ["--talosconfig", str(plan.talosconfig)]
        node = plan.talos_node
        talos = runner(
            *args,
            "reset",
            "-n",
            node,
            "-e",
            node,
            "--graceful=false",
            "--reboot",
            "--system-labels-to-wipe",
            "STATE",
            "--system-labels-to-wipe",
            "EPHEMERAL",
        )
        if talos.ok:
            out(f"talos: node {node} is resetting to maintenance mode")
        else:
            out(f"talos: reset of {node} failed: {talos.output.strip()}")
            failures += 1
    out("Reset finished." if not failures else f"Reset finished with {failures} failure(s).")
    return EXIT_FAILED if failures else EXIT_OK


def _handle(args: argparse.Namespace) -> int:
    plan = plan_reset(
        kubeconfig=args.kubeconfig,
        config_dir=args.config_dir,
        site_id=args.site_id,
        node_ip=args.node_ip,
        talosconfig=args.talosconfig,
    )

    def out(line: str) -> None:
        sys.stdout.write(line + "\n")

    return run_reset(plan, force=args.force, dry_run=args.dry_run, out=out)


def register(subparsers: Any) -> None:
    """Add `reset` to the `appliance` parser."""
    parser = subparsers.add_parser(
        "reset",
        help="delete the app, its data and optionally wipe Talos",
        description="Delete the appliance's Flux objects and app namespaces (and, with "
        "--node-ip, reset Talos to maintenance mode). Refuses without --force. Without "
        "--kubeconfig: $KUBECONFIG, else the site kubeconfig that bootstrap wrote.",
        epilog=exit_codes_help(
            {
                EXIT_OK: "reset done (or, with --dry-run, the plan printed)",
                EXIT_FAILED: "a deletion or the Talos reset failed (the lines above say which)",
                EXIT_REFUSED: "refused: add --force (after reading the plan)",
            }
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--force", action="store_true", help="really delete")
    parser.add_argument("--dry-run", action="store_true", help="print the plan only")
    parser.add_argument(
        "--kubeconfig",
        type=Path,
        default=None,
        help="the cluster to delete from (default: $KUBECONFIG, else the site's kubeconfig)",
    )
    parser.add_argument(
        "--talosconfig",
        type=Path,
        default=None,
        help="talosctl's config for --node-ip (default: the site's talosconfig)",
    )
    parser.add_argument(
        "--config-dir",
        type=Path,
        default=None,
        help="where bootstrap kept the site's files (default: ~/.alga-psa-appliance)",
    )
    parser.add_argument(
        "--site-id", default=None, help="the site to reset (default: appliance-single-node)"
    )
    parser.add_argument("--node-ip", default=None, help="also reset Talos on this node")
    parser.set_defaults(handler=_handle)
