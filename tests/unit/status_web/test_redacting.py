"""No token in any log line."""

from __future__ import annotations

import logging

import pytest

from status_web.redacting import RedactingFilter, redact


def test_query_token_is_redacted() -> None:
    """`token=` values are replaced whatever they are."""
    assert redact("GET /?a=1&token=abc&b=2", token=None) == "GET /?a=1&token=[redacted]&b=2"


def test_literal_token_is_redacted() -> None:
    """The token itself is replaced wherever it appears."""
    assert redact("Bearer s3cret!", token="s3cret") == "Bearer [redacted]!"


def test_filter_rewrites_access_log_arguments(caplog: pytest.LogCaptureFixture) -> None:
    """A uvicorn-style access record loses the token before formatting."""
    logger = logging.getLogger("test.redacting")
    handler_filter = RedactingFilter("s3cret")
    logger.addFilter(handler_filter)
    try:
        with caplog.at_level(logging.INFO, logger="test.redacting"):
            logger.info('%s - "%s %s"', "127.0.0.1", "GET", "/?token=s3cret")
    finally:
        logger.removeFilter(handler_filter)
    assert "s3cret" not in caplog.text
    assert "token=[redacted]" in caplog.text
