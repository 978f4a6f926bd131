"""The alga web app's HTTP endpoint on the simulated node address (port 3000)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from simulator.clock import VirtualClock
from simulator.neighbours.serving import LoopbackServer

__all__ = ["AppEndpoint", "AppRequest", "AppSpec"]


class AppSpec(BaseModel):
    """The app endpoint part of a scenario (`app:` in the YAML)."""

    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True
    )

    port: int = Field(default=3000, ge=1, le=65535)
    # What makes the world call `set_ready(True)`: the named Deployment having ready replicas
    # (the default, finding-11), a fixed virtual time, always, or never.
    ready_when: Literal["deploymentReady", "atTime", "always", "never"] = "deploymentReady"
    deployment: str = "alga-core"
    namespace: str = "msp"
    ready_at_seconds: float | None = Field(default=None, ge=0)
    status_code: int = 307
    location: str = "/msp/dashboard"
    # Before ready: nothing listens (the observed `curl` HTTP 000) or a 503 from a proxy.
    before_ready: Literal["connectionRefused", "503"] = "connectionRefused"


@dataclass(frozen=True)
class AppRequest:
    """One request the app endpoint answered."""

    at: datetime
    method: str
    path: str
    status: int


class AppEndpoint:
    """HTTP on node_ip:port answering `status_code` + Location once ready.

    Before ready nothing listens (connection refused, the observed `curl` HTTP 000) or, when the
    spec says `503`, a proxy answers 503. `set_ready` is called by the world.
    """

    def __init__(self, spec: AppSpec, *, node_ip: str, clock: VirtualClock) -> None:
        self.spec = spec
        self.node_ip = node_ip
        self.clock = clock
        self._lock = threading.Lock()
        self._ready = False
        self._started = False
        self._log: list[AppRequest] = []
        self._server = LoopbackServer(_make_handler(self), host=node_ip, port=spec.port)

    @property
    def url(self) -> str:
        """The app URL, e.g. `http://127.42.0.8:3000`."""
        return f"http://{self.node_ip}:{self._server.port}"

    @property
    def ready(self) -> bool:
        """Whether the app answers the login probe."""
        with self._lock:
            return self._ready

    def start(self) -> AppEndpoint:
        """Begin (listening only if ready or when 503 mode wants a listener)."""
        with self._lock:
            self._started = True
            self._sync()
        return self

    def stop(self) -> None:
        """Stop listening."""
        with self._lock:
            self._started = False
            self._server.stop()

    def set_ready(self, ready: bool) -> None:
        """Make the app answer (True) or go away again (False)."""
        with self._lock:
            self._ready = ready
            if self._started:
                self._sync()

    def requests(self) -> list[AppRequest]:
        """Requests answered so far, oldest first."""
        with self._lock:
            return list(self._log)

    def record(self, method: str, path: str, status: int) -> None:
        """Append one request to the log."""
        with self._lock:
            self._log.append(AppRequest(self.clock.now(), method, path, status))

    def _sync(self) -> None:
        listen = self._ready or self.spec.before_ready == "503"
        if listen:
            self._server.start()
        else:
            self._server.stop()

    def __enter__(self) -> AppEndpoint:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def _make_handler(app: AppEndpoint) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "simulated-app"

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the endpoint keeps its own request log."""

        def do_GET(self) -> None:
            self._answer(head=False)

        def do_HEAD(self) -> None:
            self._answer(head=True)

        def _answer(self, *, head: bool) -> None:
            if app.ready:
                status, body = app.spec.status_code, b""
                headers = {"Location": app.spec.location}
            else:
                status, body, headers = 503, b"Service Unavailable", {}
            app.record(self.command, self.path, status)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Date", formatdate(app.clock.now().timestamp(), usegmt=True))
            self.end_headers()
            if not head:
                self.wfile.write(body)

    return Handler
