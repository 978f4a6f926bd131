"""The HTTP login probe LOGIN_READY depends on (finding-11: 307 to /msp/dashboard)."""

from __future__ import annotations

import time
from datetime import datetime

from appliance.canonical import LoginProbe
from appliance.plain_http import HTTPError, PlainHttp, failure_text

__all__ = ["probe_login"]


def probe_login(url: str, *, timeout: float = 5.0, now: datetime) -> LoginProbe:
    """GET the app URL once, without following redirects; 2xx and 3xx mean the app is up.

    `now` is the cluster's time at the probe (recorded as checkedAt); elapsed is wall time of
    the request itself, which is what an admin waits for.
    """
    started = time.perf_counter()
    try:
        with PlainHttp(timeout=timeout, follow_redirects=False, trust_env=False) as http:
            response = http.request("GET", url)
    except ValueError as exc:  # an unparsable URL (urllib3's LocationValueError)
        return LoginProbe(url=url, attempted=False, ok=False, error=str(exc), checked_at=now)
    except HTTPError as exc:
        return LoginProbe(
            url=url,
            attempted=True,
            ok=False,
            elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
            error=failure_text(exc),
            checked_at=now,
        )
    elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
    ok = 200 <= response.status < 400
    return LoginProbe(
        url=url,
        attempted=True,
        ok=ok,
        status_code=response.status,
        location=response.headers.get("location"),
        elapsed_ms=elapsed_ms,
        error=None if ok else f"HTTP {response.status} {response.reason}".strip(),
        checked_at=now,
    )
