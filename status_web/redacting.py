"""Keeping the token out of every log line.

Uvicorn's access log prints the request path with its query string, and `?token=` is how the
bootstrapper's link carries the token. A filter on every handler rewrites each record before it
is formatted:
- every query parameter whose name, percent-decoded, is `token` (`?tok%65n=...` authenticates just
  like `?token=...`) has its value replaced by `[redacted]`;
- every query parameter whose decoded value contains a known token is replaced too;
- the literal token (and each recent one, after a rotation), wherever it appears, becomes
  `[redacted]`, and a line that contains it only once percent-decoded is logged decoded and
  redacted.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote, unquote_plus

__all__ = ["REDACTED", "RedactingFilter", "log_config", "redact"]

REDACTED = "[redacted]"
# One query parameter: its separator, name and value (up to the next separator or the end).
_QUERY_PARAM = re.compile(r"(?P<sep>[?&;])(?P<name>[^=&;?#\s\"']*)=(?P<value>[^&;#\s\"']*)")

# A bare `token=` anywhere in a message (not only in a query string).
_BARE_TOKEN = re.compile(r"(?i)(token=)[^&\s\"']*")

Tokens = Callable[[], Iterable[str]]


def _decoded(text: str) -> str:
    # Twice: a proxy or a client may have encoded the `%` itself.
    return unquote_plus(unquote_plus(text))


def redact(text: str, *, token: str | Iterable[str] | None) -> str:
    """`text` with every token-carrying query value and every known token replaced."""
    tokens = [token] if isinstance(token, str) else [t for t in token or () if t]
    tokens = [t for t in tokens if t]

    def query_param(match: re.Match[str]) -> str:
        name, value = _decoded(match.group("name")), _decoded(match.group("value"))
        if name.strip().lower() == "token" or any(t in value for t in tokens):
            return f"{match.group('sep')}{match.group('name')}={REDACTED}"
        return match.group(0)

    text = _QUERY_PARAM.sub(query_param, text)
    text = _BARE_TOKEN.sub(lambda m: m.group(1) + REDACTED, text)
    for known in tokens:
        text = text.replace(known, REDACTED)
    if tokens and "%" in text:
        decoded = unquote(text)
        if any(t in decoded for t in tokens):
            for known in tokens:
                decoded = decoded.replace(known, REDACTED)
            return decoded
    return text


class RedactingFilter(logging.Filter):
    """Rewrites a record's message and arguments so no token survives formatting.

    `token` is the token, or a callable returning the current and recent tokens (a rotated
    token stays redacted: a stale client may still send it).
    """

    def __init__(self, token: str | Tokens | None = None, name: str = "") -> None:
        super().__init__(name)
        if token is None or isinstance(token, str):
            fixed = (token,) if token else ()
            self._tokens: Tokens = lambda: fixed
        else:
            self._tokens = token

    def filter(self, record: logging.LogRecord) -> bool:
        tokens = tuple(self._tokens())
        if isinstance(record.msg, str):
            record.msg = redact(record.msg, token=tokens)
        if isinstance(record.args, tuple):
            record.args = tuple(self._clean(arg, tokens) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: self._clean(value, tokens) for key, value in record.args.items()}
        return True

    @staticmethod
    def _clean(value: Any, tokens: tuple[str, ...]) -> Any:
        return redact(value, token=tokens) if isinstance(value, str) else value


def log_config(token: str | Tokens | None, *, level: str = "INFO") -> dict[str, Any]:
    """A logging dictConfig for uvicorn and our own loggers, every handler redacting."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": RedactingFilter, "token": token}},
        "formatters": {
            "default": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
            "access": {
                "()": "uvicorn.logging.AccessFormatter",
                "fmt": '%(asctime)s %(levelname)s access: %(client_addr)s "%(request_line)s" '
                "%(status_code)s",
                "use_colors": False,
            },
        },
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "filters": ["redact"],
                "stream": "ext://sys.stderr",
            },
            "access": {
                "class": "logging.StreamHandler",
                "formatter": "access",
                "filters": ["redact"],
                "stream": "ext://sys.stdout",
            },
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": ["access"], "level": level, "propagate": False},
            "status_web": {"handlers": ["default"], "level": level, "propagate": False},
            "appliance": {"handlers": ["default"], "level": level, "propagate": False},
        },
    }
