"""Long-lived exchanges: watch streams (chunked JSON lines) and exec over websocket channels."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import msgspec

from simulator.api import tables
from simulator.api.asgi import Host, Receive, Request, Route, Scope, Send, first, truthy
from simulator.api.delivery import Stream
from simulator.api.impersonation import impersonated, wants_impersonation
from simulator.api.kinds import KindInfo
from simulator.api.media_types import (
    METADATA,
    METADATA_LIST,
    PLAIN,
    TABLE,
    Answer,
    metadata_of,
)
from simulator.api.rbac import RequestAttributes, UserInfo, authorize, forbidden_message
from simulator.api.request_errors import check_version_match, int_param, query_selectors
from simulator.api.selectors import (
    FieldSelector,
    LabelSelector,
    parse_field_selector,
)
from simulator.api.store import (
    BadRequestError,
    ExpiredError,
    ForbiddenError,
    StoreError,
    WatchEvent,
    pod_log,
    status_body,
)
from simulator.api.store.event_views import is_view, storage_key, stored_selector, to_view
from simulator.clock import VirtualClock

__all__ = ["BOOKMARK_INTERVAL_SECONDS", "exec_websocket", "follow_log", "pod_logs", "watch"]

_ENC = msgspec.json.Encoder()
# Wall seconds between bookmarks on a quiet watch (a real server sends them about every minute;
# shorter keeps clients' resume points fresh in a compressed replay).
BOOKMARK_INTERVAL_SECONDS = 5.0
_MAX_WATCH_SECONDS = 1800.0
_EXEC_PROTOCOLS = (
    "v5.channel.k8s.io",
    "v4.channel.k8s.io",
    "v3.channel.k8s.io",
    "v2.channel.k8s.io",
    "channel.k8s.io",
)


def _line(kind: str, obj: dict[str, Any]) -> bytes:
    return _ENC.encode({"type": kind, "object": obj}) + b"\n"


@dataclass
class _WatchSpec:
    """What one watch asked for."""

    info: KindInfo
    namespace: str
    labels: LabelSelector
    fields: FieldSelector
    bookmarks: bool
    initial: bool
    requested: str
    deadline: float
    # `kubectl get -w` asks for Tables: rows are rendered here, ages in the server's (virtual)
    # time; the column definitions come with the first event only, as kube-apiserver sends them.
    clock: VirtualClock
    # The negotiated answer: events' objects as they are, Table rows or metadata alone.
    answer: Answer = PLAIN
    headed: bool = False

    def matches(self, obj: dict[str, Any]) -> bool:
        meta = obj["metadata"]
        return (
            (not self.namespace or meta.get("namespace") == self.namespace)
            and self.labels.matches(meta.get("labels"))
            and self.fields.matches(obj)
        )

    def present(self, obj: dict[str, Any]) -> dict[str, Any]:
        if is_view(self.info):
            return to_view(obj)
        if obj.get("apiVersion") == self.info.api_version:
            return obj
        return {**obj, "apiVersion": self.info.api_version}

    def event(self, kind: str, obj: dict[str, Any]) -> bytes:
        """One watch line: the object, its Table row or its metadata."""
        if self.answer.convert == METADATA:
            return _line(kind, metadata_of(self.answer, self.info, obj))
        if self.answer.convert != TABLE:
            return _line(kind, self.present(obj))
        rv = str(obj["metadata"].get("resourceVersion", ""))
        doc = tables.table(self.info, [obj], self.clock.now(), rv)
        if self.headed:
            doc["columnDefinitions"] = []
        self.headed = True
        return _line(kind, doc)

    def bookmark(self, rv: int, *, initial_end: bool = False) -> bytes:
        meta: dict[str, Any] = {"resourceVersion": str(rv)}
        if initial_end:
            meta["annotations"] = {"k8s.io/initial-events-end": "true"}
        kind = {"kind": self.info.kind, "apiVersion": self.info.api_version, "metadata": meta}
        if self.answer.convert == METADATA:
            kind = metadata_of(self.answer, self.info, kind)
        return _line("BOOKMARK", kind)


def _watch_spec(
    route: Route, query: dict[str, list[str]], clock: VirtualClock, answer: Answer
) -> _WatchSpec:
    labels, fields = query_selectors(query, route.info)
    fields = stored_selector(route.info, fields) or fields  # a view's labels, as stored
    if route.name:
        fields = parse_field_selector(f"metadata.name={route.name}")
    given = int_param(query, "timeoutSeconds")  # a 400 in Go's words when not a number
    check_version_match(query, watch=True)
    timeout = _MAX_WATCH_SECONDS if given is None else given
    return _WatchSpec(
        info=route.info,
        namespace=route.namespace,
        labels=labels,
        fields=fields,
        bookmarks=first(query, "allowWatchBookmarks").lower() in ("1", "true"),
        initial=first(query, "sendInitialEvents").lower() in ("1", "true"),
        requested=first(query, "resourceVersion"),
        deadline=time.monotonic() + min(timeout, _MAX_WATCH_SECONDS),
        clock=clock,
        answer=answer,
    )


def _start(app: Host, spec: _WatchSpec) -> tuple[int, list[bytes]]:
    """The resourceVersion to resume from and the synthetic initial events, if any."""
    if spec.requested not in ("", "0") and not spec.initial:
        try:
            return int(spec.requested), []
        except ValueError as exc:
            raise BadRequestError(f"invalid resourceVersion {spec.requested!r}") from exc
    items, rv = app.store.list_refs(spec.info, namespace=spec.namespace or None)
    lines = [spec.event("ADDED", o) for o in items if spec.matches(o)]
    if spec.initial and spec.bookmarks:
        lines.append(spec.bookmark(rv, initial_end=True))
    return rv, lines


async def watch(
    app: Host,
    send: Send,
    receive: Receive,
    *,
    route: Route,
    query: dict[str, list[str]],
    answer: Answer = PLAIN,
    ticket: int = 0,
    participant: str = "",
    path: str = "",
) -> int:
    """Stream `{type, object}` lines until timeout, disconnect or a dropped-watch fault.

    In a warped world the stream's books (api/delivery.py) follow it: opened, each write, ended.
    """
    spec = _watch_spec(route, query, app.store.clock, answer)
    if answer.convert == METADATA_LIST:
        # kube-apiserver cannot encode an event's object as a list: its stream ends, empty.
        await app.respond(send, 200, b"", newline=False)
        return 200
    last_rv, start_lines = _start(app, spec)
    stream = None
    if app.delivery is not None:
        stream = app.delivery.open_stream(ticket, participant, path, last_rv)
        app.delivery.written(stream, last_rv, len(start_lines))
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"date", app.date_header()),
                (b"cache-control", b"no-cache, private"),
                (b"transfer-encoding", b"chunked"),
            ],
        }
    )
    if start_lines:
        await send({"type": "http.response.body", "body": b"".join(start_lines), "more_body": True})
    wake = asyncio.Event()
    disconnected = asyncio.Event()

    async def listen() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        disconnected.set()
        wake.set()

    app.watchers.add(wake)
    listener = asyncio.create_task(listen())
    try:
        await _pump(
            app, spec, send, wake=wake, disconnected=disconnected, last_rv=last_rv, stream=stream
        )
    finally:
        app.watchers.discard(wake)
        listener.cancel()
        if stream is not None and app.delivery is not None:
            app.delivery.close_stream(stream, by_server=not disconnected.is_set())
    if not disconnected.is_set():
        with contextlib.suppress(OSError, RuntimeError):
            await send({"type": "http.response.body", "body": b"", "more_body": False})
    return 200


async def _pump(
    app: Host,
    spec: _WatchSpec,
    send: Send,
    *,
    wake: asyncio.Event,
    disconnected: asyncio.Event,
    last_rv: int,
    stream: Stream | None = None,
) -> None:
    """Forward history entries past `last_rv` until the stream should end."""
    generation = app.drop_generation
    last_bookmark = time.monotonic()
    info = spec.info
    stored = storage_key(info.group, info.plural)
    while not disconnected.is_set() and not app.closing and generation == app.drop_generation:
        wake.clear()
        try:
            events = app.store.history.since(last_rv)
        except ExpiredError as exc:
            if stream is not None and app.delivery is not None:
                app.delivery.written(stream, last_rv, 1)
            await send(
                {
                    "type": "http.response.body",
                    "body": _line("ERROR", exc.status()),
                    "more_body": True,
                }
            )
            return
        chunk = [
            spec.event(kind, e.obj)
            for e in events
            if (e.group, e.plural) == stored
            for kind in _selected(spec, e)
        ]
        if events:
            last_rv = events[-1].rv
        now = time.monotonic()
        if spec.bookmarks and now - last_bookmark >= BOOKMARK_INTERVAL_SECONDS:
            chunk.append(spec.bookmark(last_rv))
            last_bookmark = now
        if stream is not None and app.delivery is not None:
            # Booked before the bytes leave: a client must never be seen acting on lines the
            # books do not know were sent.
            app.delivery.written(stream, last_rv, len(chunk))
        if chunk:
            await send({"type": "http.response.body", "body": b"".join(chunk), "more_body": True})
        remaining = spec.deadline - time.monotonic()
        if remaining <= 0:
            return
        wait = min(remaining, BOOKMARK_INTERVAL_SECONDS) if spec.bookmarks else remaining
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), timeout=wait)


def _selected(spec: _WatchSpec, event: WatchEvent) -> tuple[str, ...]:
    """The event type a selector watch sees: an object leaving the selection is DELETED for it,
    one entering it is ADDED, as the API server's watch cache reports them."""
    now = spec.matches(event.obj)
    if event.type != "MODIFIED" or event.previous is None:
        return (event.type,) if now else ()
    before = spec.matches(event.previous)
    if now and before:
        return ("MODIFIED",)
    if now:
        return ("ADDED",)
    return ("DELETED",) if before else ()


async def follow_log(
    app: Host,
    send: Send,
    receive: Receive,
    *,
    route: Route,
    container: str,
    first: bytes,
    offset: int,
) -> None:
    """`logs -f`: the log so far, then what is appended, until the pod goes or the client does."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"text/plain"),
                (b"date", app.date_header()),
                (b"transfer-encoding", b"chunked"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": first, "more_body": True})
    wake = asyncio.Event()
    disconnected = asyncio.Event()

    async def listen() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        disconnected.set()
        wake.set()

    app.watchers.add(wake)
    listener = asyncio.create_task(listen())
    generation = app.drop_generation
    try:
        while not disconnected.is_set() and not app.closing and generation == app.drop_generation:
            wake.clear()
            gone = app.store.get("v1", "Pod", route.name, route.namespace) is None
            text = app.store.logs.text(route.namespace, route.name, container)
            if len(text) > offset:
                await send(
                    {
                        "type": "http.response.body",
                        "body": text[offset:].encode(),
                        "more_body": True,
                    }
                )
                offset = len(text)
            if gone:
                break  # a real follow ends with the container
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=BOOKMARK_INTERVAL_SECONDS)
    finally:
        app.watchers.discard(wake)
        listener.cancel()
    if not disconnected.is_set():
        with contextlib.suppress(OSError, RuntimeError):
            await send({"type": "http.response.body", "body": b"", "more_body": False})


def _exec_status(code: int) -> bytes:
    if code == 0:
        return _ENC.encode({"metadata": {}, "status": "Success"})
    return _ENC.encode(
        {
            "metadata": {},
            "status": "Failure",
            "message": f"command terminated with non-zero exit code: exit status {code}",
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
        }
    )


async def pod_logs(app: Host, req: Request, route: Route) -> int:
    """GET pods/log: the container's log, its last `tailLines`, at most `limitBytes`; then, with
    `follow`, what the container writes next."""
    query = req.query
    container = first(query, "container") or None
    text = pod_log(app.store, route.namespace, route.name, container)
    sent = len(text)
    tail = int_param(query, "tailLines")
    if tail is not None:
        lines = text.splitlines(keepends=True)
        text = "".join(lines[-tail:]) if tail > 0 else ""
    data = text.encode()
    limit = int_param(query, "limitBytes")
    if limit is not None:
        data = data[:limit]
    if container is None:
        pod = app.store.get("v1", "Pod", route.name, route.namespace) or {}
        containers = (pod.get("spec") or {}).get("containers") or [{}]
        container = str(containers[0].get("name", ""))
    if not truthy(first(query, "follow")):
        await app.respond(req.send, 200, data, content_type=b"text/plain")
        return 200
    await follow_log(
        app, req.send, req.receive, route=route, container=container, first=data, offset=sent
    )
    return 200


async def _refuse_upgrade(app: Host, scope: Scope, send: Send, code: int, body: bytes) -> None:
    """Refuse a websocket upgrade as a real server does: a plain HTTP answer with the Status."""
    if "websocket.http.response" in (scope.get("extensions") or {}):
        await send(
            {
                "type": "websocket.http.response.start",
                "status": code,
                "headers": [(b"content-type", b"application/json"), (b"date", app.date_header())],
            }
        )
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        await send({"type": "websocket.close", "code": 1008})


async def exec_websocket(
    app: Host,
    scope: Scope,
    receive: Receive,
    send: Send,
    *,
    user: UserInfo | None,
    route: Route | None,
) -> None:
    """pods/exec over the channel protocol: 1 stdout, 2 stderr, 3 the Status with the exit code."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    query = parse_qs(scope["query_string"].decode("latin-1"), keep_blank_values=True)
    offered = list(scope.get("subprotocols") or [])
    protocol = next((p for p in _EXEC_PROTOCOLS if p in offered), None)
    if user is None or route is None or route.subresource != "exec" or protocol is None:
        await send({"type": "websocket.close", "code": 1008})
        return
    # The upgrade is a GET: kube-apiserver authorizes `get` on pods/exec, then `create` as well
    # (a websocket exec must not need less than the POST it replaces); both before it upgrades,
    # as the user the request impersonates, if any.
    asked = [
        RequestAttributes(
            verb=verb,
            group="",
            resource="pods",
            subresource="exec",
            namespace=route.namespace,
            name=route.name,
        )
        for verb in ("get", "create")
    ]
    try:
        if wants_impersonation(scope["headers"]):
            user = impersonated(app.store, user, scope["headers"], asked[0])
        for attrs in asked:
            if not authorize(app.store, user, attrs):
                refusal = forbidden_message(user, attrs)
                raise ForbiddenError(refusal, name=route.name, group="", kind="pods")
    except StoreError as exc:
        await _refuse_upgrade(app, scope, send, exc.code, _ENC.encode(exc.status()))
        return
    command = query.get("command", [])
    container = (query.get("container") or [""])[0]
    pod = app.store.get("v1", "Pod", route.name, route.namespace)
    await send({"type": "websocket.accept", "subprotocol": protocol})
    if pod is None:
        missing = status_body(404, "NotFound", f'pods "{route.name}" not found')
        await _send_channel(send, 3, _ENC.encode(missing))
        await send({"type": "websocket.close", "code": 1000})
        return
    if not container:
        containers = (pod.get("spec") or {}).get("containers") or [{}]
        container = str(containers[0].get("name", ""))
    stdout, stderr, code = await asyncio.to_thread(
        app.store.execs.run, route.namespace, route.name, container, command
    )
    if stdout and (query.get("stdout") or ["1"])[0].lower() in ("1", "true"):
        await _send_channel(send, 1, stdout.encode())
    if stderr and (query.get("stderr") or ["1"])[0].lower() in ("1", "true"):
        await _send_channel(send, 2, stderr.encode())
    await _send_channel(send, 3, _exec_status(code))
    await send({"type": "websocket.close", "code": 1000})


async def _send_channel(send: Send, channel: int, data: bytes) -> None:
    await send({"type": "websocket.send", "bytes": bytes([channel]) + data})
