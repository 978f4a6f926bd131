"""What every part of the fake API shares: the ASGI types, a parsed request, and the `Host`.

`Host` is what the request handlers (`crud`, `reviews`, `streams`) need of the application
(`app.ApiApp`): the store, the responder and the watch wake-ups. They depend on it, never on
the application module, so the modules form no import cycle.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from simulator.api.kinds import KindInfo
from simulator.api.media_types import PLAIN, Answer
from simulator.api.rbac import RequestAttributes, TokenBook, UserInfo
from simulator.api.store import ObjectStore

if TYPE_CHECKING:
    from simulator.api.delivery import Delivery

__all__ = [
    "JSON",
    "Host",
    "Receive",
    "Request",
    "Route",
    "Scope",
    "Send",
    "first",
    "header",
    "header_map",
    "read_body",
    "truthy",
]

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

JSON = b"application/json"


def first(query: dict[str, list[str]], key: str, default: str = "") -> str:
    """The first value of a query parameter."""
    values = query.get(key)
    return values[0] if values else default


def truthy(value: str) -> bool:
    """A query flag as the API server reads it (`true`, `1`)."""
    return value.lower() in ("1", "true", "yes")


def header(scope: Scope, name: bytes) -> str:
    """A request header (latin-1), or ''."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return ""


def header_map(scope: Scope) -> dict[bytes, str]:
    """Every request header (latin-1), the first of each name: read once per request."""
    found: dict[bytes, str] = {}
    for key, value in scope["headers"]:
        if key not in found:
            found[key] = value.decode("latin-1")
    return found


async def read_body(receive: Receive) -> bytes:
    """The whole request body."""
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


class Route(NamedTuple):
    """A parsed resource path (a NamedTuple: immutable, and cheap to build for every request)."""

    info: KindInfo
    namespace: str
    name: str
    subresource: str

    def attributes(self, verb: str) -> RequestAttributes:
        """What a request with `verb` on this path does, in RBAC terms: a Namespace's own path
        is in that namespace (kube-apiserver's RequestInfo reads `/namespaces/X` so), so a
        RoleBinding in X may grant it."""
        namespace = self.namespace
        if not namespace and self.info.plural == "namespaces" and not self.info.group:
            namespace = self.name
        return RequestAttributes(
            verb=verb,
            group=self.info.group,
            resource=self.info.plural,
            subresource=self.subresource,
            namespace=namespace,
            name=self.name,
        )


@dataclass
class Request:
    """One HTTP request as the handlers see it."""

    scope: Scope
    receive: Receive
    send: Send
    method: str
    path: str
    query: dict[str, list[str]]
    user: UserInfo | None
    route: Route | None
    verb: str
    body: bytes = b""
    headers: dict[bytes, str] | None = None  # header_map(scope), when the caller has it
    # What the answer is (media_types.negotiate), once the endpoint has negotiated it.
    answer: Answer = PLAIN

    def param(self, key: str, default: str = "") -> str:
        """The first value of a query parameter."""
        return first(self.query, key, default)

    def header(self, name: bytes) -> str:
        """A request header (latin-1), or ''."""
        if self.headers is None:
            self.headers = header_map(self.scope)
        return self.headers.get(name, "")


class Host(Protocol):
    """What the handlers need of the application."""

    store: ObjectStore
    tokens: TokenBook
    # What the API still owes its clients in a warped world (api/delivery.py), else None.
    delivery: Delivery | None
    # One event per open stream, set on every store change; a drop ends every stream.
    watchers: set[asyncio.Event]
    drop_generation: int
    closing: bool

    def date_header(self) -> bytes:
        """`Date` in virtual time."""
        ...

    async def respond(
        self,
        send: Send,
        status: int,
        body: bytes,
        *,
        content_type: bytes = JSON,
        headers: list[tuple[bytes, bytes]] | None = None,
        newline: bool = True,
    ) -> None:
        """Send a complete response."""
        ...
