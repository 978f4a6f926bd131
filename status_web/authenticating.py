"""Checking the status token and slowing down whoever guesses it.

The token arrives as a bearer header (scripts), a `?token=` link (the URL bootstrap prints), a
login form, or the session cookie the last two set. The cookie holds an HMAC of the token, not
the token, so a cookie leaked from a browser profile is not the secret itself.
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

__all__ = ["COOKIE_NAME", "FailureLimiter", "TokenGate"]

COOKIE_NAME = "appliance_status_session"
_COOKIE_CONTEXT = b"appliance-status session v1"


@dataclass(frozen=True)
class TokenGate:
    """Constant-time checks of a presented token or session cookie against the one token."""

    token: str

    def __post_init__(self) -> None:
        if not self.token:
            raise ValueError("the status token is empty; provide a non-empty token")

    def check_token(self, presented: str | None) -> bool:
        """True when `presented` is the token (compared in constant time)."""
        if not presented:
            return False
        return hmac.compare_digest(presented.encode("utf-8"), self.token.encode("utf-8"))

    def cookie_value(self) -> str:
        """The session cookie's value: an HMAC of the token, so the cookie is not the secret."""
        return hmac.new(self.token.encode("utf-8"), _COOKIE_CONTEXT, hashlib.sha256).hexdigest()

    def check_cookie(self, presented: str | None) -> bool:
        """True when `presented` is this token's session cookie value."""
        if not presented:
            return False
        return hmac.compare_digest(presented.encode("utf-8"), self.cookie_value().encode("utf-8"))


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
