"""Stage predicates and the virtual-time scheduler the world engine is built on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from simulator.clock import VirtualClock
from simulator.world.predicates import check_predicate, resolve
from simulator.world.scheduling import Scheduler

POD = {
    "spec": {
        "containers": [
            {"name": "temporal", "command": ["/etc/temporal/entrypoint.sh", "start"]},
            {"name": "sidecar", "volumeMounts": [{"name": "db-data", "subPath": "data"}]},
        ]
    },
    "status": {"conditions": [{"type": "Ready", "status": "False"}]},
}


def test_resolve_picks_list_items_by_field() -> None:
    """`[type=Ready]` selects the condition whose type is Ready."""
    assert resolve(POD, "status.conditions[type=Ready].status") == ["False"]


def test_resolve_wildcards_every_item() -> None:
    """`[*]` walks every list item; missing keys contribute nothing."""
    assert resolve(POD, "spec.containers[*].volumeMounts[*].subPath") == ["data"]


@pytest.mark.parametrize(
    ("path", "op", "value", "expected"),
    [
        ("spec.containers[*].command", "notContains", "autosetup", True),
        ("spec.containers[0].command", "contains", "entrypoint.sh start", True),
        ("spec.enableServiceLinks", "notEquals", False, True),
        ("spec.enableServiceLinks", "equals", False, False),
        ("spec.initContainers", "notExists", None, True),
        ("spec.containers[*].name", "in", ["temporal", "ui"], True),
        ("spec.containers[*].name", "notIn", ["temporal"], False),
    ],
)
def test_predicates(path: str, op: str, value: object, expected: bool) -> None:
    """Each op answers as documented (absent fields pass notEquals, like Kubernetes defaults)."""
    assert check_predicate(POD, path=path, op=op, value=value) is expected


def test_scheduler_runs_in_virtual_time_order() -> None:
    """Callbacks run by virtual instant, ties in scheduling order, and move the frozen clock."""
    start = datetime(2026, 6, 20, 14, 0, tzinfo=UTC)
    clock = VirtualClock(start)
    scheduler = Scheduler(clock)
    seen: list[tuple[str, float]] = []
    scheduler.call_later(60, lambda: seen.append(("b", clock.elapsed())))
    scheduler.call_later(10, lambda: seen.append(("a", clock.elapsed())))
    scheduler.call_later(60, lambda: seen.append(("c", clock.elapsed())))
    ran = scheduler.run_until(start + timedelta(seconds=30))
    assert (ran, seen) == (1, [("a", 10.0)])
    scheduler.run_until(start + timedelta(seconds=120))
    assert seen == [("a", 10.0), ("b", 60.0), ("c", 60.0)]
    assert clock.elapsed() == 120


def test_scheduler_keeps_going_after_a_failing_callback() -> None:
    """A reaction that raises is recorded, and later callbacks still run."""
    clock = VirtualClock(datetime(2026, 6, 20, tzinfo=UTC))
    scheduler = Scheduler(clock)
    done: list[int] = []

    def broken() -> None:
        raise RuntimeError("boom")

    scheduler.call_later(1, broken)
    scheduler.call_later(2, lambda: done.append(2))
    scheduler.run_until(clock.now() + timedelta(seconds=5))
    assert done == [2]
    assert [str(e) for e in scheduler.errors] == ["boom"]
