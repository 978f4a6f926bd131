"""Settings every test shares."""

from __future__ import annotations

import sys
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    """`--fixed-speed`: served worlds run at their scenario's fixed speed instead of warped."""
    parser.addoption(
        "--fixed-speed",
        action="store_true",
        help="run the BDD worlds at the scenario's fixed speed (for watching one by hand) "
        "instead of warping time",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "fixed_speed: run this scenario's world at its fixed speed, not warped"
    )


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`./tasks test` runs the suite on several pytest-xdist workers (most tests wait on served
    worlds, not on a core), `--dist loadgroup`: the tests that start a real control plane run
    in two lanes (tests/scheduling.py)."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from tests.scheduling import ControlPlaneLanes

    return ControlPlaneLanes(config, log)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None]:
    """The judges' shared control plane (tests/integration/control_plane_support.py) stops once
    the test whose teardown this is was the last judge before another kind of test."""
    try:
        return (yield)
    finally:
        support = sys.modules.get("tests.integration.control_plane_support")
        if support is not None:
            support.release_unless_judged(nextitem)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """An interrupted session stops the judges' shared control plane too (after the fixtures'
    own teardown, which needs it)."""
    support = sys.modules.get("tests.integration.control_plane_support")
    if support is not None:
        support.release_unless_judged(None)


@pytest.fixture(autouse=True)
def _no_docker_login(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Registry clients (and the commands tests start) never read the developer's Docker login.

    A test that needs credentials writes its own config and points DOCKER_CONFIG at it.
    """
    directory = tmp_path_factory.mktemp("docker-config")
    monkeypatch.setenv("DOCKER_CONFIG", str(directory))
    return directory
