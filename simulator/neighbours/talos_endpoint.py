"""The Talos host's apid stand-in on NODE_IP:50000: JSON over HTTP, spoken only by our
`talosctl`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from simulator.neighbours.serving import LoopbackServer
from simulator.neighbours.talos import TalosApiError, TalosHost
from simulator.neighbours.talos_config import TALOS_PORT

__all__ = [
    "TalosEndpoint",
]


class TalosEndpoint:
    """The apid stand-in: JSON over HTTP on node_ip:50000, spoken only by our `talosctl`
    (`simulator.neighbours.talosctl`).

    The TLS handshake is modelled by two request headers: `X-Talos-Insecure: 1` (the `--insecure`
    flag) or `X-Talos-CA` (the sha256 fingerprint of the talosconfig's CA).
    """

    def __init__(self, host: TalosHost, *, port: int = TALOS_PORT) -> None:
        self.host = host
        self._server = LoopbackServer(_make_handler(host), host=host.node_ip, port=port)

    @property
    def url(self) -> str:
        """`http://node_ip:port`."""
        return self._server.url

    @property
    def port(self) -> int:
        """The bound port."""
        return self._server.port

    def start(self) -> TalosEndpoint:
        """Listen; returns self."""
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        self._server.stop()

    def __enter__(self) -> TalosEndpoint:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def _make_handler(host: TalosHost) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "simulated-apid"

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the console log is the record."""

        def do_GET(self) -> None:
            self._dispatch()

        def do_POST(self) -> None:
            self._dispatch()

        def _reply(self, status: int, payload: Mapping[str, Any]) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _body(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            if not length:
                return {}
            data = json.loads(self.rfile.read(length) or b"{}")
            return data if isinstance(data, dict) else {}

        def _dispatch(self) -> None:
            path = urlsplit(self.path).path
            try:
                body = self._body()
                host.authorize(
                    insecure=self.headers.get("X-Talos-Insecure") == "1",
                    ca=self.headers.get("X-Talos-CA"),
                )
                self._reply(200, self._route(self.command, path, body))
            except TalosApiError as exc:
                self._reply(400, {"error": exc.message, "kind": exc.kind})
            except (ValueError, KeyError) as exc:
                self._reply(400, {"error": f"rpc error: code = InvalidArgument desc = {exc}"})

        def _route(  # noqa: PLR0911 - one return per API method reads best
            self, method: str, path: str, body: dict[str, Any]
        ) -> dict[str, Any]:
            if (method, path) == ("GET", "/v1/version"):
                return host.version()
            if (method, path) == ("GET", "/v1/disks"):
                return {"disks": host.disks()}
            if (method, path) == ("POST", "/v1/apply-config"):
                return {"message": host.apply_config(str(body["config"]))}
            if (method, path) == ("POST", "/v1/bootstrap"):
                host.bootstrap()
                return {}
            if (method, path) == ("GET", "/v1/kubeconfig"):
                return {"kubeconfig": host.kubeconfig()}
            if (method, path) == ("GET", "/v1/health"):
                return host.health()
            if (method, path) == ("POST", "/v1/reset"):
                host.reset(
                    graceful=bool(body.get("graceful", True)), reboot=bool(body.get("reboot"))
                )
                return {}
            if (method, path) == ("GET", "/v1/dmesg"):
                host.check_console()
                return {
                    "lines": [
                        {"at": line.at.isoformat(), "message": line.message}
                        for line in host.console()
                    ]
                }
            raise TalosApiError(
                "unimplemented", f"rpc error: code = Unimplemented desc = unknown method {path}"
            )

    return Handler
