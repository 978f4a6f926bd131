"""Running the app under uvicorn: in the foreground (the CLI) or in a thread (tests, bench, demos).

Both use the redacting log configuration, so no token reaches a log line either way.
"""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import Any

import uvicorn

from status_web.errors import StatusWebError
from status_web.redacting import log_config

__all__ = ["BackgroundServer", "uvicorn_config"]


def uvicorn_config(
    app: Any, *, host: str, port: int, token: str | None, log_level: str = "info"
) -> uvicorn.Config:
    """Uvicorn settings for the status service: redacted logs, no server header, no proxies."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=log_config(token, level=log_level.upper()),
        log_level=log_level,
        access_log=True,
        server_header=False,
        # hostPort traffic comes straight from the admin; no proxy may rewrite the client address.
        proxy_headers=False,
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
        token: str | None = None,
        log_level: str = "info",
    ) -> None:
        self._config = uvicorn_config(app, host=host, port=port, token=token, log_level=log_level)
        self._server = uvicorn.Server(self._config)
        # Uvicorn leaves signals alone outside the main thread, which is what we want here.
        self._thread = threading.Thread(target=self._server.run, name="status-web", daemon=True)
        self.url = ""

    def start(self, *, timeout: float = 15.0) -> str:
        """Start serving; returns the base URL once the socket listens."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise StatusWebError(
                    f"status service did not start on {self._config.host}:{self._config.port}; "
                    "see the log above for the reason (port in use?)"
                )
            time.sleep(0.02)
        sockets = [s for server in self._server.servers for s in server.sockets]
        host, port = sockets[0].getsockname()[:2]
        self.url = f"http://{host}:{port}"
        return self.url

    def stop(self, *, timeout: float = 10.0) -> None:
        """Ask uvicorn to exit and wait for the thread."""
        self._server.should_exit = True
        self._thread.join(timeout)

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
