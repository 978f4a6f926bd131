"""`appliance-status serve`: the status service on :8080.

The token comes from `--token-file` (the Deployment passes Secret appliance-status-auth mounted as
a file), else the env var APPLIANCE_STATUS_TOKEN, else the mounted secret file. A token file is
re-read while serving, so rotating the Secret takes effect without a restart; a token from the
environment cannot change. Cluster access is the pod's service account (`--in-cluster`) or a
kubeconfig. Every failure to start is one line on stderr and exit 2.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType

from appliance.command_line import (
    OneLineParser,
    add_completion_command,
    add_version_everywhere,
    enable_completion,
    exit_codes_help,
)
from appliance.errors import ApplianceError
from appliance.interrupts import handled, redelivered
from appliance.tokens import TOKEN_ENV
from status_web.errors import StatusWebError, TokenFileError
from status_web.token_source import TokenSource

__all__ = ["build_parser", "main", "read_token"]

MOUNTED_TOKEN = Path("/var/run/secrets/appliance-status/token")

log = logging.getLogger("status_web")


def read_token(token_file: Path | None, *, mounted: Path = MOUNTED_TOKEN) -> TokenSource:
    """The status token from the file, the environment or the mounted Secret, in that order.

    A file source is re-read on rotation; TokenFileError (one line) when none is usable.
    """
    if token_file is not None:
        return TokenSource(path=token_file)
    env = os.environ.get(TOKEN_ENV, "").strip()
    if env:
        return TokenSource(env)
    if mounted.is_file():
        return TokenSource(path=mounted)
    raise TokenFileError(
        f"no status token: pass --token-file, set {TOKEN_ENV}, or mount Secret "
        f"appliance-status-auth at {mounted.parent}"
    )


def _duration(text: str) -> float:
    """Seconds from `3600`, `90s`, `30m` or `12h` (a flag value)."""
    value = text.strip().lower()
    scale = {"s": 1, "m": 60, "h": 3600}.get(value[-1:])
    number = value[:-1] if scale else value
    try:
        seconds = float(number) * (scale or 1)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a duration (e.g. 12h, 30m, 90s)"
        ) from None
    if not math.isfinite(seconds) or seconds <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive duration")
    return seconds


_LONGEST_SESSION = 30 * 86400.0  # a sign-in that outlives a month is one that never expires


def _session_age(text: str) -> float:
    try:
        seconds = _duration(text)
    except argparse.ArgumentTypeError as exc:
        raise argparse.ArgumentTypeError(f"{exc} (or $APPLIANCE_STATUS_SESSION_MAX_AGE)") from None
    if seconds > _LONGEST_SESSION:
        raise argparse.ArgumentTypeError(f"{text!r} is longer than 30 days (720h)")
    return seconds


def _interval(text: str) -> float:
    """Seconds between two runs of a loop: positive (0 would spin a core) and finite. A
    simulated world at 60x passes a twelfth of a second, so there is no larger floor."""
    return _duration(text)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:  # 0: any free port
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a port (0-65535; --port or $APPLIANCE_STATUS_PORT)"
        )
    return port


def _at_least_one(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return number


def build_parser() -> argparse.ArgumentParser:
    """The `appliance-status` parser."""
    parser = OneLineParser(
        prog="appliance-status",
        description="Token-protected status page and API of the appliance install.",
        epilog=exit_codes_help(
            {
                0: "done (serve: stopped by SIGTERM)",
                2: "bad input: a flag, the token or the kubeconfig (one line says which)",
                130: "interrupted (Ctrl-C, or SIGTERM before serving)",
            }
        )
        + "\nserve --help lists its own",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    serve = commands.add_parser(
        "serve",
        help="serve the status page and API",
        epilog=exit_codes_help(
            {
                0: "stopped (SIGTERM)",
                2: "cannot start: no token, an unusable kubeconfig, the port in use",
                130: "interrupted (Ctrl-C, or SIGTERM) before serving",
            }
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument(
        "--host",
        default=os.environ.get("APPLIANCE_STATUS_HOST", "0.0.0.0"),
        help="address to listen on (default 0.0.0.0; env APPLIANCE_STATUS_HOST)",
    )
    serve.add_argument(
        "--port",
        type=_port,
        default=os.environ.get("APPLIANCE_STATUS_PORT", "8080"),
        help="port to listen on (default 8080; env APPLIANCE_STATUS_PORT)",
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
    serve.add_argument(
        "--interval", type=_interval, default="5", help="seconds between evaluations (default 5)"
    )
    serve.add_argument(
        "--probe-interval",
        type=_interval,
        default="10",
        help="seconds between login probes (default 10)",
    )
    serve.add_argument(
        "--session-max-age",
        type=_session_age,
        default=os.environ.get("APPLIANCE_STATUS_SESSION_MAX_AGE") or "12h",
        help="how long a sign-in lasts, 30 days at most (default 12h; env "
        "APPLIANCE_STATUS_SESSION_MAX_AGE)",
    )
    serve.add_argument(
        "--request-timeout",
        type=_duration,
        default="10s",
        help="a request must arrive within this time of its first byte (default 10s)",
    )
    serve.add_argument(
        "--max-connections-per-address",
        type=_at_least_one,
        default=32,
        help="open connections one client address may hold (default 32)",
    )
    serve.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning"],
        help="how much the service logs (default info)",
    )
    serve.set_defaults(handler=_serve)
    add_completion_command(commands, "appliance-status")
    add_version_everywhere(parser, "appliance-status")
    return parser


def _status_url(args: argparse.Namespace) -> str | None:
    if args.status_url:
        return str(args.status_url)
    host_ip = os.environ.get("HOST_IP")
    return f"http://{host_ip}:{args.port}" if host_ip else None


class _Stopped(Exception):
    """SIGTERM ended the service (uvicorn has shut down gracefully by then)."""


@contextlib.contextmanager
def _sigterm_stops() -> Iterator[None]:
    """uvicorn shuts down on SIGTERM, then raises the signal again with the handler it found.
    At Python's default that kills the process there: no `finally` (the watches and the
    connection stay open to the end), no atexit (the official client's copies of the
    kubeconfig's CA and client key stay in the temporary folder), exit -15 instead of 0. With
    this handler found instead, the signal raises `_Stopped` and the service ends normally."""

    def stop(signum: int, frame: FrameType | None) -> None:
        raise _Stopped

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from appliance.clocking import clock_from_env
    from appliance.cluster.connecting import ClusterError, connect
    from appliance.cluster.watching import WatchCache
    from status_web.app import create_app
    from status_web.collecting import Collector
    from status_web.connections import ConnectionGuard
    from status_web.serving import bind, uvicorn_config

    token = read_token(args.token_file)
    clock = clock_from_env()  # the machine's, unless a simulator set the test switch
    guard = ConnectionGuard(
        request_seconds=args.request_timeout, per_address=args.max_connections_per_address
    )
    sock = bind(args.host, args.port)  # first: a port in use is one line, before anything starts
    try:
        try:
            cluster = connect(args.kubeconfig, in_cluster=args.in_cluster)
        except ClusterError as exc:
            raise StatusWebError(str(exc)) from exc
        cache = WatchCache(cluster, clock=clock)
        collector = Collector(
            cache,
            clock=clock,
            site_id=args.site_id,
            app_url=args.app_url,
            status_url=_status_url(args),
            interval=args.interval,
            probe_interval=args.probe_interval,
        )
        app = create_app(provider=collector, token=token, session_seconds=args.session_max_age)
        config = uvicorn_config(
            app,
            host=args.host,
            port=args.port,
            token=token.known,
            log_level=args.log_level,
            guard=guard,
        )
        cache.start()
        collector.start()
        # From here this thread only serves requests; a test clock counts the loops' tokens.
        clock.release()
        try:
            log.info("serving on http://%s:%d", args.host, sock.getsockname()[1])
            with _sigterm_stops():
                uvicorn.Server(config).run(sockets=[sock])
        except _Stopped:
            log.info("stopped (SIGTERM)")
        finally:
            collector.stop()
            cache.stop()
            cluster.close()
    finally:
        sock.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `appliance-status`; errors become one line on stderr and their exit code
    (StatusWebError and any other ApplianceError). Ctrl-C or SIGTERM before serving is one line
    and 130 (appliance/interrupts.py: never Python's default for SIGTERM, which would leave the
    client's copies of the kubeconfig's key in the temporary folder); while serving, SIGTERM is
    the service's stop (exit 0)."""
    parser = build_parser()
    enable_completion(parser)
    args = parser.parse_args(argv)
    with redelivered():
        try:
            code: int = args.handler(args)
        except ApplianceError as exc:
            print(f"appliance-status: {exc.one_line()}", file=sys.stderr)
            return exc.exit_code
        except KeyboardInterrupt:
            handled()
            print("appliance-status: interrupted", file=sys.stderr)
            return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
