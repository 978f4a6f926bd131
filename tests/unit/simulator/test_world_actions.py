"""The scripted verbs: the scenario model's table and the engine's table name the same verbs."""

from __future__ import annotations

from typing import get_args

from simulator.world.actions import ACTIONS
from simulator.world.engine import World
from simulator.world.scenario import VERB_FIELDS, Verb, parse_scenario


def test_every_verb_has_its_fields_and_its_handler() -> None:
    """Adding a verb to `Verb` without its fields or its handler fails here, not mid-replay."""
    assert set(get_args(Verb)) == set(VERB_FIELDS) == set(ACTIONS)


def test_a_scripted_delete_resolves_labels_to_every_matching_object() -> None:
    """One `resolve(ref)` serves actions, stages and exec answers: labels select several."""
    world = World(
        parse_scenario(
            """
name: delete-by-label
objects:
  - {apiVersion: v1, kind: ConfigMap, metadata: {name: a, namespace: msp, labels: {tier: x}}}
  - {apiVersion: v1, kind: ConfigMap, metadata: {name: b, namespace: msp, labels: {tier: x}}}
  - {apiVersion: v1, kind: ConfigMap, metadata: {name: c, namespace: msp, labels: {tier: y}}}
events:
  - at: 10s
    action: delete
    target: {apiVersion: v1, kind: ConfigMap, namespace: msp, labels: {tier: x}}
""",
            source="test.yaml",
        )
    )
    world.run_until(20)
    left = [o["metadata"]["name"] for o in world.objects.list("v1", "ConfigMap", "msp")]
    assert left == ["c"]
    assert [action.action for _, action in world.actions_run] == ["delete"]
