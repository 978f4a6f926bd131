"""`smoke monitor` (T020) against local HTTP endpoints whose readiness the test controls."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from appliance.smoke.monitor import monitor, status_api_url

TOKEN = "t0ken"


@dataclass
class Endpoints:
    status_up: bool = False
    app_up: bool = False
    status_url: str = ""
    app_url: str = ""


@pytest.fixture
def endpoints() -> Iterator[Endpoints]:
    state = Endpoints()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:
            """Quiet."""

        def do_GET(self) -> None:
            port = self.server.server_address[1]
            if port == status_server.server_address[1]:
                if not state.status_up:
                    self.send_response(503)
                elif self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    self.send_response(401)
                else:
                    body = json.dumps({"rollup": {"state": "installing"}}).encode()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
            elif state.app_up:
                self.send_response(307)
                self.send_header("Location", "/msp/dashboard")
            else:
                self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()

    status_server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    app_server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threads = [
        threading.Thread(target=s.serve_forever, daemon=True) for s in (status_server, app_server)
    ]
    for thread in threads:
        thread.start()
    state.status_url = f"http://127.0.0.1:{status_server.server_address[1]}"
    state.app_url = f"http://127.0.0.1:{app_server.server_address[1]}"
    try:
        yield state
    finally:
        for server in (status_server, app_server):
            server.shutdown()
            server.server_close()


def script(endpoints: Endpoints, steps: dict[int, tuple[bool, bool]]) -> Any:
    """A sleep stand-in that sets (status_up, app_up) after the n-th poll."""
    calls = {"n": 0}

    def sleep(_: float) -> None:
        calls["n"] += 1
        if calls["n"] in steps:
            endpoints.status_up, endpoints.app_up = steps[calls["n"]]

    return sleep


def test_status_before_app_passes(endpoints: Endpoints) -> None:
    """T020: the status API answers polls before the app URL does: pass."""
    sleep = script(endpoints, {1: (True, False), 3: (True, True)})
    result = monitor(
        endpoints.status_url, app_url=endpoints.app_url, token=TOKEN, interval=1, sleep=sleep
    )
    assert result.verdict == "pass", result.message
    assert result.status_first_poll == 2
    assert result.app_first_poll == 4


def test_app_before_status_fails(endpoints: Endpoints) -> None:
    """An app that answers while the status API is still down fails T020."""
    sleep = script(endpoints, {1: (False, True)})
    result = monitor(
        endpoints.status_url, app_url=endpoints.app_url, token=TOKEN, interval=1, sleep=sleep
    )
    assert result.verdict == "fail"


def test_monitor_started_too_late_is_inconclusive(endpoints: Endpoints) -> None:
    """Both up at the first poll proves nothing about the order."""
    endpoints.status_up = endpoints.app_up = True
    result = monitor(
        endpoints.status_url,
        app_url=endpoints.app_url,
        token=TOKEN,
        interval=1,
        sleep=lambda _: None,
    )
    assert result.verdict == "inconclusive"


def test_wrong_token_fails_at_once(endpoints: Endpoints) -> None:
    """A status API that rejects the token is a failure, not a wait."""
    endpoints.status_up = True
    result = monitor(
        endpoints.status_url,
        app_url=endpoints.app_url,
        token="wrong",
        interval=1,
        sleep=lambda _: None,
    )
    assert result.verdict == "fail"
    assert "rejected the token" in result.message


def test_status_url_accepts_base_or_api_path() -> None:
    """`http://ip:8080` and `http://ip:8080/api/status` both target the status API."""
    assert status_api_url("http://10.0.0.1:8080") == "http://10.0.0.1:8080/api/status"
    assert status_api_url("http://10.0.0.1:8080/api/status") == "http://10.0.0.1:8080/api/status"
