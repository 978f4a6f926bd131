"""What the verbs of a scenario's scripted `events:` do to the world.

The scenario model says which fields each verb needs (`scenario.Verb`, `scenario.VERB_FIELDS`);
this table says what it does. Adding a verb is an entry in both (a test keeps them in step).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from simulator.world.objects import Objects
from simulator.world.scenario import Action, FaultSpec, Verb

__all__ = ["ACTIONS", "ScriptHost"]


class ScriptHost(Protocol):
    """What a scripted verb may touch: the world's objects, its node and its fake API."""

    @property
    def objects(self) -> Objects: ...

    @property
    def reactive(self) -> bool:
        """False for a recorded scenario, replayed verbatim (no kubelet of its own)."""
        ...

    def node_up(self) -> None: ...

    def inject_fault(self, spec: FaultSpec) -> None: ...


def _apply(world: ScriptHost, action: Action) -> None:
    world.objects.apply(dict(action.object or {}))


def _patch(world: ScriptHost, action: Action) -> None:
    patch = action.patch or {}
    for target in world.objects.resolve(action.target):
        if action.subresource == "status":
            world.objects.patch_status(target, patch.get("status", patch))
        else:
            world.objects.patch(target, patch)


def _delete(world: ScriptHost, action: Action) -> None:
    # A recording's delete is the moment the object went (its Terminating period was before it,
    # and no kubelet of the world's would end a new one): gone at once. A scenario's own delete
    # is a client's (`kubectl delete pod db-0`): a pod terminates for its grace period.
    grace_period = None if world.reactive else 0
    for target in world.objects.resolve(action.target):
        world.objects.delete(target, grace_period=grace_period)


def _event(world: ScriptHost, action: Action) -> None:
    if action.event is not None:
        for target in world.objects.resolve(action.target):
            world.objects.emit(target, action.event)


def _log(world: ScriptHost, action: Action) -> None:
    if action.log is not None:
        for target in world.objects.resolve(action.target):
            world.objects.write_log(target, action.log)


def _fault(world: ScriptHost, action: Action) -> None:
    if action.fault is not None:
        world.inject_fault(action.fault)


def _note(world: ScriptHost, action: Action) -> None:
    """A note only marks the timeline (the world's `actions_run`)."""


def _node_up(world: ScriptHost, action: Action) -> None:
    world.node_up()


ACTIONS: dict[Verb, Callable[[ScriptHost, Action], None]] = {
    "apply": _apply,
    "patch": _patch,
    "delete": _delete,
    "event": _event,
    "log": _log,
    "fault": _fault,
    "note": _note,
    "nodeUp": _node_up,
}
