"""Where the status token comes from, and noticing when it is rotated.

In the cluster the token is a file: Secret `appliance-status-auth` mounted into the pod. When the
bootstrapper rotates the token it updates the Secret, and the kubelet swaps the mounted file in
place (atomically, through the `..data` symlink). `TokenSource` re-reads the file at most once per
`recheck_seconds`, so a rotation takes effect within seconds of the file changing, and counts
generations: every session cookie is signed with the token, so a new token refuses the old
token and every cookie made from it at once.

A token given as a value (tests, `APPLIANCE_STATUS_TOKEN`) cannot change.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from appliance.tokens import read_token_file
from status_web.errors import TokenFileError

__all__ = ["TokenSource"]

log = logging.getLogger("status_web")

# Tokens remembered for log redaction after a rotation (a client may still send an old one).
_REMEMBERED = 8


class TokenSource:
    """The current status token: a fixed value, or a file re-read when it may have changed."""

    def __init__(
        self,
        value: str | None = None,
        *,
        path: Path | None = None,
        recheck_seconds: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if (value is None) == (path is None):
            raise ValueError("give the token either as a value or as a file path")
        self.path = path
        self._recheck = recheck_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self.generation = 1
        if path is not None:
            value = self._read(path)
        assert value is not None
        if not value:
            raise TokenFileError("the status token is empty; provide a non-empty token")
        self._value = value
        self._known: list[str] = [value]
        self._checked_at = monotonic()

    @staticmethod
    def _read(path: Path) -> str:
        value = read_token_file(path, error=TokenFileError, what="token file")
        if not value:
            raise TokenFileError(f"token file {path} is empty; write the token into it")
        return value

    def current(self) -> str:
        """The token now; a file source is re-read when `recheck_seconds` have passed."""
        if self.path is None:
            return self._value
        now = self._monotonic()
        with self._lock:
            if now - self._checked_at < self._recheck:
                return self._value
            self._checked_at = now
        # Read and log outside the lock: the log filter asks `known()` for the tokens to redact.
        try:
            value = self._read(self.path)
        except TokenFileError as exc:
            # Mid-rotation or a deleted Secret: keep serving with the token we have.
            log.warning("keeping the current status token: %s", exc.one_line())
            return self._value
        with self._lock:
            changed = value != self._value
            if changed:
                self._value = value
                self.generation += 1
                self._known = [value, *self._known[: _REMEMBERED - 1]]
            generation = self.generation
        if changed:
            log.warning(
                "status token changed (generation %d): the previous token and its sessions "
                "are refused from now on",
                generation,
            )
        return value

    def known(self) -> tuple[str, ...]:
        """The current and recent tokens, newest first: what the log filter redacts."""
        with self._lock:
            return tuple(self._known)
