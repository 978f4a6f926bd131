"""A fake `talosctl` that drives the simulated Talos host.

Run as `python -m simulator.neighbours.talosctl`. It speaks JSON over HTTP to the host's endpoint
on node_ip:50000 (`simulator.neighbours.talos`) but prints what the real talosctl prints, with
the same exit codes, so the bootstrapper cannot tell. The world writes a `talosctl` shim script
that runs this module into a bin dir on the PATH.

Kept free of pydantic and the host model so each invocation starts fast; yaml, secrets and the
like are imported by the commands that use them (the bootstrapper polls with `bootstrap`, `get
disks` and `health`, each a fresh interpreter, hundreds of them in a test run).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence

from simulator.neighbours import cli_yaml, clock_client, loopback_http
from simulator.neighbours.talos_config import (
    CLIENT_VERSION,
    PORT_ENV,
    TALOS_PORT,
    TalosctlError,
    apply_patches,
    ca_fingerprint,
    machine_config,
    new_ca_crt,
    unreachable_text,
    write_talosconfig,
)

TYPE_CHECKING = False  # typing only for mypy, which reads this as true
if TYPE_CHECKING:
    from typing import Any

__all__ = ["main"]


def _gen_config(args: argparse.Namespace) -> int:
    from pathlib import Path
    from urllib.parse import urlsplit

    import yaml

    out = Path(args.output_dir)
    types = args.output_types.split(",")
    files = {
        "controlplane": "controlplane.yaml",
        "worker": "worker.yaml",
        "talosconfig": "talosconfig",
    }
    targets = [out / files[t] for t in types if t in files]
    if not args.force:
        for target in targets:
            if target.exists():
                # The real talosctl refuses to clobber existing PKI (finding-04's lesson).
                raise TalosctlError(f'"{target}" already exists, use --force to overwrite')
    print("generating PKI and tokens", file=sys.stderr)
    out.mkdir(parents=True, exist_ok=True)
    ca = new_ca_crt()
    endpoint_host = urlsplit(args.endpoint).hostname or args.endpoint
    for kind, patches in (
        ("controlplane", [*args.config_patch, *args.config_patch_control_plane]),
        ("worker", [*args.config_patch, *args.config_patch_worker]),
    ):
        if kind not in types:
            continue
        doc = machine_config(kind, name=args.cluster_name, endpoint=args.endpoint, ca=ca, args=args)
        doc = apply_patches(doc, patches)
        path = out / files[kind]
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        path.chmod(0o600)
        print(f"Created {path}", file=sys.stderr)
    if "talosconfig" in types:
        path = out / files["talosconfig"]
        write_talosconfig(path, context=args.cluster_name, ca_pem=ca, node=None)
        # gen config names the cluster endpoint as the talosconfig endpoint.
        doc = yaml.safe_load(path.read_text())
        doc["contexts"][args.cluster_name]["endpoints"] = [endpoint_host]
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        print(f"Created {path}", file=sys.stderr)
    return 0


# -- talking to the node ----------------------------------------------------------------------
class _Target:
    def __init__(self, args: argparse.Namespace) -> None:
        self.insecure = bool(getattr(args, "insecure", False))
        self.ca: str | None = None
        nodes = _split(getattr(args, "nodes", None))
        endpoints = _split(getattr(args, "endpoints", None))
        if not self.insecure:
            context = _load_context(args)
            if context is None:
                from pathlib import Path  # the path as pathlib words it

                raise TalosctlError(
                    "failed to determine endpoints: talosconfig not found "
                    f"({Path(_talosconfig_path(args))}), use --talosconfig or --insecure"
                )
            ca = context.get("ca")
            self.ca = ca_fingerprint(ca) if isinstance(ca, str) and ca else None
            endpoints = endpoints or [str(e) for e in context.get("endpoints") or []]
            nodes = nodes or [str(n) for n in context.get("nodes") or []]
        if not endpoints:
            endpoints = nodes
        if not endpoints:
            raise TalosctlError("failed to determine endpoints")
        self.endpoint = endpoints[0]
        self.node = nodes[0] if nodes else self.endpoint
        self.port = int(os.environ.get(PORT_ENV, TALOS_PORT))

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"}
        if self.insecure:
            headers["X-Talos-Insecure"] = "1"
        elif self.ca:
            headers["X-Talos-CA"] = self.ca
        try:
            answer = loopback_http.request(
                self.endpoint, self.port, method, path, body=data, headers=headers, timeout=10
            )
        except TimeoutError as exc:
            raise TalosctlError(
                "rpc error: code = DeadlineExceeded desc = context deadline exceeded"
            ) from exc
        except (OSError, ValueError) as exc:
            raise TalosctlError(unreachable_text(self.endpoint)) from exc
        payload = json.loads(answer.body or b"{}")
        if answer.status >= 400:
            reason = f"HTTP Error {answer.status}: {answer.reason}"
            raise TalosctlError(str(payload.get("error", reason)))
        return payload if isinstance(payload, dict) else {}


def _split(values: Sequence[str] | None) -> list[str]:
    return [v.strip() for value in values or () for v in value.split(",") if v.strip()]


def _talosconfig_path(args: argparse.Namespace) -> str:
    explicit = getattr(args, "talosconfig", None) or os.environ.get("TALOSCONFIG")
    if explicit:
        return str(explicit)
    from pathlib import Path

    return str(Path.home() / ".talos" / "config")


# pathlib, with the urllib.parse it imports, is a tenth of a poll's start: the polls read their
# files with open(), and only a file open() cannot read is handed to pathlib, to be read or
# refused exactly as `Path(path).read_text()` did (it may name a path in its normal form).
def _read_text(path: str) -> str:
    try:
        with open(path) as file:
            return file.read()
    except (OSError, ValueError):
        from pathlib import Path

        return Path(path).read_text()


def _read_text_if_exists(path: str) -> str | None:
    """`_read_text(path)`, or None where there is no such file (`Path(path).exists()` is false
    for these two)."""
    try:
        return _read_text(path)
    except (FileNotFoundError, NotADirectoryError):
        return None


def _load_context(args: argparse.Namespace) -> dict[str, Any] | None:
    text = _read_text_if_exists(_talosconfig_path(args))
    if text is None:
        return None
    doc = cli_yaml.load(text) or {}
    name = getattr(args, "context", None) or doc.get("context")
    context = (doc.get("contexts") or {}).get(name)
    return context if isinstance(context, dict) else None


def _version(args: argparse.Namespace) -> int:
    print("Client:")
    print(f"\tTag:         {CLIENT_VERSION}")
    print("\tSHA:         simulated")
    print("\tOS/Arch:     linux/amd64")
    if args.client:
        return 0
    target = _Target(args)
    try:
        server = target.call("GET", "/v1/version")
    except TalosctlError as exc:
        raise TalosctlError(f"error getting version: {exc}") from exc
    print("Server:")
    print(f"\tNODE:        {target.node}")
    print(f"\tTag:         {server.get('tag')}")
    print("\tSHA:         simulated")
    print("\tOS/Arch:     linux/amd64")
    print("\tEnabled:     RBAC")
    return 0


def _get(args: argparse.Namespace) -> int:
    if args.resource not in ("disks", "disk", "Disks"):
        raise TalosctlError(f'resource type "{args.resource}" is not registered')
    target = _Target(args)
    try:
        disks = target.call("GET", "/v1/disks")["disks"]
    except TalosctlError as exc:
        raise TalosctlError(f"error getting resources: {exc}") from exc
    if args.output == "json":
        for disk in disks:
            print(json.dumps({"node": target.node, "metadata": {"id": disk["id"]}, "spec": disk}))
        return 0
    header = f"{'NODE':<15} {'NAMESPACE':<10} {'TYPE':<5} {'ID':<5} {'VERSION':<8} {'SIZE':<8} "
    print(header + f"{'TRANSPORT':<10} MODEL")
    for disk in disks:
        print(
            f"{target.node:<15} {'runtime':<10} {'Disk':<5} {disk['id']:<5} {'1':<8} "
            f"{disk['size']:<8} {disk['transport']:<10} {disk['model']}"
        )
    return 0


def _apply_config(args: argparse.Namespace) -> int:
    text = _read_text(args.file)
    target = _Target(args)
    try:
        result = target.call("POST", "/v1/apply-config", {"config": text, "mode": args.mode})
    except TalosctlError as exc:
        raise TalosctlError(f"error applying new configuration: {exc}") from exc
    print(result.get("message", "Applied configuration"))
    return 0


def _bootstrap(args: argparse.Namespace) -> int:
    target = _Target(args)
    try:
        target.call("POST", "/v1/bootstrap", {})
    except TalosctlError as exc:
        raise TalosctlError(f"error executing bootstrap: {exc}") from exc
    return 0


def _kubeconfig(args: argparse.Namespace) -> int:
    from pathlib import Path

    target = _Target(args)
    try:
        content = str(target.call("GET", "/v1/kubeconfig")["kubeconfig"])
    except TalosctlError as exc:
        raise TalosctlError(f"error copying: {exc}") from exc
    path = Path(args.path) if args.path else Path.home() / ".kube" / "config"
    if path.is_dir():
        path = path / "kubeconfig"
    if path.exists() and not args.force:
        content = _merge_kubeconfig(path.read_text(), content)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    path.chmod(0o600)
    return 0


def _merge_kubeconfig(existing: str, new: str) -> str:
    """Merge like talosctl: entries of the new kubeconfig replace same-named ones."""
    import yaml

    old_doc = yaml.safe_load(existing) or {}
    new_doc = yaml.safe_load(new) or {}
    for section in ("clusters", "users", "contexts"):
        names = {e.get("name") for e in new_doc.get(section) or []}
        kept = [e for e in old_doc.get(section) or [] if e.get("name") not in names]
        old_doc[section] = kept + list(new_doc.get(section) or [])
    old_doc["current-context"] = new_doc.get("current-context", old_doc.get("current-context"))
    for key in ("apiVersion", "kind"):
        old_doc.setdefault(key, new_doc.get(key))
    return yaml.safe_dump(old_doc, sort_keys=False)


def _duration(text: str) -> float:
    total, number = 0.0, ""
    units = {"h": 3600.0, "m": 60.0, "s": 1.0}
    for char in text:
        if char.isdigit() or char == ".":
            number += char
        elif char in units and number:
            total += float(number) * units[char]
            number = ""
        else:
            raise TalosctlError(f'invalid duration "{text}"')
    if number:
        raise TalosctlError(f'invalid duration "{text}": missing unit')
    return total


def _health(args: argparse.Namespace) -> int:
    target = _Target(args)
    budget = _duration(args.wait_timeout)
    print(f'discovered nodes: ["{target.node}"]')
    started: float | None = None
    # Also bounded in wall time, as the real CLI is: a frozen virtual clock must not hang it
    # (a warped clock moves while we sleep on it, so the node's clock is the only bound then).
    wall_deadline = time.monotonic() + budget if not clock_client.warped() else float("inf")
    printed: set[str] = set()
    while True:
        try:
            report = target.call("GET", "/v1/health")
        except TalosctlError as exc:
            raise TalosctlError(f"healthcheck error: {exc}") from exc
        # The budget runs on the node's clock: a compressed replay times out when a real one would.
        now = _virtual_seconds(report.get("now"))
        started = now if started is None else started
        for check in report.get("checks", []):
            if check["ok"] and check["name"] not in printed:
                printed.add(check["name"])
                print(f"{check['name']}: OK")
        if report.get("failed"):
            raise TalosctlError(f"healthcheck error: {report['failed']}")
        if report.get("done"):
            return 0
        if now - started >= budget or time.monotonic() >= wall_deadline:
            pending = next((c["name"] for c in report.get("checks", []) if not c["ok"]), "")
            raise TalosctlError(f"healthcheck error: {pending}: context deadline exceeded")
        clock_client.poll_pause()


def _virtual_seconds(stamp: object) -> float:
    from datetime import datetime

    if isinstance(stamp, str):
        return datetime.fromisoformat(stamp).timestamp()
    return time.time()


def _reset(args: argparse.Namespace) -> int:
    target = _Target(args)
    try:
        target.call("POST", "/v1/reset", {"graceful": args.graceful, "reboot": args.reboot})
    except TalosctlError as exc:
        raise TalosctlError(f"error executing reset: {exc}") from exc
    return 0


def _dmesg(args: argparse.Namespace) -> int:
    target = _Target(args)
    try:
        lines = target.call("GET", "/v1/dmesg")["lines"]
    except TalosctlError as exc:
        raise TalosctlError(f"error getting dmesg: {exc}") from exc
    for line in lines:
        print(f"{target.node}: {line['at']}: {line['message']}")
    return 0


def _bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("true", "1", "t", "yes"):
        return True
    if lowered in ("false", "0", "f", "no"):
        return False
    raise argparse.ArgumentTypeError(f"invalid boolean value {text!r}")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        # The real CLI (cobra) prints `Error: ...` and exits 1 on usage errors.
        self.exit(1, f"Error: {message}\n")


def _parser() -> argparse.ArgumentParser:  # noqa: PLR0915 - one flat table of commands
    # Global flags go before or after the command, as with cobra; SUPPRESS keeps a subcommand's
    # unset default from wiping a value given before it.
    common = _Parser(add_help=False, argument_default=argparse.SUPPRESS)
    common.add_argument("--talosconfig")
    common.add_argument("--context")
    common.add_argument("-n", "--nodes", action="append")
    common.add_argument("-e", "--endpoints", action="append")
    insecure = _Parser(add_help=False)
    insecure.add_argument("-i", "--insecure", action="store_true")

    parser = _Parser(prog="talosctl", parents=[common])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    gen = sub.add_parser("gen").add_subparsers(dest="what", required=True, parser_class=_Parser)
    config = gen.add_parser("config", parents=[common])
    config.add_argument("cluster_name")
    config.add_argument("endpoint")
    config.add_argument("-o", "--output-dir", "--output", default=".")
    config.add_argument("-t", "--output-types", default="controlplane,worker,talosconfig")
    config.add_argument("--config-patch", action="append", default=[])
    config.add_argument("--config-patch-control-plane", action="append", default=[])
    config.add_argument("--config-patch-worker", action="append", default=[])
    config.add_argument("--install-disk", default="/dev/sda")
    config.add_argument("--install-image")
    config.add_argument("--kubernetes-version", default="v1.31.4")
    config.add_argument("--talos-version", default=CLIENT_VERSION)
    config.add_argument("--additional-sans", action="append", default=[])
    config.add_argument("--with-docs", type=_bool, nargs="?", const=True, default=True)
    config.add_argument("--with-examples", type=_bool, nargs="?", const=True, default=True)
    config.add_argument("--force", action="store_true")
    config.set_defaults(handler=_gen_config)

    version = sub.add_parser("version", parents=[common, insecure])
    version.add_argument("--client", action="store_true")
    version.add_argument("--short", action="store_true")
    version.set_defaults(handler=_version)

    get = sub.add_parser("get", parents=[common, insecure])
    get.add_argument("resource")
    get.add_argument("-o", "--output", default="table")
    get.set_defaults(handler=_get)

    apply = sub.add_parser("apply-config", aliases=["apply"], parents=[common, insecure])
    apply.add_argument("-f", "--file", required=True)
    apply.add_argument("-m", "--mode", default="auto")
    apply.set_defaults(handler=_apply_config)

    sub.add_parser("bootstrap", parents=[common]).set_defaults(handler=_bootstrap)

    kube = sub.add_parser("kubeconfig", parents=[common])
    kube.add_argument("path", nargs="?")
    kube.add_argument("-f", "--force", action="store_true")
    kube.add_argument("-m", "--merge", type=_bool, nargs="?", const=True, default=True)
    kube.set_defaults(handler=_kubeconfig)

    health = sub.add_parser("health", parents=[common])
    health.add_argument("--wait-timeout", default="20m")
    health.add_argument("--server", type=_bool, nargs="?", const=True, default=True)
    health.add_argument("--control-plane-nodes", action="append")
    health.set_defaults(handler=_health)

    reset = sub.add_parser("reset", parents=[common, insecure])
    reset.add_argument("--graceful", type=_bool, nargs="?", const=True, default=True)
    reset.add_argument("--reboot", type=_bool, nargs="?", const=True, default=False)
    reset.add_argument("--wait", type=_bool, nargs="?", const=True, default=True)
    reset.set_defaults(handler=_reset)

    sub.add_parser("dmesg", parents=[common, insecure]).set_defaults(handler=_dmesg)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one talosctl command; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except TalosctlError as exc:
        print(str(exc), file=sys.stderr)
        return exc.exit_code
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
