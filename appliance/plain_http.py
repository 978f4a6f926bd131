"""HTTP requests outside the Kubernetes API: the login probe, the status service's /healthz and
the OCI registry, on urllib3.

urllib3 is the transport of the official kubernetes client, so a process that also talks to the
cluster loads one HTTP stack, not two: httpx (with httpcore, h11, and click, rich and pygments
for its own CLI) cost about 0.1 s of CPU at every start of `appliance bootstrap` and
`appliance-status serve`.
"""

from __future__ import annotations

import functools
import json
import os
import ssl
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import urllib3
from urllib3.connectionpool import HTTPConnectionPool
from urllib3.exceptions import HTTPError

__all__ = ["Answer", "HTTPError", "PlainHttp", "env_tls_context", "failure_text", "tls_context"]

# Redirects a client that follows them takes before giving up (httpx's default, which the
# registry client had).
MAX_REDIRECTS = 20


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One verifying TLS context per process, on the machine's CA store: loading the CA bundle
    costs tens of milliseconds, which a client made per probe would pay every time."""
    return ssl.create_default_context()


@functools.cache
def env_tls_context() -> ssl.SSLContext:
    """The TLS context of a client that trusts the environment: SSL_CERT_FILE, else
    SSL_CERT_DIR, else certifi's CA bundle (what the registry client has always verified with)."""
    if os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    if os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    import certifi  # only a client that trusts the environment uses certifi's bundle

    return ssl.create_default_context(cafile=certifi.where())


@dataclass(frozen=True)
class Answer:
    """One HTTP response, read whole (these are small: probes, tokens, tag lists)."""

    status: int
    reason: str
    headers: Any  # urllib3's HTTPHeaderDict: case-insensitive
    body: bytes

    def json(self) -> Any:
        """The body as JSON; ValueError when it is not."""
        return json.loads(self.body)


class PlainHttp:
    """Requests with one timeout for connecting and for each read, no retries (a failure is
    reported, the caller decides), redirects followed or not.

    `trust_env` honours HTTP(S)_PROXY, ALL_PROXY and NO_PROXY and verifies with
    `env_tls_context()`; without it neither applies and `tls_context()` verifies.
    """

    def __init__(
        self,
        *,
        timeout: float,
        follow_redirects: bool,
        trust_env: bool,
    ) -> None:
        self._trust_env = trust_env
        self._follow = follow_redirects
        self._timeout = urllib3.Timeout(connect=timeout, read=timeout)
        self._retries = urllib3.Retry(
            total=None,
            connect=0,
            read=0,
            status=0,
            other=0,
            redirect=MAX_REDIRECTS if follow_redirects else 0,
            raise_on_redirect=follow_redirects,
        )
        self._direct = _TlsOnFirstUse(self._tls)
        self._proxied: dict[str, urllib3.ProxyManager] = {}

    def _tls(self) -> ssl.SSLContext:
        return env_tls_context() if self._trust_env else tls_context()

    def __enter__(self) -> PlainHttp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the connections."""
        self._direct.clear()
        for pool in self._proxied.values():
            pool.clear()

    def _pool(self, url: str) -> urllib3.PoolManager:
        if not self._trust_env:
            return self._direct
        parts = urlsplit(url)
        proxies = urllib.request.getproxies()
        proxy = proxies.get(parts.scheme) or proxies.get("all")
        if not proxy or urllib.request.proxy_bypass(parts.hostname or ""):
            return self._direct
        if proxy not in self._proxied:
            self._proxied[proxy] = urllib3.ProxyManager(proxy, ssl_context=self._tls())
        return self._proxied[proxy]

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> Answer:
        """One request; urllib3's HTTPError when it gets no answer, ValueError for a URL it
        cannot use."""
        answer = self._pool(url).request(
            method,
            url,
            headers=headers,
            body=body,
            timeout=self._timeout,
            retries=self._retries,
            redirect=self._follow,
        )
        return Answer(
            status=answer.status,
            reason=answer.reason or "",
            headers=answer.headers,
            body=answer.data,
        )


class _TlsOnFirstUse(urllib3.PoolManager):
    """A pool manager that builds its TLS context when it first connects over https (also on
    a redirect there): loading a CA bundle costs about 25 ms of CPU, which a process that only
    speaks plain HTTP (a probe of an http:// app URL) should not pay."""

    def __init__(self, tls: Callable[[], ssl.SSLContext]) -> None:
        super().__init__()
        self._make_tls = tls

    def connection_from_host(
        self,
        host: str | None,
        port: int | None = None,
        scheme: str | None = "http",
        pool_kwargs: dict[str, Any] | None = None,
    ) -> HTTPConnectionPool:
        if scheme == "https" and "ssl_context" not in self.connection_pool_kw:
            self.connection_pool_kw["ssl_context"] = self._make_tls()
        return super().connection_from_host(host, port, scheme, pool_kwargs)


def failure_text(exc: BaseException) -> str:
    """Why a request got no answer, e.g. `NewConnectionError: ... Connection refused`: urllib3
    wraps the cause in MaxRetryError ("Max retries exceeded"), which would name our retry
    policy, not the failure."""
    cause = getattr(exc, "reason", None)
    failure = cause if isinstance(cause, BaseException) else exc
    return f"{type(failure).__name__}: {failure}" if str(failure) else type(failure).__name__
