"""Settings every test shares."""

from __future__ import annotations

import functools
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


# `./tasks test` runs the suite on several pytest-xdist workers (most tests wait on served worlds,
# not on a core). A real control plane is heavy, so every module that starts one shares one
# worker (`--dist loadgroup`): never two control planes at once, and a module's control plane is
# started once, not once per worker that happens to run one of its tests. bench/run starts one too.
_CONTROL_PLANE_SUPPORT = "tests.integration.control_plane_support"
# Tests that start one another way: the control plane's bench (tests/test_benches.py).
_STARTS_A_CONTROL_PLANE = frozenset(
    {"tests/test_benches.py::test_every_bench_runs_quick_and_prints_one_table[control_plane]"}
)
CONTROL_PLANE_GROUP = "control-plane"


@functools.cache
def starts_a_control_plane(module: Path) -> bool:
    """Whether the test module at `module` starts a real control plane (it imports the support
    module)."""
    try:
        return _CONTROL_PLANE_SUPPORT in module.read_text(encoding="utf-8")
    except OSError:
        return False


@functools.cache
def _control_plane_doc_cases() -> frozenset[str]:
    """The ids of the docs test's cases that start a control plane (tests/docs/cases.py)."""
    from tests.docs.cases import every_case

    docs = Path(__file__).resolve().parents[1] / "docs"
    return frozenset(case.id for case in every_case(docs) if case.starts_a_control_plane)


def _in_control_plane_group(root: Path, nodeid: str) -> bool:
    """Whether a test starts a control plane: its module does, it runs a docs case that does, or
    it is one of the few that start one another way."""
    module, _, name = nodeid.partition("::")
    parameters = name.partition("[")[2].removesuffix("]")
    return (
        nodeid in _STARTS_A_CONTROL_PLANE
        or starts_a_control_plane(root / module)
        or parameters in _control_plane_doc_cases()
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if starts_a_control_plane(item.path):
            item.add_marker(pytest.mark.xdist_group(CONTROL_PLANE_GROUP))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadgroup` that groups by module path too.

    xdist's loadgroup puts a test's group in its node id on the worker (`item._nodeid`), which
    pytest 9.2's structured node ids no longer read (pytest-dev/pytest-xdist#1386): the
    `xdist_group` mark above is silently ignored, and the control plane modules' tests were
    spread over every worker, each starting the module's control plane again, several at once.
    The controller sees only node ids, so it decides the group from the test module's path and,
    for the docs test, the case's id.
    """
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    root = config.rootpath

    class ControlPlaneGroupScheduling(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            scope = super()._split_scope(nodeid)
            if scope == nodeid and _in_control_plane_group(root, nodeid):
                return CONTROL_PLANE_GROUP
            return scope

    return ControlPlaneGroupScheduling(config, log)


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
