"""The app endpoint on the node address: refused until ready, then 307 to the dashboard."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from simulator.clock import VirtualClock
from simulator.neighbours.addresses import choose_node_address
from simulator.neighbours.app_endpoint import AppEndpoint, AppSpec


def _app(**spec: object) -> AppEndpoint:
    clock = VirtualClock(datetime(2026, 4, 30, 12, tzinfo=UTC))
    return AppEndpoint(
        AppSpec.model_validate(spec), node_ip=choose_node_address(ports=(3000,)), clock=clock
    )


def test_before_ready_the_connection_is_refused() -> None:
    """Until set_ready(True), nothing listens on :3000."""
    with _app() as app, pytest.raises(httpx.ConnectError):
        httpx.get(app.url)


def test_ready_app_redirects_to_the_dashboard() -> None:
    """Once ready, GET / answers 307 with Location /msp/dashboard (finding-11)."""
    with _app() as app:
        app.set_ready(True)
        response = httpx.get(app.url)
    assert response.status_code == 307
    assert response.headers["Location"] == "/msp/dashboard"
    assert [(r.path, r.status) for r in app.requests()] == [("/", 307)]


def test_app_going_unready_refuses_again() -> None:
    """set_ready(False) closes the listener again."""
    with _app() as app:
        app.set_ready(True)
        app.set_ready(False)
        with pytest.raises(httpx.ConnectError):
            httpx.get(app.url)


def test_503_mode_answers_before_ready() -> None:
    """With beforeReady 503, a listener answers 503 until ready."""
    with _app(beforeReady="503") as app:
        assert httpx.get(app.url).status_code == 503
        app.set_ready(True)
        assert httpx.get(app.url).status_code == 307
