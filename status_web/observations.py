"""What the web layer reads: the latest status, how old it is, and whether the API answered.

The app never talks to Kubernetes. It asks a `StatusProvider` for the latest `Observation`, which
the background collector (or a test's scripted provider) keeps current, so no request waits on
the API and a test can drive the pages without a cluster.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from appliance.canonical import ApplianceStatus
from status_web.history import History

__all__ = ["MutableProvider", "Observation", "StatusProvider"]


@dataclass(frozen=True)
class Observation:
    """The latest status and its freshness.

    `age_seconds` is the time since the cluster last answered (local seconds); `stale` is True
    when the API is unreachable now and `status` is the last known state; `version` increases
    with every new status, so live pages know when to refresh.
    """

    status: ApplianceStatus
    age_seconds: float
    stale: bool
    api_error: str | None
    version: int


class StatusProvider(Protocol):
    """Anything that hands out the latest observation without blocking."""

    def latest(self) -> Observation | None:
        """The newest observation, or None before the first reading of the cluster."""
        ...


class MutableProvider:
    """A provider whose status is set by hand: for tests, demos and benchmarks."""

    def __init__(
        self,
        status: ApplianceStatus | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._history = History()
        self._status = self._history.observe(status) if status is not None else None
        self._since = monotonic()
        self._version = 1 if status is not None else 0
        self._api_error: str | None = None

    def set(self, status: ApplianceStatus) -> None:
        """A fresh status from a reachable API."""
        with self._lock:
            self._status = self._history.observe(status)
            self._since = self._monotonic()
            self._version += 1
            self._api_error = None

    def fail(self, error: str) -> None:
        """The API stopped answering; the last status stays, marked stale."""
        with self._lock:
            self._api_error = error
            self._version += 1

    def latest(self) -> Observation | None:
        with self._lock:
            if self._status is None:
                return None
            return Observation(
                status=self._status,
                age_seconds=max(0.0, self._monotonic() - self._since),
                stale=self._api_error is not None,
                api_error=self._api_error,
                version=self._version,
            )
