"""Reading the API's HTTP responses for the watch cache: watch streams line by line, closing a
read that blocks, and the three failures that decide between retrying, relisting and "none yet".
"""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Iterator
from typing import Any

# The three failures are the watch cache's control flow, never raised past it: private names.
__all__ = ["check_status", "close_quietly", "decode", "events", "short"]


class _Relist(Exception):
    """The watch cannot continue from its resourceVersion (410 Gone or an ERROR event)."""


class _ApiFailure(Exception):
    """The API answered with an error status or could not be reached; the message says which."""


class _Missing(Exception):
    """The collection does not exist on this cluster (CRD not installed)."""


def events(response: Any) -> Iterator[dict[str, Any]]:
    """Watch events from a streaming response, one JSON document per line."""
    raw = response.response
    pending = b""
    for chunk in raw.stream(4096, decode_content=True):
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            if line.strip():
                yield decode(line)
    if pending.strip():
        yield decode(pending)


def decode(line: bytes) -> dict[str, Any]:
    """One watch event from one line of the stream."""
    try:
        event = json.loads(line)
    except ValueError as exc:
        raise _ApiFailure(f"watch stream sent a line that is not JSON: {exc}") from exc
    if not isinstance(event, dict):
        raise _ApiFailure("watch stream sent a JSON value that is not an event object")
    return event


def short(exc: BaseException) -> str:
    """An exception as at most 200 characters of text."""
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def close_quietly(response: Any) -> None:
    """Close a response, waking any thread blocked reading it."""
    raw = getattr(response, "response", None)
    # Closing a response does not wake a thread blocked reading it; shutting the socket does.
    connection = getattr(raw, "connection", None)
    sock = getattr(connection, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    for target, method in ((raw, "release_conn"), (raw, "close"), (response, "close")):
        action = getattr(target, method, None)
        if callable(action):
            with contextlib.suppress(Exception):  # closing is best effort during shutdown
                action()


def check_status(response: Any, path: str, *, kind: str | None, optional: bool = False) -> None:
    """Return when `response` is a success; else close it and raise what its status means."""
    status = int(response.status)
    if 200 <= status < 300:
        return
    detail = ""
    try:
        body = json.loads(response.read())
        if isinstance(body, dict):
            detail = str(body.get("message") or body.get("reason") or "")
    except Exception:  # the body is only decoration for the message
        detail = ""
    finally:
        close_quietly(response)
    if status == 404 and optional:
        raise _Missing(path)
    if status == 410:
        raise _Relist
    what = kind or path
    hint = {
        401: "the token is not accepted; check the service account token",
        403: "the service account lacks read access; apply the appliance-status-readonly "
        "ClusterRole and binding",
    }.get(status, "retrying")
    raise _ApiFailure(
        f"reading {what} ({path}) failed: HTTP {status}"
        + (f" {detail}" if detail else "")
        + f"; {hint}"
    )
