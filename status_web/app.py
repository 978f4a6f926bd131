"""The Litestar application: routes, the token gate, and the live event stream.

Every request is answered from the provider's latest observation in memory; nothing here talks to
Kubernetes. Who may reach which route, and the headers every response carries, are
`status_web.access`'s job.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Litestar, MediaType, Request, Response, get, head, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.spec import Components, SecurityScheme
from litestar.params import Body, FromQuery
from litestar.plugins.pydantic import PydanticPlugin
from litestar.response import ServerSentEvent, ServerSentEventMessage
from pydantic import BaseModel

from appliance.canonical import ApplianceStatus
from status_web.access import (
    PAGE,
    PUBLIC,
    Access,
    authenticate,
    client_address,
    error_response,
    login_cookie,
    logout_cookie,
    safe_next,
    security_headers,
    too_many,
)
from status_web.authenticating import DEFAULT_SESSION_SECONDS, FailureLimiter, TokenGate
from status_web.observations import Observation, StatusProvider
from status_web.payloads import (
    Diagnostics,
    ErrorBody,
    Health,
    Overview,
    diagnostics_of,
    overview_of,
    status_of,
)
from status_web.rendering import (
    age_text,
    render_diagnostics,
    render_login,
    render_overview,
    render_waiting,
)
from status_web.token_source import TokenSource

__all__ = ["LoginForm", "create_app"]

log = logging.getLogger("status_web")

_AUTH_RESPONSES = {
    401: ResponseSpec(ErrorBody, description="No valid token: send `Authorization: Bearer`."),
    429: ResponseSpec(ErrorBody, description="Too many wrong tokens from this address."),
}
_STATUS_RESPONSES = {
    **_AUTH_RESPONSES,
    503: ResponseSpec(ErrorBody, description="The first reading of the cluster is not done yet."),
}


@dataclass(frozen=True)
class LoginForm:
    """The login form's fields."""

    token: str
    next: str = "/"


class _NotReady(HTTPException):
    status_code = 503


@dataclass(frozen=True)
class _Settings:
    provider: StatusProvider
    access: Access
    events_poll_seconds: float
    events_tick_seconds: float
    events_lifetime_seconds: float
    bodies: _BodyCache


def _settings(request: Request[Any, Any, Any]) -> _Settings:
    settings: _Settings = request.app.state.status_settings
    return settings


def _latest(request: Request[Any, Any, Any]) -> Observation:
    observation = _settings(request).provider.latest()
    if observation is None:
        raise _NotReady(
            detail="the status service is still reading the cluster for the first time; "
            "retry in a few seconds",
            headers={"Retry-After": "2"},
        )
    return observation


def _not_ready_handler(_: Request[Any, Any, Any], exc: _NotReady) -> Response[Any]:
    return error_response(503, "not_ready", str(exc.detail), dict(exc.headers or {}))


def _freshness_headers(observation: Observation) -> dict[str, str]:
    return {
        "X-Status-Age-Seconds": f"{observation.age_seconds:.1f}",
        "X-Status-Stale": "true" if observation.stale else "false",
    }


@get("/healthz", opt={PUBLIC: True}, tags=["health"], security=[{}])
async def healthz() -> Health:
    """Liveness and readiness of the service itself; reveals nothing about the appliance."""
    return Health()


@head("/healthz", opt={PUBLIC: True}, tags=["health"], security=[{}], include_in_schema=False)
async def healthz_head() -> None:
    """`curl -I` and load balancers ask with HEAD: the same answer without a body."""


class _BodyCache:
    """Serialized bodies per status version: a status changes every few seconds at most, while
    a page left open and scripts polling ask for it far more often."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[tuple[int, int, bool], bytes]] = {}

    def get(self, name: str, observation: Observation, build: Callable[[], BaseModel]) -> bytes:
        key = (observation.version, id(observation.status), observation.stale)
        entry = self._entries.get(name)
        if entry is not None and entry[0] == key:
            return entry[1]
        body = build().model_dump_json(by_alias=True).encode()
        self._entries[name] = (key, body)
        return body


def _json(body: bytes, observation: Observation) -> Response[Any]:
    return Response(
        content=body, media_type=MediaType.JSON, headers=_freshness_headers(observation)
    )


@get("/api/status", tags=["status"], responses=_STATUS_RESPONSES)
async def api_status(request: Request[Any, Any, Any]) -> Response[ApplianceStatus]:
    """The canonical appliance status (camelCase JSON); when stale, `cluster.reachable` is false."""
    observation = _latest(request)
    body = _settings(request).bodies.get("status", observation, lambda: status_of(observation))
    return _json(body, observation)


@get("/api/overview", tags=["status"], responses=_STATUS_RESPONSES)
async def api_overview(request: Request[Any, Any, Any]) -> Response[Overview]:
    """Install state, current phase, login URL (once ready), next action, message, timestamp."""
    # Not cached: ageSeconds is part of the body and moves every second.
    observation = _latest(request)
    return Response(content=overview_of(observation), headers=_freshness_headers(observation))


@get("/api/diagnostics", tags=["status"], responses=_STATUS_RESPONSES)
async def api_diagnostics(request: Request[Any, Any, Any]) -> Response[Diagnostics]:
    """Tiers, components, blockers, events, Flux objects and the support-bundle command."""
    observation = _latest(request)
    return Response(content=diagnostics_of(observation), headers=_freshness_headers(observation))


async def _event_stream(settings: _Settings) -> AsyncIterator[ServerSentEventMessage]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + settings.events_lifetime_seconds
    sent_version: int | None = None
    sent_at = float("-inf")
    while True:
        observation = settings.provider.latest()
        version = observation.version if observation is not None else 0
        now = loop.time()
        if version != sent_version or now - sent_at >= settings.events_tick_seconds:
            payload: dict[str, Any] = {"version": version}
            if observation is not None:
                payload.update(
                    installState=observation.status.rollup.state.value,
                    ageSeconds=round(observation.age_seconds, 1),
                    ageText=age_text(observation.age_seconds),
                    stale=observation.stale,
                )
            yield ServerSentEventMessage(
                data=json.dumps(payload), event="status", id=version, retry=3000
            )
            sent_version, sent_at = version, now
        if now >= deadline:
            # Browsers reconnect by themselves; ending streams keeps stuck clients bounded.
            return
        await asyncio.sleep(settings.events_poll_seconds)


@get("/api/events", tags=["status"], responses=_AUTH_RESPONSES, media_type="text/event-stream")
async def api_events(request: Request[Any, Any, Any]) -> ServerSentEvent:
    """Server-sent events: `status` with the status version and age, on change and periodically."""
    return ServerSentEvent(_event_stream(_settings(request)))


def _page_response(content: str, status_code: int = 200) -> Response[str]:
    return Response(content=content, media_type=MediaType.HTML, status_code=status_code)


@get("/", opt={PAGE: True}, tags=["pages"], media_type=MediaType.HTML, responses=_AUTH_RESPONSES)
async def overview_page(request: Request[Any, Any, Any]) -> Response[str]:
    """The overview page (HTML)."""
    observation = _settings(request).provider.latest()
    if observation is None:
        return _page_response(render_waiting(here="overview"))
    return _page_response(render_overview(observation))


@get(
    "/diagnostics",
    opt={PAGE: True},
    tags=["pages"],
    media_type=MediaType.HTML,
    responses=_AUTH_RESPONSES,
)
async def diagnostics_page(request: Request[Any, Any, Any]) -> Response[str]:
    """The diagnostics page (HTML)."""
    observation = _settings(request).provider.latest()
    if observation is None:
        return _page_response(render_waiting(here="diagnostics"))
    return _page_response(render_diagnostics(observation))


@get("/login", opt={PUBLIC: True}, tags=["pages"], media_type=MediaType.HTML, security=[{}])
async def login_page(next: FromQuery[str | None] = None) -> Response[str]:
    """The login form."""
    return _page_response(render_login(next_path=safe_next(next)))


def _not_the_form(request: Request[Any, Any, Any], _exc: ValidationException) -> Response[str]:
    """A post that is not the form (JSON, no token field, bytes): the form again, as HTML like
    every answer of this route, not Litestar's JSON body labelled HTML."""
    target = safe_next(request.query_params.get("next"))
    error = "That was not the sign-in form: paste the token into the field."
    return _page_response(render_login(next_path=target, error=error), 400)


@post(
    "/login",
    opt={PUBLIC: True},
    tags=["pages"],
    media_type=MediaType.HTML,
    status_code=303,
    security=[{}],
    exception_handlers={ValidationException: _not_the_form},
    responses={
        400: ResponseSpec(str, description="Not the form: the form again.", media_type="text/html"),
        401: ResponseSpec(str, description="Wrong token: the form again.", media_type="text/html"),
        429: ResponseSpec(str, description="Too many wrong tokens.", media_type="text/html"),
    },
)
async def login_submit(
    request: Request[Any, Any, Any],
    data: Annotated[LoginForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[str]:
    """Check the form's token; on success set the session cookie and go to `next`."""
    access = _settings(request).access
    client = client_address(request)
    target = safe_next(data.next)
    retry_after = access.limiter.retry_after(client)
    if retry_after is not None:
        # Keep where the admin was going: after the wait, signing in lands there, not here.
        return too_many(request, retry_after, page=True, next_path=target)
    if not access.gate.check_token(data.token):
        access.limiter.record_failure(client)
        return _page_response(render_login(next_path=target, error="That token is not right."), 401)
    return Response(
        content="",
        media_type=MediaType.HTML,
        status_code=303,
        headers={"Location": target},
        cookies=[login_cookie(access.gate)],
    )


@post("/logout", tags=["pages"], media_type=MediaType.HTML, status_code=303, opt={PUBLIC: True})
async def logout() -> Response[str]:
    """Forget the session cookie."""
    return Response(
        content="",
        media_type=MediaType.HTML,
        status_code=303,
        headers={"Location": "/login"},
        cookies=[logout_cookie()],
    )


def create_app(
    *,
    provider: StatusProvider,
    token: str | TokenSource,
    limiter: FailureLimiter | None = None,
    session_seconds: float = DEFAULT_SESSION_SECONDS,
    events_poll_seconds: float = 0.25,
    events_tick_seconds: float = 5.0,
    events_lifetime_seconds: float = 300.0,
    debug: bool = False,
) -> Litestar:
    """The status service app, answering from `provider` and guarded by `token`.

    `token` is a value or a `TokenSource` (a file re-read on rotation); session cookies expire
    after `session_seconds`. `limiter` bounds wrong tokens per client address (default: 10 per
    minute). The event
    stream checks the provider every `events_poll_seconds`, repeats itself every
    `events_tick_seconds` so ages stay current, and ends after `events_lifetime_seconds`.
    """
    settings = _Settings(
        provider=provider,
        access=Access(
            gate=TokenGate(token, session_seconds=session_seconds),
            limiter=limiter or FailureLimiter(),
        ),
        events_poll_seconds=events_poll_seconds,
        events_tick_seconds=events_tick_seconds,
        events_lifetime_seconds=events_lifetime_seconds,
        bodies=_BodyCache(),
    )
    app = Litestar(
        route_handlers=[
            healthz,
            healthz_head,
            api_status,
            api_overview,
            api_diagnostics,
            api_events,
            overview_page,
            diagnostics_page,
            login_page,
            login_submit,
            logout,
        ],
        before_request=authenticate,
        before_send=[security_headers],
        exception_handlers={_NotReady: _not_ready_handler},
        plugins=[PydanticPlugin(prefer_alias=True)],
        openapi_config=OpenAPIConfig(
            title="Appliance status service",
            version="1",
            description=(
                "Token-protected status of a single-node appliance install. Send "
                "`Authorization: Bearer <token>`."
            ),
            path="/schema",
            components=Components(
                security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer")}
            ),
            security=[{"bearer": []}],
        ),
        debug=debug,
    )
    app.state.status_settings = settings
    app.state.status_access = settings.access
    return app
