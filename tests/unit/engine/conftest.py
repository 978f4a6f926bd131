"""Fixtures for the status engine: a healthy appliance world that each test breaks its own way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from appliance.canonical import ApplianceStatus, LoginProbe
from appliance.engine import evaluate
from tests.fixtures import APP_URL, Appliance, probe_ok


@pytest.fixture
def world() -> Appliance:
    """A fully healthy appliance to modify."""
    return Appliance.healthy()


Evaluate = Callable[..., ApplianceStatus]


@pytest.fixture
def status_of() -> Evaluate:
    """Evaluate a world live, with a successful login probe and 7 seeded users unless told."""

    def run(
        w: Appliance,
        *,
        probe: LoginProbe | None = None,
        no_probe: bool = False,
        users: int | None = 7,
        measurable: bool = True,
        **kwargs: Any,
    ) -> ApplianceStatus:
        return evaluate(
            w.snapshot(**kwargs),
            site_id="appliance-single-node",
            login_probe=None if no_probe else (probe or probe_ok()),
            users_count=users,
            users_count_measurable=measurable,
            login_url=APP_URL,
            status_url="http://192.168.64.8:8080",
        )

    return run
