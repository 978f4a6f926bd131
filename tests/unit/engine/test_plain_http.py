"""Plain HTTP for the probes and the registry client (appliance/plain_http.py): what the client
the registry check used before (httpx, trusting the environment) did, on urllib3."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest

from appliance import plain_http
from appliance.plain_http import HTTPError, PlainHttp, failure_text
from tests.fixtures.loopback import serve_on_loopback


class _Recorder(BaseHTTPRequestHandler):
    """Answers 200 with the request line it saw; `/moved` redirects to `/here`."""

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.endswith("/moved"):
            self.send_response(302)
            self.send_header("Location", "/here")
            body = b""
        else:
            self.send_response(200)
            body = self.path.encode()
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server() -> Iterator[str]:
    """A loopback server that also works as an HTTP proxy (it echoes the absolute URL)."""
    with serve_on_loopback(_Recorder) as url:
        yield url


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_redirects_are_followed_only_when_asked(server: str) -> None:
    with PlainHttp(timeout=2, follow_redirects=True, trust_env=False) as http:
        followed = http.request("GET", f"{server}/moved")
    with PlainHttp(timeout=2, follow_redirects=False, trust_env=False) as http:
        kept = http.request("GET", f"{server}/moved")
    assert (followed.status, followed.body) == (200, b"/here")
    assert (kept.status, kept.headers.get("location")) == (302, "/here")


def test_a_client_trusting_the_environment_uses_its_proxy(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HTTP_PROXY reaches the proxy with the absolute URL; NO_PROXY and trust_env=False don't."""
    target = "http://registry.invalid:5000/v2/"
    monkeypatch.setenv("HTTP_PROXY", server)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with PlainHttp(timeout=2, follow_redirects=True, trust_env=True) as http:
        assert http.request("GET", target).body == target.encode()
    monkeypatch.setenv("NO_PROXY", "registry.invalid")
    with (
        PlainHttp(timeout=2, follow_redirects=True, trust_env=True) as http,
        pytest.raises(HTTPError),
    ):
        http.request("GET", target)
    monkeypatch.delenv("NO_PROXY")
    with (
        PlainHttp(timeout=2, follow_redirects=True, trust_env=False) as http,
        pytest.raises(HTTPError),
    ):
        http.request("GET", target)


def test_plain_http_builds_no_tls_context(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CA bundle is loaded on the first https connection, never for http:// URLs."""
    built: list[object] = []
    real = ssl.create_default_context
    monkeypatch.setattr(ssl, "create_default_context", lambda *a, **k: built.append(k) or real())
    plain_http.tls_context.cache_clear()
    plain_http.env_tls_context.cache_clear()
    try:
        with PlainHttp(timeout=2, follow_redirects=True, trust_env=True) as http:
            assert http.request("GET", f"{server}/x").status == 200
            assert built == []
            with pytest.raises(HTTPError):
                http.request("GET", f"https://127.0.0.1:{_closed_port()}/")
        assert len(built) == 1
    finally:
        plain_http.tls_context.cache_clear()
        plain_http.env_tls_context.cache_clear()


def test_failure_text_names_the_cause_not_the_retry_policy() -> None:
    http = PlainHttp(timeout=2, follow_redirects=False, trust_env=False)
    with http, pytest.raises(HTTPError) as raised:
        http.request("GET", f"http://127.0.0.1:{_closed_port()}/")
    text = failure_text(raised.value)
    assert text.startswith("NewConnectionError: ")
    assert "Connection refused" in text
    assert "Max retries" not in text
