"""One HTTP request to one of our own loopback fakes, for the fake CLIs that start per call.

`talosctl` runs a fresh interpreter for every poll of the bootstrapper (twenty in a demo run),
and each one asks the Talos endpoint and the clock endpoint a question or two. `http.client`
(and `urllib.request` on top of it) costs 45-55 ms of imports per start (the email parser, ssl),
more than the rest of the CLI; these fakes answer plain HTTP/1.1 with a Content-Length, so a
request over a socket that the server closes after its answer is all a call needs.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping

__all__ = ["Answer", "request"]


class Answer:
    """A status, its reason phrase and the body."""

    def __init__(self, status: int, reason: str, body: bytes) -> None:
        self.status = status
        self.reason = reason
        self.body = body


def request(
    host: str,
    port: int,
    method: str,
    target: str,
    *,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> Answer:
    """Send one request (`Connection: close`) and read the answer to the end.

    Raises OSError (refused, reset, `TimeoutError`) like a socket does, and ValueError when
    what came back is not an HTTP answer.
    """
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}:{port}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body is not None or method == "POST":
        lines.append(f"Content-Length: {len(body or b'')}")
    payload = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(payload)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, separator, rest = b"".join(chunks).partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = status_line.split(" ", 2)
    if (
        not separator
        or len(parts) < 2
        or not parts[0].startswith("HTTP/")
        or not parts[1].isdigit()
    ):
        raise ValueError(f"not an HTTP answer from {host}:{port}: {status_line[:80]!r}")
    length = _content_length(head)
    return Answer(int(parts[1]), parts[2] if len(parts) > 2 else "", rest[:length])


def _content_length(head: bytes) -> int | None:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            return int(value.strip())
    return None
