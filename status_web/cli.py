"""`appliance-status serve`: the status service on :8080.

The token comes from `--token-file`, else the env var APPLIANCE_STATUS_TOKEN (the Deployment sets
it from Secret appliance-status-auth), else the mounted secret file. Cluster access is the pod's
service account (`--in-cluster`) or a kubeconfig.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from status_web.errors import StatusWebError

__all__ = ["build_parser", "main", "read_token"]

TOKEN_ENV = "APPLIANCE_STATUS_TOKEN"  # noqa: S105 - the variable name, not a secret
MOUNTED_TOKEN = Path("/var/run/secrets/appliance-status/token")

log = logging.getLogger("status_web")


def read_token(token_file: Path | None, *, mounted: Path = MOUNTED_TOKEN) -> str:
    """The status token from the file, the environment or the mounted Secret, in that order."""
    if token_file is not None:
        try:
            value = token_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise StatusWebError(
                f"token file {token_file} cannot be read: {exc.strerror or exc}; pass the file "
                "the bootstrapper wrote (<config-dir>/<site-id>/status-token)"
            ) from exc
        if not value:
            raise StatusWebError(f"token file {token_file} is empty; write the token into it")
        return value
    env = os.environ.get(TOKEN_ENV, "").strip()
    if env:
        return env
    if mounted.is_file():
        value = mounted.read_text(encoding="utf-8").strip()
        if value:
            return value
    raise StatusWebError(
        f"no status token: pass --token-file, set {TOKEN_ENV}, or mount Secret "
        f"appliance-status-auth at {mounted.parent}"
    )


def build_parser() -> argparse.ArgumentParser:
    """The `appliance-status` parser."""
    parser = argparse.ArgumentParser(
        prog="appliance-status",
        description="Token-protected status page and API of the appliance install.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    serve = commands.add_parser("serve", help="serve the status page and API")
    serve.add_argument("--host", default=os.environ.get("APPLIANCE_STATUS_HOST", "0.0.0.0"))
    serve.add_argument(
        "--port", type=int, default=int(os.environ.get("APPLIANCE_STATUS_PORT", "8080"))
    )
    where = serve.add_mutually_exclusive_group()
    where.add_argument("--kubeconfig", type=Path, help="kubeconfig file (default: $KUBECONFIG)")
    where.add_argument("--in-cluster", action="store_true", help="use the pod's service account")
    serve.add_argument(
        "--token-file", type=Path, help=f"file holding the token (else ${TOKEN_ENV})"
    )
    serve.add_argument(
        "--app-url",
        default=os.environ.get("APPLIANCE_APP_URL") or None,
        help="the app's login URL, probed for LOGIN_READY",
    )
    serve.add_argument(
        "--site-id", default=os.environ.get("APPLIANCE_SITE_ID") or "appliance", help="site id"
    )
    serve.add_argument(
        "--status-url",
        default=os.environ.get("APPLIANCE_STATUS_URL") or None,
        help="this page's public URL (default: http://$HOST_IP:8080 when HOST_IP is set)",
    )
    serve.add_argument("--interval", type=float, default=5.0, help="seconds between evaluations")
    serve.add_argument(
        "--probe-interval", type=float, default=10.0, help="seconds between login probes"
    )
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning"])
    serve.set_defaults(handler=_serve)
    return parser


def _status_url(args: argparse.Namespace) -> str | None:
    if args.status_url:
        return str(args.status_url)
    host_ip = os.environ.get("HOST_IP")
    return f"http://{host_ip}:{args.port}" if host_ip else None


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from appliance.cluster.connecting import ClusterError, connect
    from appliance.cluster.watching import WatchCache
    from status_web.app import create_app
    from status_web.collecting import Collector
    from status_web.serving import uvicorn_config

    token = read_token(args.token_file)
    try:
        cluster = connect(args.kubeconfig, in_cluster=args.in_cluster)
    except ClusterError as exc:
        raise StatusWebError(str(exc)) from exc
    cache = WatchCache(cluster)
    collector = Collector(
        cache,
        site_id=args.site_id,
        app_url=args.app_url,
        status_url=_status_url(args),
        interval=args.interval,
        probe_interval=args.probe_interval,
    )
    app = create_app(provider=collector, token=token)
    config = uvicorn_config(
        app, host=args.host, port=args.port, token=token, log_level=args.log_level
    )
    cache.start()
    collector.start()
    try:
        uvicorn.Server(config).run()
    finally:
        collector.stop()
        cache.stop()
        cluster.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `appliance-status`; errors become one line on stderr and exit code 2."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except StatusWebError as exc:
        print(f"appliance-status: {exc.one_line()}", file=sys.stderr)
        return exc.exit_code
    return code


if __name__ == "__main__":
    sys.exit(main())
