"""The HTTP login probe LOGIN_READY depends on (finding-11: 307 to /msp/dashboard)."""

from __future__ import annotations

import functools
import ssl
import time
from datetime import datetime

import httpx

from appliance.canonical import LoginProbe

__all__ = ["probe_login", "tls_context"]


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One verifying TLS context per process: loading the CA bundle costs tens of milliseconds,
    which a client made per probe would pay every time."""
    return ssl.create_default_context()


def probe_login(url: str, *, timeout: float = 5.0, now: datetime) -> LoginProbe:
    """GET the app URL once, without following redirects; 2xx and 3xx mean the app is up.

    `now` is the cluster's time at the probe (recorded as checkedAt); elapsed is wall time of
    the request itself, which is what an admin waits for.
    """
    started = time.perf_counter()
    try:
        with httpx.Client(
            follow_redirects=False, timeout=timeout, trust_env=False, verify=tls_context()
        ) as http:
            response = http.get(url)
    except httpx.HTTPError as exc:
        return LoginProbe(
            url=url,
            attempted=True,
            ok=False,
            elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
            error=f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__,
            checked_at=now,
        )
    except ValueError as exc:  # an unparsable URL
        return LoginProbe(url=url, attempted=False, ok=False, error=str(exc), checked_at=now)
    elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
    ok = 200 <= response.status_code < 400
    return LoginProbe(
        url=url,
        attempted=True,
        ok=ok,
        status_code=response.status_code,
        location=response.headers.get("location"),
        elapsed_ms=elapsed_ms,
        error=None if ok else f"HTTP {response.status_code} {response.reason_phrase}".strip(),
        checked_at=now,
    )
