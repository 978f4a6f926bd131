"""A small threaded HTTP server on a loopback address, shared by the simulated neighbours.

The registry, the Talos endpoint and the app endpoint are tiny protocol fakes; the stdlib server in
a daemon thread starts in milliseconds and needs no event loop, which keeps tests fast.
"""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["LoopbackServer"]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # A restarted endpoint (app set_ready False -> True) must be able to rebind at once.
    allow_reuse_address = True

    def get_request(self) -> tuple[socket.socket, object]:
        """An accepted connection, with Nagle's algorithm off.

        A handler writes its headers and its body in two sends. With Nagle on, the body waits
        for the client's ACK of the headers, which a kept-alive client delays by up to 40 ms:
        every answer on a reused connection (the clock endpoint's, hundreds per run) stalled.
        """
        connection, address = super().get_request()
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection, address


class LoopbackServer:
    """Serve `handler` on `host:port` (port 0 = any free port) in a background thread."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], *, host: str, port: int) -> None:
        self._handler = handler
        self._host = host
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """Whether the socket is listening."""
        return self._server is not None

    @property
    def host(self) -> str:
        """The bound address."""
        return self._host

    @property
    def port(self) -> int:
        """The bound port (the real one once started with port 0)."""
        return self._port

    @property
    def url(self) -> str:
        """`http://host:port`."""
        return f"http://{self._host}:{self._port}"

    def start(self) -> None:
        """Bind and serve; a no-op when already serving."""
        if self._server is not None:
            return
        server = _Server((self._host, self._port), self._handler)
        self._port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"sim-http-{self._host}:{self._port}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket, so new connections are refused."""
        server, thread = self._server, self._thread
        self._server, self._thread = None, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
