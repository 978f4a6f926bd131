"""How `./tasks test` spreads the suite over its pytest-xdist workers (`--dist loadgroup`).

Every test is a unit of its own (any worker may run it), except in two cases. A module with a
module-scoped fixture is one unit, so that the fixture's work (a warped demo, a recording) is
done once, not once on each worker that happens to run one of the module's tests. And the tests
that start a real control plane (etcd, kube-apiserver, controllers) are dealt into lanes, each
one unit that one worker runs in collection order: a module's tests stay together (its control
plane starts once; the judge modules in a lane share one, see control_plane_support) and at most
that many run at once. Half the workers run lanes (`lanes_for`: two of `./tasks test`'s four),
at most three. More than one: a control plane test mostly waits for its scenario's virtual time
at a fixed speed (the bootstrap module: 155 s wall for 63 s of CPU), and one lane made their sum
(about 650 s) the suite's critical path; not many: a control plane's start and a bootstrap on it
are the heaviest things the suite does on a 2-core machine. The units are dealt longest first,
each to the lane with the least so far, by the wall times measured below.

The controller sees only node ids, so the unit is decided from them: the test module's path
(a module that imports `tests.integration.control_plane_support`), or, for a test whose cases
start one differently (a docs section, the control plane's bench), the node id itself.
xdist's own grouping (an `xdist_group` mark, turned into a node id suffix on the worker) no
longer works on pytest 9.2, whose structured node ids ignore the suffix
(pytest-dev/pytest-xdist#1386).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from xdist.scheduler import LoadGroupScheduling

__all__ = [
    "CONTROL_PLANE_LANES",
    "ControlPlaneLanes",
    "deal_lanes",
    "lanes_for",
    "starts_a_control_plane",
]

CONTROL_PLANE_LANES = 2
# With more workers, more lanes: half the workers at most run control planes, at most three.
MAX_LANES = 3


def lanes_for(workers: int) -> int:
    """How many control plane lanes `workers` xdist workers run."""
    return max(1, min(MAX_LANES, workers // 2))


_ROOT = Path(__file__).resolve().parents[1]
_SUPPORT = "tests.integration.control_plane_support"
_LANE = "control-plane-"
# Tests that start a control plane other than through the support module.
_STARTS_ONE = frozenset(
    {"tests/test_benches.py::test_every_bench_runs_quick_and_prints_one_table[control_plane]"}
)
# Wall seconds each unit took in a full `./tasks test` on the 2-core development machine (the
# lanes together: 557 s, measured per test by a timeline plugin in the run of 2026-11-29 17:13);
# only their proportions matter, to balance the lanes. A unit missing here counts as
# `_UNMEASURED`. The judges (test_fake_api_vs_apiserver_*) less 6 s each since they share a
# control plane: its start and stop took 5.7 s of each one's wall in one process (2026-11-29
# 21:45), times 1.5, how much longer they took in that full run; the first judge of a lane still
# pays it.
_MEASURED = {
    "tests/docs/test_docs_commands.py::test_document_runs_as_written"
    "[user-guide.md#6-run-a-scenario-on-a-real-control-plane]": 86.0,
    "tests/docs/test_docs_commands.py::test_document_runs_as_written"
    "[user-guide.md#7-judge-the-fake-api-against-a-real-control-plane]": 41.0,
    "tests/integration/test_control_plane_bootstrap.py": 132.0,
    "tests/integration/test_control_plane_fidelity.py": 29.0,
    "tests/integration/test_control_plane.py": 68.0,
    "tests/integration/test_control_plane_command.py": 24.0,
    "tests/integration/test_fake_api_vs_apiserver_fields.py": 22.0,
    "tests/integration/test_fake_api_vs_apiserver_published.py": 7.0,
    "tests/integration/test_fake_api_vs_apiserver_refusals.py": 23.0,
    "tests/integration/test_fake_api_vs_apiserver_rbac.py": 53.0,
    "tests/integration/test_fake_api_vs_apiserver_platform.py": 22.5,
    "tests/integration/test_fake_api_vs_apiserver_watch.py": 5.0,
    "tests/integration/test_fake_api_vs_apiserver_undeclared.py": 12.0,
    "tests/integration/test_fake_api_vs_apiserver_crd_openapi.py": 5.0,
    "tests/integration/test_fake_api_vs_apiserver_events.py": 5.0,
    "tests/integration/test_fake_api_vs_apiserver_namespaces.py": 7.0,
    "tests/integration/test_fake_api_vs_apiserver_volumes.py": 10.0,
    "tests/integration/test_fake_api_vs_apiserver_cr_validation.py": 16.0,
    "tests/integration/test_fake_api_vs_apiserver_cr_scale.py": 10.0,
    "tests/integration/test_fake_api_vs_apiserver_cr_selectors.py": 6.0,
    "tests/test_benches.py::test_every_bench_runs_quick_and_prints_one_table[control_plane]": 20.0,
}
_UNMEASURED = 20.0


@functools.cache
def _module_starts_one(module: str) -> bool:
    try:
        return _SUPPORT in (_ROOT / module).read_text(encoding="utf-8")
    except OSError:
        return False


@functools.cache
def _has_module_fixtures(module: str) -> bool:
    try:
        return 'scope="module"' in (_ROOT / module).read_text(encoding="utf-8")
    except OSError:
        return False


@functools.cache
def _docs_cases_starting_one() -> frozenset[str]:
    """The ids of the docs test's cases that start a control plane (tests/docs/cases.py)."""
    from tests.docs.cases import every_case

    return frozenset(case.id for case in every_case(_ROOT / "docs") if case.starts_a_control_plane)


def _unit(nodeid: str) -> str | None:
    """The control plane unit a test belongs to, None for any other test."""
    module, _, name = nodeid.partition("::")
    if _module_starts_one(module):
        return module
    if nodeid in _STARTS_ONE or name.partition("[")[2][:-1] in _docs_cases_starting_one():
        return nodeid
    return None


def starts_a_control_plane(nodeid: str) -> bool:
    """Whether the test starts a real control plane (or shares its lane's)."""
    return _unit(nodeid) is not None


def deal_lanes(nodeids: list[str], lanes: int = CONTROL_PLANE_LANES) -> dict[str, str]:
    """The lane of each control plane unit among `nodeids`: longest first, to the lightest."""
    units = sorted(
        {unit for unit in map(_unit, nodeids) if unit is not None},
        key=lambda unit: (-_MEASURED.get(unit, _UNMEASURED), unit),
    )
    load = [0.0] * lanes
    dealt = {}
    for unit in units:
        lane = load.index(min(load))
        load[lane] += _MEASURED.get(unit, _UNMEASURED)
        dealt[unit] = f"{_LANE}{lane + 1}"
    return dealt


class ControlPlaneLanes(LoadGroupScheduling):
    """loadgroup with the control plane lanes of the module docstring."""

    _lanes: dict[str, str] | None = None

    def schedule(self) -> None:
        if self._lanes is None and self.registered_collections:
            collection = list(next(iter(self.registered_collections.values())))
            self._lanes = deal_lanes(collection, lanes_for(self.numnodes))
        super().schedule()

    def _split_scope(self, nodeid: str) -> str:
        unit = _unit(nodeid)
        if unit is not None and self._lanes is not None:
            return self._lanes[unit]
        module = nodeid.partition("::")[0]
        return module if _has_module_fixtures(module) else super()._split_scope(nodeid)

    def _assign_work_unit(self, node: Any) -> None:
        # The lanes first, whatever their number of tests (LoadScopeScheduling queues the units
        # with the most tests first): each takes minutes, so each must start at once.
        lane = next((scope for scope in self.workqueue if scope.startswith(_LANE)), None)
        if lane is not None:
            self.workqueue.move_to_end(lane, last=False)
        super()._assign_work_unit(node)
