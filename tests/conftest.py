"""Settings every test shares."""

from __future__ import annotations

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
