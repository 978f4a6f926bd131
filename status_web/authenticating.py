"""Checking the status token and slowing down whoever guesses it.

The token arrives as a bearer header (scripts), a `?token=` link (the URL bootstrap prints), a
login form, or the session cookie the last two set. Tokens are compared as bytes: a header carries
the client's bytes (ASGI decodes header values as latin-1, so they are encoded back the same way),
a form or a query carries UTF-8 text.

A session cookie is `<issued>.<mac>`: the HMAC, keyed with the token, of the issue time. So the
cookie is not the secret, it expires `session_seconds` after it was issued (12 h by default), and a
rotated token refuses every cookie signed with the one before (the session is bound to the token's
generation without a server-side session table).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from status_web.token_source import TokenSource

__all__ = ["COOKIE_NAME", "DEFAULT_SESSION_SECONDS", "FailureLimiter", "TokenGate"]

COOKIE_NAME = "appliance_status_session"
DEFAULT_SESSION_SECONDS = 12 * 3600
_COOKIE_CONTEXT = b"appliance-status session v2|"
# A cookie issued this far in the future is still accepted (clock steps on the node).
_CLOCK_SKEW_SECONDS = 60


class TokenGate:
    """Constant-time checks of a presented token or session cookie against the current token."""

    def __init__(
        self,
        token: str | TokenSource,
        *,
        session_seconds: float = DEFAULT_SESSION_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if isinstance(token, str) and not token:
            raise ValueError("the status token is empty; provide a non-empty token")
        self.source = token if isinstance(token, TokenSource) else TokenSource(token)
        if session_seconds <= 0:
            raise ValueError("the session lifetime must be positive")
        self.session_seconds = session_seconds
        self._clock = clock

    def check_token(self, presented: str | bytes | None) -> bool:
        """True when `presented` is the token; text is compared as its UTF-8 bytes."""
        if not presented:
            return False
        given = presented if isinstance(presented, bytes) else presented.encode("utf-8")
        return hmac.compare_digest(given, self.source.current().encode("utf-8"))

    def check_header_token(self, header_value: str) -> bool:
        """`check_token` for a credential taken from a header (decoded as latin-1 by ASGI)."""
        return self.check_token(header_value.encode("latin-1"))

    def _mac(self, issued: int) -> str:
        key = self.source.current().encode("utf-8")
        message = _COOKIE_CONTEXT + str(issued).encode("ascii")
        return hmac.new(key, message, hashlib.sha256).hexdigest()

    def cookie_value(self) -> str:
        """A new session cookie value, issued now and signed with the current token."""
        issued = int(self._clock())
        return f"{issued}.{self._mac(issued)}"

    def check_cookie(self, presented: str | None) -> bool:
        """True when `presented` was signed with the current token and has not expired."""
        if not presented:
            return False
        issued_text, _, mac = presented.partition(".")
        if not issued_text.isascii() or not issued_text.isdigit() or len(issued_text) > 12:
            return False
        issued = int(issued_text)
        age = self._clock() - issued
        if age > self.session_seconds or age < -_CLOCK_SKEW_SECONDS:
            return False
        return hmac.compare_digest(mac.encode("utf-8"), self._mac(issued).encode("ascii"))


@dataclass
class FailureLimiter:
    """At most `max_failures` wrong tokens per client address within `window_seconds`.

    Once over the limit a client is refused (429) until its oldest failure leaves the window,
    even with the right token, so guessing costs the guesser time rather than the admin.
    """

    max_failures: int = 10
    window_seconds: float = 60.0
    monotonic: Callable[[], float] = time.monotonic
    max_clients: int = 10_000
    _failures: dict[str, deque[float]] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def retry_after(self, client: str) -> int | None:
        """Seconds until `client` may try again, or None if it is not blocked."""
        now = self.monotonic()
        with self._lock:
            entries = self._prune(client, now)
            if entries is None or len(entries) < self.max_failures:
                return None
            return max(1, math.ceil(entries[0] + self.window_seconds - now))

    def record_failure(self, client: str) -> None:
        """Count one wrong token from `client`."""
        now = self.monotonic()
        with self._lock:
            if client not in self._failures and len(self._failures) >= self.max_clients:
                self._evict(now)
            self._failures.setdefault(client, deque()).append(now)

    def _prune(self, client: str, now: float) -> deque[float] | None:
        entries = self._failures.get(client)
        if entries is None:
            return None
        while entries and entries[0] <= now - self.window_seconds:
            entries.popleft()
        if not entries:
            del self._failures[client]
            return None
        return entries

    def _evict(self, now: float) -> None:
        # Bound memory under a spray of addresses: forget expired clients, then the oldest.
        for client in list(self._failures):
            self._prune(client, now)
        if len(self._failures) >= self.max_clients:
            oldest = min(self._failures, key=lambda c: self._failures[c][-1])
            del self._failures[oldest]
