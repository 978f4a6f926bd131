"""Server-side Tables: the columns kubectl prints, in virtual time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from simulator.api.kind_registry import KindRegistry
from simulator.api.tables import human_age, table

NOW = datetime(2026, 1, 1, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(5, "5s"), (119, "119s"), (150, "2m30s"), (600, "10m"), (4 * 3600, "4h"), (3 * 86400, "3d")],
)
def test_human_age(seconds: int, expected: str) -> None:
    """Ages follow kubectl's short human duration."""
    then = (NOW - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert human_age(then, NOW) == expected


def _pod(waiting: str | None, phase: str = "Pending") -> dict[str, object]:
    status: dict[str, object] = {"phase": phase}
    if waiting:
        status["containerStatuses"] = [
            {
                "name": "db",
                "ready": False,
                "restartCount": 2,
                "state": {"waiting": {"reason": waiting}},
            }
        ]
    return {
        "metadata": {
            "name": "db-0",
            "namespace": "alga",
            "creationTimestamp": "2026-01-01T00:00:00Z",
        },
        "spec": {"containers": [{"name": "db"}]},
        "status": status,
    }


def test_pod_status_column_shows_the_waiting_reason() -> None:
    """STATUS is the container's waiting reason (CreateContainerConfigError), as kubectl shows."""
    info = KindRegistry().by_kind("v1", "Pod")
    assert info is not None
    doc = table(info, [_pod("CreateContainerConfigError")], NOW, "7")
    names = [c["name"] for c in doc["columnDefinitions"]]
    row = dict(zip(names, doc["rows"][0]["cells"], strict=True))
    assert row["Status"] == "CreateContainerConfigError"
    assert (row["Ready"], row["Restarts"], row["Age"]) == ("0/1", 2, "60m")
    assert doc["rows"][0]["object"]["metadata"]["namespace"] == "alga"


def test_pod_status_column_falls_back_to_the_phase() -> None:
    """Without a waiting reason STATUS is the phase."""
    info = KindRegistry().by_kind("v1", "Pod")
    assert info is not None
    row = table(info, [_pod(None, "Running")], NOW, "7")["rows"][0]["cells"]
    assert "Running" in row
