"""`smoke monitor`: prove the status API answers before the app URL during a fresh install (T020).

Each poll asks the status API first, then the app URL, and records the poll in which each first
answered. The verdict needs the status API to answer in an earlier poll than the app: a monitor
started after both were up cannot prove anything and says so (inconclusive).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Literal
from urllib.parse import urlsplit

from appliance.plain_http import HTTPError, PlainHttp
from appliance.words import human_elapsed

__all__ = ["MonitorResult", "monitor", "status_api_url"]

Verdict = Literal["pass", "fail", "inconclusive"]


@dataclass(frozen=True)
class MonitorResult:
    """When (poll number and seconds since start) each endpoint first answered."""

    verdict: Verdict
    message: str
    status_first_poll: int | None
    app_first_poll: int | None
    status_first_seconds: float | None
    app_first_seconds: float | None
    polls: int

    def to_dict(self) -> dict[str, object]:
        """JSON-friendly form (camelCase like the status API)."""
        data = asdict(self)
        return {
            "".join(w.capitalize() if i else w for i, w in enumerate(k.split("_"))): v
            for k, v in data.items()
        }


def status_api_url(url: str) -> str:
    """Accept `http://ip:8080` or the full `/api/status` URL."""
    parts = urlsplit(url)
    if parts.path in ("", "/"):
        return url.rstrip("/") + "/api/status"
    return url


def _status_up(client: PlainHttp, url: str, token: str) -> bool | None:
    """True when the status API serves a status; None when it rejects the token."""
    try:
        answer = client.request("GET", url, headers={"Authorization": f"Bearer {token}"})
    except HTTPError:
        return False
    if answer.status in (401, 403):
        return None
    return answer.status == 200


def _app_up(client: PlainHttp, url: str) -> bool:
    try:
        answer = client.request("GET", url)
    except HTTPError:
        return False
    return 200 <= answer.status < 400


def monitor(
    status_url: str,
    *,
    app_url: str,
    token: str,
    timeout: float = 3600.0,
    interval: float = 5.0,
    request_timeout: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    on_poll: Callable[[int, bool, bool], None] | None = None,
) -> MonitorResult:
    """Poll until the app answers (or timeout) and judge the order."""
    url = status_api_url(status_url)
    start = monotonic()
    status_poll = app_poll = None
    status_at = app_at = None
    polls = 0
    with PlainHttp(timeout=request_timeout, follow_redirects=False, trust_env=False) as client:
        while True:
            polls += 1
            status = _status_up(client, url, token)
            if status is None:
                return MonitorResult(
                    "fail",
                    f"status API {url} rejected the token (401/403)",
                    None,
                    None,
                    None,
                    None,
                    polls,
                )
            app = _app_up(client, app_url)
            now = monotonic() - start
            if status and status_poll is None:
                status_poll, status_at = polls, round(now, 1)
            if app and app_poll is None:
                app_poll, app_at = polls, round(now, 1)
            if on_poll is not None:
                on_poll(polls, bool(status), app)
            if app_poll is not None:
                break
            if now >= timeout:
                break
            sleep(interval)
    if app_poll is None:
        what = "answered" if status_poll else "did not answer either"
        return MonitorResult(
            "inconclusive",
            f"app URL {app_url} did not answer within {human_elapsed(timeout)}; status API {what}",
            status_poll,
            None,
            status_at,
            None,
            polls,
        )
    if status_poll is not None and status_poll < app_poll:
        return MonitorResult(
            "pass",
            f"status API answered at poll {status_poll} ({human_elapsed(status_at or 0)}), "
            f"app URL at poll {app_poll} ({human_elapsed(app_at or 0)})",
            status_poll,
            app_poll,
            status_at,
            app_at,
            polls,
        )
    if status_poll == app_poll == 1:
        return MonitorResult(
            "inconclusive",
            "both already answered at the first poll; start "
            "the monitor before or during a fresh bootstrap",
            status_poll,
            app_poll,
            status_at,
            app_at,
            polls,
        )
    return MonitorResult(
        "fail",
        f"app URL answered at poll {app_poll} but the status API "
        f"{'only at poll ' + str(status_poll) if status_poll else 'never'}",
        status_poll,
        app_poll,
        status_at,
        app_at,
        polls,
    )
