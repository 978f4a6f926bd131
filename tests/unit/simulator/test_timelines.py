"""How two backends' rollup timelines are compared (simulator.controlplane.timelines)."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.bootstrapping import RollupLine
from simulator.controlplane.timelines import bootstrap_on, shapes_agree, timeline_shape

STORAGE = "Storage binding: db (PersistentVolumeClaim db-data-db-0 is not bound (phase Pending).)"


def test_a_shape_keeps_states_and_blocker_layers_each_change_once() -> None:
    lines = [
        RollupLine(10, "installing", ""),
        RollupLine(20, "installing", STORAGE),
        RollupLine(25, "installing", STORAGE.replace("Pending", "Lost")),  # same layer
        RollupLine(30, "installing", ""),
        RollupLine(90, "ready", ""),
    ]
    assert timeline_shape(lines) == [
        ("installing", ""),
        ("installing", "Storage binding"),
        ("installing", ""),
        ("ready", ""),
    ]


def test_the_later_observer_must_see_the_end_of_what_the_earlier_saw() -> None:
    early = [
        ("installing", ""),
        ("installing", "Storage binding"),
        ("installing", ""),
        ("ready", ""),
    ]
    assert shapes_agree(early, early[1:])
    assert shapes_agree(early[2:], early)
    assert not shapes_agree(early, [("ready", ""), ("fully_healthy", "")])
    assert not shapes_agree(early, [("installing", ""), ("installing", "Image tag availability")])
    assert not shapes_agree(early, [])


def test_a_control_planes_clock_cannot_be_warped() -> None:
    """Refused before anything starts: kube-apiserver and its controllers run in wall time."""
    with pytest.raises(ValueError, match="cannot be warped"):
        bootstrap_on(
            Path("scenarios/happy-path.yaml"), "control-plane", repository=Path("."), warp=True
        )
