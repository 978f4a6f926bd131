"""The auth matrix against a live uvicorn on loopback, and the token never in a log line."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import httpx
import pytest

from status_web.app import create_app
from status_web.authenticating import COOKIE_NAME, FailureLimiter
from status_web.observations import MutableProvider
from status_web.serving import BackgroundServer
from tests.unit.status_web.samples import installing

TOKEN = "live-token-0123456789abcdef"


@pytest.fixture
def server() -> Iterator[BackgroundServer]:
    app = create_app(
        provider=MutableProvider(installing()),
        token=TOKEN,
        limiter=FailureLimiter(max_failures=3, window_seconds=600),
        events_lifetime_seconds=0.0,
    )
    with BackgroundServer(app, token=TOKEN) as running:
        yield running


def _tap_server_logs() -> io.StringIO:
    """Point the server's own log handlers (as configured, filters and all) at a buffer."""
    buffer = io.StringIO()
    for name in ("uvicorn", "uvicorn.access", "status_web"):
        for handler in logging.getLogger(name).handlers:
            if type(handler) is logging.StreamHandler:  # ours, not pytest's capture
                handler.setStream(buffer)
    return buffer


def test_live_auth_matrix(server: BackgroundServer) -> None:
    """No token, wrong token, bearer, query->cookie->redirect, cookie reuse, then rate limit."""
    logs = _tap_server_logs()
    with httpx.Client(base_url=server.url, follow_redirects=False) as http:
        assert http.get("/healthz").json() == {"status": "ok"}
        assert http.get("/api/status").status_code == 401
        assert http.get("/").status_code == 401
        bearer = http.get("/api/status", headers={"Authorization": f"Bearer {TOKEN}"})
        assert bearer.status_code == 200
        redirect = http.get(f"/?token={TOKEN}")
        assert redirect.status_code == 303
        assert redirect.headers["location"] == "/"
        assert COOKIE_NAME in http.cookies
        assert http.get("/").status_code == 200
        assert http.get("/api/overview").status_code == 200
    with httpx.Client(base_url=server.url, follow_redirects=False) as stranger:
        for _ in range(3):
            assert (
                stranger.get("/api/status", headers={"Authorization": "Bearer no"}).status_code
                == 401
            )
        limited = stranger.get(f"/?token={TOKEN}")
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) > 0
    text = logs.getvalue()
    assert "GET /?token=[redacted] HTTP/1.1" in text
    assert TOKEN not in text


def test_live_login_form(server: BackgroundServer) -> None:
    """A browser without JavaScript can sign in with the form and then read the page."""
    with httpx.Client(base_url=server.url, follow_redirects=True) as http:
        page = http.post("/login", data={"token": TOKEN, "next": "/diagnostics"})
        assert page.status_code == 200
        assert str(page.url).endswith("/diagnostics")
        assert "Readiness tiers" in page.text


def test_live_event_stream(server: BackgroundServer) -> None:
    """The live server streams a status event to an authenticated client."""
    with (
        httpx.Client(base_url=server.url) as http,
        http.stream("GET", "/api/events", headers={"Authorization": f"Bearer {TOKEN}"}) as response,
    ):
        assert response.status_code == 200
        body = "".join(response.iter_text())
    assert "event: status" in body
