"""One keep-alive HTTP(S) connection, for the simulator's own clients of an API: the fake `flux`
CLI (the Kubernetes API) and the bootstrap session's status poller (the status service).

http.client rather than httpx: `flux` is a process per command (the bootstrapper runs one for
every install), and importing httpx (with the rich, click and pygments its own command line pulls
in) cost more CPU than all of an install's requests; the poller asks at every quiescent point of
a warped world, where httpx's own work per request was most of the poll.
"""

from __future__ import annotations

import http.client
import json
import select
from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit

# Neither dataclasses (it imports inspect) nor typing: `flux` imports this module on every run.
TYPE_CHECKING = False  # mypy reads this as true
if TYPE_CHECKING:
    import ssl
    from typing import Any

__all__ = ["ApiConnection", "ApiResponse"]


class ApiResponse:
    """A status and the body as text."""

    __slots__ = ("status_code", "text")

    def __init__(self, status_code: int, text: str) -> None:
        self.status_code = status_code
        self.text = text

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.text)


class ApiConnection:
    """The server at `server` (e.g. a kubeconfig's cluster URL), over one keep-alive connection.

    `timeout` bounds the connect and every read, in seconds.
    """

    def __init__(
        self,
        server: str,
        headers: Mapping[str, str] | None = None,
        context: ssl.SSLContext | None = None,
        *,
        timeout: float = 30.0,
    ) -> None:
        url = urlsplit(server)
        self._prefix = url.path.rstrip("/")
        self._headers = dict(headers or {})
        host, port = url.hostname or "localhost", url.port
        self._connection = (
            http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
            if url.scheme == "https"
            else http.client.HTTPConnection(host, port, timeout=timeout)
        )

    def close(self) -> None:
        self._connection.close()

    def get(self, path: str, *, headers: Mapping[str, str] | None = None) -> ApiResponse:
        return self.request("GET", path, headers=headers)

    def post(self, path: str, document: Any) -> ApiResponse:
        return self.request("POST", path, document=document)

    def patch(self, path: str, **options: Any) -> ApiResponse:
        return self.request("PATCH", path, **options)

    def request(
        self,
        method: str,
        path: str,
        *,
        document: Any = None,
        content: bytes | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ApiResponse:
        """One request; `document` is sent as JSON, `content` as it is."""
        sent = dict(self._headers)
        if document is not None:
            content = json.dumps(document).encode()
            sent["Content-Type"] = "application/json"
        sent.update(headers or {})
        target = self._prefix + path + (f"?{urlencode(params)}" if params else "")
        sock = self._connection.sock
        if sock is not None and select.select([sock], [], [], 0)[0]:
            # Readable while idle: the server closed the kept-alive connection; open a new one
            # (as httpx's pool does) rather than send into a closed one.
            self._connection.close()
        try:
            self._connection.request(method, target, body=content, headers=sent)
            response = self._connection.getresponse()
            body = response.read()
        except BaseException:
            # A request cut short leaves the connection mid-exchange: the next one starts afresh.
            self._connection.close()
            raise
        return ApiResponse(response.status, body.decode("utf-8", errors="replace"))
