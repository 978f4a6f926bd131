"""Running the app under uvicorn: in the foreground (the CLI) or in a thread (tests, bench, demos).

Both bind the listening socket themselves, so an address in use is one line (`port 8080 on
0.0.0.0 is in use`) instead of uvicorn's log and exit; both bound slow and numerous clients
(`status_web.connections`) and use the redacting log configuration, so no token reaches a log
line either way.
"""

from __future__ import annotations

import errno
import logging
import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn
from uvicorn.config import HTTP_PROTOCOLS
from uvicorn.importer import import_from_string

from status_web.connections import ConnectionGuard, guarded_protocol
from status_web.errors import AddressInUseError, StatusWebError
from status_web.redacting import Tokens, log_config

__all__ = ["BackgroundServer", "bind", "uvicorn_config"]

log = logging.getLogger("status_web")


def bind(host: str, port: int) -> socket.socket:
    """A listening-ready socket on `host:port`; AddressInUseError when another process has it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise AddressInUseError(
                f"port {port} on {host} is in use; stop the other process or pass --port"
            ) from None
        raise StatusWebError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}; pass another --host or --port"
        ) from None
    sock.set_inheritable(True)
    return sock


def uvicorn_config(
    app: Any,
    *,
    host: str,
    port: int,
    token: str | Tokens | None,
    log_level: str = "info",
    guard: ConnectionGuard | None = None,
) -> uvicorn.Config:
    """Uvicorn settings for the status service: redacted logs, no server header, no proxies,
    slow and numerous clients bounded by `guard`."""
    base = import_from_string(HTTP_PROTOCOLS["auto"])
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=guarded_protocol(base, guard or ConnectionGuard()),
        # The service has no WebSocket routes (live updates are server-sent events); "auto"
        # would import a WebSocket implementation (~9 ms of every start) to refuse upgrades.
        ws="none",
        log_config=log_config(token, level=log_level.upper()),
        log_level=log_level,
        access_log=True,
        server_header=False,
        # hostPort traffic comes straight from the admin; no proxy may rewrite the client address.
        proxy_headers=False,
        timeout_keep_alive=5,
        timeout_graceful_shutdown=2,
    )


class BackgroundServer:
    """Uvicorn in a daemon thread on `host:port` (port 0 picks a free one); a context manager."""

    def __init__(
        self,
        app: Any,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | Tokens | None = None,
        log_level: str = "info",
        guard: ConnectionGuard | None = None,
    ) -> None:
        self._config = uvicorn_config(
            app, host=host, port=port, token=token, log_level=log_level, guard=guard
        )
        self._server = uvicorn.Server(self._config)
        self._socket: socket.socket | None = None
        # Uvicorn leaves signals alone outside the main thread, which is what we want here.
        self._thread = threading.Thread(target=self._run, name="status-web", daemon=True)
        self.url = ""

    def _run(self) -> None:
        assert self._socket is not None
        self._server.run(sockets=[self._socket])

    def start(self, *, timeout: float = 15.0) -> str:
        """Start serving; returns the base URL once the socket listens."""
        self._socket = bind(self._config.host, self._config.port)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise StatusWebError(
                    f"status service did not start on {self._config.host}:{self._config.port}; "
                    "see the log above for the reason"
                )
            time.sleep(0.02)
        host, port = self._socket.getsockname()[:2]
        self.url = f"http://{host}:{port}"
        return self.url

    def stop(self, *, timeout: float = 10.0) -> None:
        """Ask uvicorn to exit and wait for the thread."""
        self._server.should_exit = True
        self._thread.join(timeout)
        if self._socket is not None:
            self._socket.close()

    def __enter__(self) -> BackgroundServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
