"""Token checks and the per-address failure limiter."""

from __future__ import annotations

import pytest

from status_web.authenticating import FailureLimiter, TokenGate
from tests.unit.status_web.conftest import FakeClock


def test_right_token_passes() -> None:
    """The configured token is accepted."""
    assert TokenGate("abc").check_token("abc")


@pytest.mark.parametrize("presented", [None, "", "abd", "abc ", "ABC"])
def test_anything_else_fails(presented: str | None) -> None:
    """Missing, empty or near-miss tokens are refused."""
    assert not TokenGate("abc").check_token(presented)


def test_cookie_is_not_the_token() -> None:
    """The session cookie holds a derived value, never the token itself."""
    # Not hex: the cookie is an issue time and a hex MAC, which held "abc" in about 1.5% of runs.
    token = "sw_token-zq"
    gate = TokenGate(token)
    assert gate.cookie_value() != token
    assert token not in gate.cookie_value()
    assert gate.check_cookie(gate.cookie_value())
    assert not gate.check_cookie(token)


def test_cookie_changes_with_the_token() -> None:
    """A cookie issued for an old token does not open the service after rotation."""
    assert not TokenGate("new").check_cookie(TokenGate("old").cookie_value())


def test_empty_token_is_refused_at_start() -> None:
    """An empty token would let anyone in, so it cannot be configured."""
    with pytest.raises(ValueError, match="empty"):
        TokenGate("")


def test_limiter_blocks_after_max_failures(clock: FakeClock) -> None:
    """The third wrong token within the window blocks the address."""
    limiter = FailureLimiter(max_failures=3, window_seconds=60, monotonic=clock)
    for _ in range(2):
        limiter.record_failure("10.0.0.1")
    assert limiter.retry_after("10.0.0.1") is None
    limiter.record_failure("10.0.0.1")
    assert limiter.retry_after("10.0.0.1") == 60


def test_limiter_is_per_address(clock: FakeClock) -> None:
    """One guessing address does not block another."""
    limiter = FailureLimiter(max_failures=1, window_seconds=60, monotonic=clock)
    limiter.record_failure("10.0.0.1")
    assert limiter.retry_after("10.0.0.2") is None


def test_limiter_forgets_after_the_window(clock: FakeClock) -> None:
    """Failures older than the window no longer count."""
    limiter = FailureLimiter(max_failures=1, window_seconds=60, monotonic=clock)
    limiter.record_failure("10.0.0.1")
    clock.advance(30)
    assert limiter.retry_after("10.0.0.1") == 30
    clock.advance(30)
    assert limiter.retry_after("10.0.0.1") is None


def test_limiter_memory_is_bounded(clock: FakeClock) -> None:
    """A spray of addresses cannot grow the table past its bound."""
    limiter = FailureLimiter(max_failures=5, window_seconds=60, monotonic=clock, max_clients=10)
    for i in range(50):
        limiter.record_failure(f"10.0.1.{i}")
    assert len(limiter._failures) <= 10
