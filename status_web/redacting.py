"""Keeping the token out of every log line.

Uvicorn's access log prints the request path with its query string, and `?token=` is how the
bootstrapper's link carries the token. A filter on every handler rewrites each record before it
is formatted: `token=<anything>` becomes `token=[redacted]` and the literal token, wherever it
appears, becomes `[redacted]`.
"""

from __future__ import annotations

import logging
import re
from typing import Any

__all__ = ["REDACTED", "RedactingFilter", "log_config", "redact"]

REDACTED = "[redacted]"
_QUERY_TOKEN = re.compile(r"(?i)(token=)[^&\s\"']*")


def redact(text: str, *, token: str | None) -> str:
    """`text` with any `token=` value and the literal token replaced."""
    text = _QUERY_TOKEN.sub(lambda m: m.group(1) + REDACTED, text)
    if token:
        text = text.replace(token, REDACTED)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites a record's message and arguments so no token survives formatting."""

    def __init__(self, token: str | None = None, name: str = "") -> None:
        super().__init__(name)
        self._token = token

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg, token=self._token)
        if isinstance(record.args, tuple):
            record.args = tuple(self._clean(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: self._clean(value) for key, value in record.args.items()}
        return True

    def _clean(self, value: Any) -> Any:
        return redact(value, token=self._token) if isinstance(value, str) else value


def log_config(token: str | None, *, level: str = "INFO") -> dict[str, Any]:
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
