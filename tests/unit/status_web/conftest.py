"""Fixtures for status-service tests: a scripted provider, a fake clock and a test client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from litestar.testing import TestClient

from status_web.app import create_app
from status_web.authenticating import FailureLimiter
from status_web.observations import MutableProvider
from tests.unit.status_web.samples import installing

TOKEN = "correct-horse-battery-staple"


class FakeClock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def provider(clock: FakeClock) -> MutableProvider:
    return MutableProvider(installing(), monotonic=clock)


@pytest.fixture
def limiter(clock: FakeClock) -> FailureLimiter:
    return FailureLimiter(max_failures=3, window_seconds=60.0, monotonic=clock)


@pytest.fixture
def client(provider: MutableProvider, limiter: FailureLimiter) -> Iterator[TestClient]:  # type: ignore[type-arg]
    app = create_app(provider=provider, token=TOKEN, limiter=limiter, events_lifetime_seconds=0.0)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def authed(client: TestClient) -> TestClient:  # type: ignore[type-arg]
    client.headers["Authorization"] = f"Bearer {TOKEN}"
    return client
