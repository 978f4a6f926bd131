"""The warning kube-apiserver adds to every answer of a deprecated kind's handlers
(k8s.io/apiserver endpoints/deprecation, from k8s.io/api's lifecycle.go): of the kinds the fake API
serves, only v1 Endpoints is deprecated in v1.37 (since v1.33, for discovery.k8s.io/v1
EndpointSlice). `kubectl get endpoints` prints it as `Warning: ...`.
"""

from __future__ import annotations

from typing import Any

from simulator.api.asgi import Send
from simulator.api.crud import warning_header
from simulator.api.kinds import KindInfo

__all__ = ["deprecation_warning", "warning_first"]

_DEPRECATED = {
    ("", "endpoints"): warning_header(
        "v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice"
    )
}


def deprecation_warning(info: KindInfo) -> bytes | None:
    """The `Warning` header's value for a request to `info`'s resource, if it is deprecated."""
    return _DEPRECATED.get((info.group, info.plural))


def warning_first(send: Send, warning: bytes) -> Send:
    """`send` with `warning` before the answer's own warnings (AddWarningsHandler's order)."""

    async def sending(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers") or [])
            at = next((i for i, (k, _) in enumerate(headers) if k == b"warning"), len(headers))
            message = {**message, "headers": [*headers[:at], (b"warning", warning), *headers[at:]]}
        await send(message)

    return sending
