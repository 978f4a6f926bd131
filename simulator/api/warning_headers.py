"""`Warning` headers as kube-apiserver writes them: code 299, no agent, the text quoted
(k8s.io/apiserver warning recorder), on success and error answers alike (AddWarningsHandler
writes them before the handler's own answer)."""

from __future__ import annotations

from typing import Any

from simulator.api.asgi import Send

__all__ = ["warning_first", "warning_header", "with_warnings"]


def warning_header(text: str) -> bytes:
    """A `Warning` header's value as kube-apiserver writes it (code 299, no agent, quoted)."""
    quoted = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'299 - "{quoted}"'.encode()


def warning_first(send: Send, warning: bytes) -> Send:
    """`send` with `warning` before the answer's own warnings (AddWarningsHandler's order)."""

    async def sending(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers") or [])
            at = next((i for i, (k, _) in enumerate(headers) if k == b"warning"), len(headers))
            message = {**message, "headers": [*headers[:at], (b"warning", warning), *headers[at:]]}
        await send(message)

    return sending


def with_warnings(send: Send, texts: list[str]) -> Send:
    """`send` with each of `texts` as a warning, in order, before the answer's own."""
    for text in reversed(texts):
        send = warning_first(send, warning_header(text))
    return send
