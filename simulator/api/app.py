"""The raw ASGI application of the fake Kubernetes API: routing, auth, CRUD, tables and logs.

Raw ASGI rather than a framework because the API is protocol-shaped: long-lived chunked watch
streams, websocket exec channels, content negotiation on `Accept` parameters (Table, aggregated
discovery) and patch flavours on `Content-Type`; see docs/simulator-api.md for the evaluation.
"""

from __future__ import annotations

import asyncio
import email.utils
import itertools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

import msgspec

from simulator.api import discovery, streams
from simulator.api.asgi import (
    JSON,
    Receive,
    Request,
    Route,
    Scope,
    Send,
    first,
    header_map,
    read_body,
    truthy,
)
from simulator.api.crud import Crud
from simulator.api.delivery import PARTICIPANT_HEADER, Delivery
from simulator.api.deprecation import deprecation_warning
from simulator.api.faults import FaultPlan
from simulator.api.health import health_answer
from simulator.api.impersonation import impersonated, wants_impersonation
from simulator.api.media_types import error_body
from simulator.api.openapi import Documents
from simulator.api.protobuf_answers import answer_as_negotiated, prefers_protobuf, protobuf_answers
from simulator.api.rbac import (
    RequestAttributes,
    TokenBook,
    UserInfo,
    authorize,
    forbidden_message,
)
from simulator.api.request_errors import page_not_found, refuse_method, refuse_unserved
from simulator.api.store import (
    BadRequestError,
    ForbiddenError,
    NotFoundError,
    ObjectStore,
    StoreError,
    status_body,
)
from simulator.api.subresources import ACTIONS, SUBRESOURCES
from simulator.api.warning_headers import warning_first

__all__ = ["ApiApp", "RequestRecord"]

_ENC = msgspec.json.Encoder()
_REQUEST_LOG_LIMIT = 200_000
_OPENAPI_V2_PROTOBUF = b"application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
_ANONYMOUS_PATHS = frozenset({"/healthz", "/livez", "/readyz", "/version"})
# What a recorded request needs to be sent again (`appliance-sim fidelity` replays the log).
_REPLAY_HEADERS = frozenset((b"content-type", b"accept", b"user-agent"))
_WRITE_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch"}


@dataclass(slots=True)
class RequestRecord:
    """One served request, for tests and scenarios to query."""

    method: str
    path: str
    query: str
    user: str
    status: int
    verb: str
    resource: str
    namespace: str
    name: str
    subresource: str
    virtual_time: datetime
    # In the order requests arrived (a watch is logged when it ends, so the log is not).
    arrival: int = 0
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


class ApiApp:
    """The ASGI callable. Shared state (store, tokens, faults, log) is owned by `ApiServer`."""

    def __init__(
        self,
        store: ObjectStore,
        *,
        tokens: TokenBook,
        faults: FaultPlan,
        request_log: list[RequestRecord],
        git_version: str,
        delivery: Delivery | None = None,
    ) -> None:
        self.store = store
        # Set in a warped world: what the API still owes its clients (api/delivery.py).
        self.delivery = delivery
        self.tokens = tokens
        self.faults = faults
        self.request_log = request_log
        self.git_version = git_version
        self.server_address = "127.0.0.1:0"
        self.loop: asyncio.AbstractEventLoop | None = None
        self.watchers: set[asyncio.Event] = set()
        self.drop_generation = 0
        self.closing = False
        self._removers: list[Callable[[], None]] = []
        # The last instant asked, its second, and that second's Date text.
        self._date_cache: tuple[datetime | None, datetime | None, bytes] = (None, None, b"")
        self.openapi = Documents(store.registry, git_version)
        self._arrivals = itertools.count(1)
        crud = Crud(self)
        self._handlers: dict[str, Callable[[Request, Route, UserInfo], Awaitable[int]]] = {
            "get": crud.get,
            "list": crud.list,
            "create": crud.create,
            "update": crud.update,
            "patch": crud.patch,
            "delete": crud.delete,
            "deletecollection": crud.delete_collection,
        }

    # ----------------------------------------------------------------- lifecycle

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Bind to the server's event loop and start listening for store changes and faults."""
        self.loop = loop
        self._removers.append(self.store.changes.add_listener(self._wake_threadsafe))
        self._removers.append(self.faults.on_drop_watches(self._drop_threadsafe))

    def detach(self) -> None:
        """Stop listening (server shutdown)."""
        for remove in self._removers:
            remove()
        self._removers.clear()

    def close_streams(self) -> None:
        """End every open watch (called before uvicorn shuts down so it need not wait)."""
        self.closing = True
        self._drop_threadsafe()

    def _wake_threadsafe(self) -> None:
        loop = self.loop
        # Waking the loop is a syscall per write: skip it when nobody watches.
        if self.watchers and loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake)

    def _drop_threadsafe(self) -> None:
        loop = self.loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._drop)

    def _wake(self) -> None:
        for event in self.watchers:
            event.set()

    def _drop(self) -> None:
        self.drop_generation += 1
        self._wake()

    # ----------------------------------------------------------------- ASGI entry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            parsed = self.route(scope["path"])
            route = self.resolve(*parsed) if parsed else None
            user = self.authenticate(scope)
            await streams.exec_websocket(self, scope, receive, send, user=user, route=route)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.attach(asyncio.get_running_loop())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.detach()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def date_header(self) -> bytes:
        """`Date` in virtual time: production code measures elapsed time against it."""
        now = self.store.clock.now()
        instant, second, text = self._date_cache
        if now != instant:  # the same instant (a frozen clock) skips replace(), a slow call
            at = now.replace(microsecond=0)
            if at != second:
                text = email.utils.format_datetime(at, usegmt=True).encode()
            self._date_cache = (now, at, text)
        return text

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
        """Send a complete response (JSON ends with a newline, as Go's json.Encoder writes it)."""
        if newline and content_type.startswith(JSON) and body and not body.endswith(b"\n"):
            body += b"\n"
        base = [
            (b"content-type", content_type),
            (b"content-length", str(len(body)).encode()),
            (b"date", self.date_header()),
            (b"cache-control", b"no-cache, private"),
        ]
        await send(
            {"type": "http.response.start", "status": status, "headers": base + (headers or [])}
        )
        await send({"type": "http.response.body", "body": body})

    def authenticate(
        self, scope: Scope, headers: dict[bytes, str] | None = None
    ) -> UserInfo | None:
        """The user behind the request's bearer token, or None."""
        text = (headers if headers is not None else header_map(scope)).get(b"authorization", "")
        if text[:7].lower() == "bearer ":
            return self.tokens.lookup(text[7:].strip())
        return None

    def route(self, path: str) -> tuple[str, str, list[str]] | None:
        """Split a resource path into (group, version, rest) or None when not a resource path."""
        parts = [p for p in path.split("/") if p]
        if len(parts) >= 3 and parts[0] == "api":
            return "", parts[1], parts[2:]
        if len(parts) >= 4 and parts[0] == "apis":
            return parts[1], parts[2], parts[3:]
        return None

    def resolve(self, group: str, version: str, rest: list[str]) -> Route | None:
        """Map the path remainder onto a served kind, namespace, name and subresource."""
        registry = self.store.registry
        if len(rest) >= 3 and rest[0] == "namespaces":
            info = registry.by_resource(group, version, rest[2])
            if info is not None and info.namespaced:
                return Route(info, rest[1], rest[3] if len(rest) > 3 else "", _at(rest, 4))
        info = registry.by_resource(group, version, rest[0])
        if info is None or len(rest) > 3:
            return None
        return Route(info, "", rest[1] if len(rest) > 1 else "", _at(rest, 2))

    # ----------------------------------------------------------------- HTTP

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        method: str = scope["method"]
        path: str = scope["path"]
        raw_query = scope["query_string"].decode("latin-1")
        query = parse_qs(raw_query, keep_blank_values=True) if raw_query else {}
        headers = header_map(scope)
        user = self.authenticate(scope, headers)
        parsed = self.route(path)
        route = self.resolve(*parsed) if parsed else None
        verb = _verb(method, route, query)
        if (
            route is not None
            and not route.info.crd_name
            and prefers_protobuf(headers.get(b"accept", ""))
        ):
            send = protobuf_answers(send)  # client-go's first choice, for built-in kinds
        now = self.store.clock.now()
        status = 500
        delivery = self.delivery
        if delivery is not None:
            delivery.request_started(id(scope))
            if verb == "watch":
                delivery.watch_requested(headers.get(PARTICIPANT_HEADER, ""), path)
        arrival = next(self._arrivals)
        body = b""
        request: Request | None = None
        try:
            if user is None and path.rstrip("/") not in _ANONYMOUS_PATHS:
                status = 401
                await self.respond(
                    send, 401, _ENC.encode(status_body(401, "Unauthorized", "Unauthorized"))
                )
                return
            if user is not None and wants_impersonation(scope["headers"]):
                act = route.attributes(verb) if route else RequestAttributes(verb=verb, path=path)
                user = impersonated(self.store, user, scope["headers"], act)
            for fault in self.faults.take(verb, path, now) if self.faults.active else ():
                if fault.latency_seconds:
                    await asyncio.sleep(fault.latency_seconds)
                if fault.status:
                    status = fault.status
                    await self._fault_response(send, fault.status, fault.message, fault)
                    return
            body = await read_body(receive) if method in ("POST", "PUT", "PATCH", "DELETE") else b""
            request = Request(
                scope, receive, send, method, path, query, user, route, verb, body, headers
            )
            status = await self._dispatch(request)
        except StoreError as exc:
            status = exc.code
            answer = request.send if request is not None else send  # with its warnings
            await self._error(answer, exc, headers.get(b"accept", ""))
        finally:
            if delivery is not None:
                delivery.request_finished(id(scope))
            self.request_log.append(
                RequestRecord(
                    method=method,
                    path=path,
                    query=raw_query,
                    user=user.name if user else "",
                    status=status,
                    verb=verb,
                    resource=route.info.plural if route else "",
                    namespace=route.namespace if route else "",
                    name=route.name if route else "",
                    subresource=route.subresource if route else "",
                    virtual_time=now,
                    arrival=arrival,
                    headers=tuple(
                        [
                            (key.decode(), value.decode("latin-1"))
                            for key, value in scope["headers"]
                            if key in _REPLAY_HEADERS
                        ]
                    ),
                    body=body,
                )
            )
            if len(self.request_log) > _REQUEST_LOG_LIMIT:
                # Long replays with polling clients must not grow memory without bound.
                del self.request_log[: _REQUEST_LOG_LIMIT // 2]

    async def _error(self, send: Send, exc: StoreError, accept: str) -> None:
        retry = [(b"retry-after", str(exc.retry_after).encode())] if exc.retry_after else []
        body, newline = error_body(_ENC.encode(exc.status()), accept)
        await self.respond(send, exc.code, body, headers=retry, newline=newline)

    async def _fault_response(self, send: Send, code: int, message: str, fault: Any) -> None:
        reasons = {429: "TooManyRequests", 503: "ServiceUnavailable", 504: "Timeout"}
        headers = []
        if fault.retry_after_seconds is not None:
            headers.append((b"retry-after", str(fault.retry_after_seconds).encode()))
        text = message or f"injected fault: HTTP {code}"
        body = status_body(code, reasons.get(code, "InternalError"), text)
        await self.respond(send, code, _ENC.encode(body), headers=headers)

    async def _dispatch(self, req: Request) -> int:
        route, user, send = req.route, req.user, req.send
        if route is None:  # RBAC's nonResourceURLs decide, as for any path (anonymous: above)
            asked = RequestAttributes(verb=req.verb, path=req.path)
            if user is not None and not authorize(self.store, user, asked):
                raise ForbiddenError(forbidden_message(user, asked))
            return await self._non_resource(req)
        assert user is not None
        info = route.info
        attrs = route.attributes(req.verb)
        if not authorize(self.store, user, attrs):
            message = forbidden_message(user, attrs)
            raise ForbiddenError(message, name=route.name, group=info.group, kind=info.plural)
        refuse_unserved(req.verb, route)
        if (deprecation := deprecation_warning(info)) is not None:
            req.send = send = warning_first(send, deprecation)  # errors' answers too
        if route.subresource and route.subresource not in info.subresources:
            raise NotFoundError("the server could not find the requested resource")
        if route.subresource in ("", "status"):  # logs, exec and scale answer their own way
            send = answer_as_negotiated(req, info)
        if route.subresource == "log":
            return await streams.pod_logs(self, req, route)
        if route.subresource == "exec":
            raise BadRequestError("Upgrade request required")
        special = (
            SUBRESOURCES.get(route.subresource)
            if route.subresource
            else ACTIONS.get((info.group, info.plural))
        )
        if special is not None:
            return await special(self, req, route, user)
        if req.verb == "watch":
            return await streams.watch(
                self,
                send,
                req.receive,
                route=route,
                query=req.query,
                answer=req.answer,
                ticket=id(req.scope),
                participant=req.header(PARTICIPANT_HEADER),
                path=req.path,
            )
        refuse_method(req.verb, route)
        handler = self._handlers.get(req.verb)
        if handler is None:
            raise BadRequestError(f"unsupported verb {req.verb} for {info.plural}")
        return await handler(req, route, user)

    async def _non_resource(self, req: Request) -> int:  # noqa: PLR0912 - a branch per endpoint
        # kube-apiserver serves discovery with and without a trailing slash (`/api/`, `/version/`).
        send, method, path = req.send, req.method, req.path.rstrip("/") or "/"
        accept = req.header(b"accept")
        registry = self.store.registry
        doc: Any = None
        content_type = JSON
        if (fixed := self._fixed_document(req, path)) is not None:
            body, kind, headers, newline = fixed
            await self.respond(send, 200, body, content_type=kind, headers=headers, newline=newline)
            return 200
        if path in ("/api", "/apis"):
            if "as=APIGroupDiscoveryList" in accept and "v=v2" in accept:
                doc = discovery.aggregated(registry, legacy=path == "/api")
                content_type = discovery.AGGREGATED_CONTENT_TYPE.encode()
            elif path == "/api":
                doc = discovery.api_versions(self.server_address)
            else:
                doc = discovery.api_group_list(registry)
        elif path == "/openapi/v2" and method == "GET" and "protobuf" in accept:
            # kubectl asks for protobuf (explain --output=plaintext-openapiv2, and group versions
            # v3 does not list); the definitions there answer it as kube-apiserver's would.
            proto = self.openapi.v2_protobuf()
            await self.respond(send, 200, proto, content_type=_OPENAPI_V2_PROTOBUF)
            return 200
        elif path.startswith("/openapi/") and method == "GET":
            document = self.openapi.at(path)
            if document is not None:
                # kube-apiserver's /openapi/v3 index names no type; Go's sniffing calls it text.
                kind = (
                    b"text/plain; charset=utf-8" if path == "/openapi/v3" else b"application/json"
                )
                await self.respond(
                    send, 200, document, content_type=kind, headers=[(b"vary", b"Accept")]
                )
                return 200
        else:
            parts = [p for p in path.split("/") if p]
            if len(parts) == 2 and parts[0] == "api":
                doc = discovery.api_resource_list(registry, "", parts[1])
            elif len(parts) == 2 and parts[0] == "apis":
                doc = discovery.api_group(registry, parts[1])
            elif len(parts) == 3 and parts[0] == "apis":
                doc = discovery.api_resource_list(registry, parts[1], parts[2])
        if doc is None or method != "GET":
            body, kind = page_not_found(path, registry)
            await self.respond(send, 404, body, content_type=kind)
            return 404
        await self.respond(
            send, 200, _ENC.encode(doc), content_type=content_type, headers=[(b"vary", b"Accept")]
        )
        return 200

    def _fixed_document(
        self, req: Request, path: str
    ) -> tuple[bytes, bytes, list[tuple[bytes, bytes]], bool] | None:
        """(body, content type, headers, newline) of an endpoint that is no API: health, the
        version, the token issuer's discovery documents; None for any other path."""
        if (health := health_answer(req.path, req.query)) is not None:  # "/livez/" is a 404
            plain = b"text/plain; charset=utf-8"
            return health, plain, [(b"x-content-type-options", b"nosniff")], True
        if req.method != "GET":
            return None
        if path == "/version":
            # kube-apiserver writes it indented, with no newline at the end (WriteRawJSON).
            version = json.dumps(discovery.version_info(self.git_version), indent=2).encode()
            return version, JSON, [], False
        if issued := self.tokens.issuer.document(path, self.server_address):
            body, kind, cache = issued
            return body, kind, [(b"cache-control", cache)], False
        return None


def _at(parts: list[str], index: int) -> str:
    return parts[index] if len(parts) > index else ""


def _verb(method: str, route: Route | None, query: dict[str, list[str]]) -> str:
    if route is None:
        return method.lower()
    if method == "GET":
        if route.name:
            return "get"
        return "watch" if truthy(first(query, "watch")) else "list"
    if method == "DELETE":
        return "delete" if route.name else "deletecollection"
    return _WRITE_VERBS.get(method) or method.lower()
