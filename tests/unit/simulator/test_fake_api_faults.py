"""FaultPlan: which requests a fault hits, for how many and until when."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from simulator.api.faults import FaultPlan

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_counted_fault_is_used_up() -> None:
    """A fault with count=2 answers two matching requests, then no more."""
    plan = FaultPlan()
    plan.add_error(503, path="/pods$", count=2)
    hits = [bool(plan.take("list", "/api/v1/pods", NOW)) for _ in range(3)]
    assert hits == [True, True, False]


def test_fault_matches_path_and_verbs() -> None:
    """Verbs and the path regex both have to match."""
    plan = FaultPlan()
    plan.add_throttle(path="/secrets", verbs={"create"})
    assert plan.take("create", "/api/v1/namespaces/a/secrets", NOW)
    assert not plan.take("list", "/api/v1/namespaces/a/secrets", NOW)
    assert not plan.take("create", "/api/v1/namespaces/a/configmaps", NOW)


def test_fault_expires_at_a_virtual_instant() -> None:
    """A fault with until= stops applying once virtual time reaches it."""
    plan = FaultPlan()
    plan.add_latency(0.5, until=NOW + timedelta(minutes=5))
    assert plan.take("get", "/api/v1/pods/x", NOW + timedelta(minutes=4))
    assert not plan.take("get", "/api/v1/pods/x", NOW + timedelta(minutes=5))


def test_drop_watches_calls_the_server_hook() -> None:
    """drop_watches() reaches every registered listener until it is removed."""
    plan = FaultPlan()
    calls: list[int] = []
    remove = plan.on_drop_watches(lambda: calls.append(1))
    plan.drop_watches()
    remove()
    plan.drop_watches()
    assert calls == [1]
