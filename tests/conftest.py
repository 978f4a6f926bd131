"""Settings every test shares."""

from __future__ import annotations

from pathlib import Path

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


# `./tasks test` runs the suite on several pytest-xdist workers (most tests wait on served worlds,
# not on a core). A real control plane is heavy, so every module that starts one shares one
# worker (`--dist loadgroup`): never two control planes at once. bench/run starts one too.
_CONTROL_PLANE_SUPPORT = "tests.integration.control_plane_support"
_STARTS_A_CONTROL_PLANE = frozenset({"test_benches.py"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        module = getattr(item, "module", None)
        uses_support = module is not None and any(
            getattr(value, "__module__", None) == _CONTROL_PLANE_SUPPORT
            for value in vars(module).values()
        )
        if uses_support or item.path.name in _STARTS_A_CONTROL_PLANE:
            item.add_marker(pytest.mark.xdist_group("control-plane"))


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
