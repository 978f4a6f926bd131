"""The suite's xdist scheduler (tests/scheduling.py), driven with stand-in workers.

It leans on xdist's LoadScopeScheduling internals (`_split_scope`, the work queue); this keeps a
change there from silently putting two control plane modules on every worker again.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from tests.scheduling import ControlPlaneLanes, deal_lanes, lanes_for

ROOT = Path(__file__).resolve().parents[2]
DOC_6 = (
    "tests/docs/test_docs_commands.py::test_document_runs_as_written"
    "[user-guide.md#6-run-a-scenario-on-a-real-control-plane]"
)
COLLECTION = [
    "tests/docs/test_docs_commands.py::test_document_runs_as_written[user-guide.md#1-run-a-scenario]",
    DOC_6,
    *(f"tests/integration/test_control_plane.py::test_{n}" for n in range(3)),
    *(f"tests/integration/test_control_plane_bootstrap.py::test_{n}" for n in range(2)),
    "tests/integration/test_control_plane_command.py::test_0",
    *(f"tests/integration/test_recording.py::test_{n}" for n in range(4)),
    *(f"tests/integration/test_fake_api_kubectl.py::test_{n}" for n in range(12)),
    *(f"tests/unit/engine/test_tiers_and_rollup.py::test_{n}" for n in range(8)),
    "tests/test_benches.py::test_every_bench_runs_quick_and_prints_one_table[control_plane]",
    "tests/test_benches.py::test_every_bench_runs_quick_and_prints_one_table[replay]",
]


class _Worker:
    def __init__(self, name: str) -> None:
        self.gateway = SimpleNamespace(id=name)
        self.shutting_down = False
        self.sent: list[list[str]] = []

    def send_runtest_some(self, indexes: list[int]) -> None:
        self.sent.append([COLLECTION[i] for i in indexes])

    def shutdown(self) -> None:
        self.shutting_down = True


def _scheduled(workers: int) -> list[_Worker]:
    config: Any = SimpleNamespace(
        getvalue=lambda name: [f"{workers}*popen"] if name == "tx" else None,
        option=SimpleNamespace(loadscopereorder=True),
    )
    scheduler = ControlPlaneLanes(config)
    nodes = [_Worker(f"gw{n}") for n in range(workers)]
    for node in nodes:
        scheduler.add_node(node)  # type: ignore[arg-type]
        scheduler.add_node_collection(node, COLLECTION)  # type: ignore[arg-type]
    scheduler.schedule()
    return nodes


def _starts_a_control_plane(nodeid: str) -> bool:
    return "test_control_plane" in nodeid or nodeid.endswith(("[control_plane]", DOC_6))


def test_control_plane_tests_run_in_two_lanes_that_start_first() -> None:
    """With four workers, each of two lanes goes whole to one worker, first (before a module
    unit with more tests), and every control plane test is in one of them."""
    first = [node.sent[0] for node in _scheduled(4)]
    lanes = [unit for unit in first if any(map(_starts_a_control_plane, unit))]
    assert len(lanes) == 2, first
    assert all(_starts_a_control_plane(nodeid) for unit in lanes for nodeid in unit), lanes
    in_lanes = sorted(nodeid for unit in lanes for nodeid in unit)
    assert in_lanes == sorted(n for n in COLLECTION if _starts_a_control_plane(n))
    for unit in lanes:  # a module's tests stay together, in collection order
        assert unit == sorted(unit, key=COLLECTION.index)


def test_a_module_with_module_fixtures_is_one_unit_and_the_rest_spread() -> None:
    sent = [unit for node in _scheduled(4) for unit in node.sent]
    recording = [unit for unit in sent if any("test_recording" in nodeid for nodeid in unit)]
    assert len(recording) == 1
    assert len(recording[0]) == 4
    plain = [unit for unit in sent if any("test_tiers_and_rollup" in nodeid for nodeid in unit)]
    assert all(len(unit) == 1 for unit in plain)


def test_the_longest_units_are_dealt_to_different_lanes() -> None:
    lanes = deal_lanes(COLLECTION)
    assert lanes[DOC_6] != lanes["tests/integration/test_control_plane_bootstrap.py"]
    assert set(lanes.values()) == {"control-plane-1", "control-plane-2"}


def test_half_the_workers_run_control_planes_and_three_at_most() -> None:
    assert [lanes_for(workers) for workers in (1, 2, 3, 4, 5, 6, 8, 16)] == [1, 1, 1, 2, 2, 3, 3, 3]
