"""The login probe (F026, finding-11): no redirects followed, 2xx/3xx = up."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest

from appliance.probing import probe_login
from tests.fixtures import NOW
from tests.fixtures.loopback import serve_on_loopback


class _App(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/":
            self.send_response(307)
            self.send_header("Location", "/msp/dashboard")
        elif self.path == "/broken":
            self.send_response(503)
        else:
            self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def app_url() -> Iterator[str]:
    """A loopback app that answers like alga-core."""
    with serve_on_loopback(_App) as url:
        yield url


def test_redirect_is_up_and_not_followed(app_url: str) -> None:
    """finding-11: 307 to /msp/dashboard counts as up; the redirect is recorded, not followed."""
    probe = probe_login(app_url + "/", now=NOW)
    assert probe.ok
    assert probe.status_code == 307
    assert probe.location == "/msp/dashboard"
    assert probe.checked_at == NOW
    assert probe.elapsed_ms is not None


def test_server_error_is_down(app_url: str) -> None:
    """A 503 is not login ready; the status is the error text."""
    probe = probe_login(app_url + "/broken", now=NOW)
    assert not probe.ok
    assert probe.status_code == 503
    assert probe.error is not None
    assert "503" in probe.error


def test_refused_connection_is_down_with_error() -> None:
    """A closed port: attempted, not ok, error text recorded."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    probe = probe_login(f"http://127.0.0.1:{port}/", timeout=2.0, now=NOW)
    assert probe.attempted
    assert not probe.ok
    assert probe.error
    assert probe.status_code is None


def test_unparsable_url_is_not_attempted() -> None:
    """A URL httpx cannot use is reported, not raised."""
    probe = probe_login("not a url", now=NOW)
    assert not probe.ok
    assert probe.error
