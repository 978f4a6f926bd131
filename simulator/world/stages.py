"""Reactive stages (kwok-style): objects matching a rule get its effect after a virtual delay.

A stage is armed when a matching object appears or changes, and fires after its delay if the
object is still there and still matches (so `db not ready` rules lapse once Postgres comes up).
Pod stages with a `containers` outcome hold the pod: the kubelet pulls its images, then asks
`hold(pod)`; the stage fires after its delay, and when it no longer matches by then the pod is
released back to the kubelet and starts normally.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from simulator.clock import rfc3339
from simulator.world.objects import Objects, meta, pod_is_ready, render, set_condition
from simulator.world.predicates import check_predicate, matches_labels
from simulator.world.scenario import ContainerOutcome, Match, ObjectState, Stage, StageEffect
from simulator.world.scheduling import Scheduler

__all__ = ["StageEngine", "apply_effect", "is_ready", "object_matches", "object_state_holds"]

Obj = dict[str, Any]


def object_matches(objects: Objects, obj: Obj, match: Match) -> bool:  # noqa: PLR0911
    """Whether `obj` satisfies the match (kind, apiVersion, namespace, name, labels, predicates)."""
    m = meta(obj)
    if obj.get("kind") != match.kind:
        return False
    if match.api_version and obj.get("apiVersion") != match.api_version:
        return False
    if match.namespace and m.get("namespace") != match.namespace:
        return False
    if match.name and m.get("name") != match.name:
        return False
    if match.name_pattern and not re.fullmatch(match.name_pattern, str(m.get("name", ""))):
        return False
    if not matches_labels(obj, match.labels):
        return False
    if not all(check_predicate(obj, path=p.path, op=p.op, value=p.value) for p in match.where):
        return False
    return all(object_state_holds(objects, state) for state in match.world)


def object_state_holds(objects: Objects, state: ObjectState) -> bool:
    """Whether some object named by `state.ref` exists and satisfies `where`/`ready` (or not)."""
    candidates = objects.resolve(state.ref)
    holds = any(_state_of(candidate, state) for candidate in candidates)
    return holds != state.negate


def _state_of(obj: Obj, state: ObjectState) -> bool:
    if state.ready is not None and is_ready(obj) != state.ready:
        return False
    return all(check_predicate(obj, path=p.path, op=p.op, value=p.value) for p in state.where)


def is_ready(obj: Obj) -> bool:
    """Readiness the way an operator reads it, per kind."""
    kind = obj.get("kind")
    status = obj.get("status") or {}
    if kind == "Pod":
        return pod_is_ready(obj)
    if kind in {"Deployment", "StatefulSet", "ReplicaSet"}:
        want = int((obj.get("spec") or {}).get("replicas", 1))
        return int(status.get("readyReplicas") or 0) >= want
    if kind == "Job":
        return any(
            c.get("type") == "Complete" and c.get("status") == "True"
            for c in status.get("conditions") or []
        )
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or []
    )


class StageEngine:
    """Arms and fires the scenario's stages."""

    def __init__(
        self,
        objects: Objects,
        *,
        scheduler: Scheduler,
        stages: list[Stage],
        release: Callable[[Obj], None],
    ) -> None:
        self.objects = objects
        self.scheduler = scheduler
        self.stages = stages
        self._release = release
        self._armed: set[tuple[str, str]] = set()
        self.fired: list[tuple[float, str, str]] = []

    def handle(self, event_type: str, obj: Obj) -> None:
        """Arm non-holding stages for a new or changed object."""
        if event_type == "DELETED" or obj.get("kind") == "Event":
            return
        uid = str(meta(obj).get("uid"))
        for stage in self.stages:
            if _holds_pods(stage) and obj.get("kind") == "Pod":
                continue
            key = (stage.name, uid)
            if key in self._armed or not object_matches(self.objects, obj, stage.match):
                continue
            self._armed.add(key)
            self.scheduler.call_later(
                stage.delay,
                functools.partial(self._fire, stage, obj, held=False),
                label=f"stage {stage.name}",
            )

    def hold(self, pod: Obj) -> bool:
        """Called by the kubelet before starting a pod: True when a stage takes it over."""
        holding = [
            s
            for s in self.stages
            if _holds_pods(s)
            and (s.name, str(meta(pod).get("uid"))) not in self._armed
            and object_matches(self.objects, pod, s.match)
        ]
        if not holding:
            return False
        stage = holding[0]
        self._armed.add((stage.name, str(meta(pod).get("uid"))))
        self.scheduler.call_later(
            stage.delay, lambda: self._fire(stage, pod, held=True), label=f"stage {stage.name}"
        )
        return True

    def _fire(self, stage: Stage, obj: Obj, *, held: bool) -> None:
        current = self.objects.fresh(obj)
        if current is None:
            return
        if not object_matches(self.objects, current, stage.match):
            if held:
                self._release(current)
            else:
                self._armed.discard((stage.name, str(meta(current).get("uid"))))
            return
        self.fired.append(
            (self.objects.clock.elapsed(), stage.name, str(meta(current).get("name")))
        )
        if stage.then.wait and held:
            if not any(
                name == stage.name and obj == meta(current).get("name")
                for _, name, obj in self.fired[:-1]
            ):
                apply_effect(self.objects, current, stage.then)
            self.scheduler.call_later(
                max(stage.delay, 1.0),
                lambda: self._fire(stage, current, held=True),
                label=f"stage {stage.name} (waiting)",
            )
            return
        apply_effect(self.objects, current, stage.then)
        if held and stage.then.every and stage.then.containers is not None:
            self._repeat_later(stage, current, restarts=1, wait=stage.then.every)
        if not stage.once and not held:
            self._armed.discard((stage.name, str(meta(current).get("uid"))))

    def _repeat_later(self, stage: Stage, pod: Obj, *, restarts: int, wait: float) -> None:
        def again() -> None:
            current = self.objects.fresh(pod)
            if current is None or not object_matches(self.objects, current, stage.match):
                return
            outcome = stage.then.containers
            assert outcome is not None
            bumped = outcome.model_copy(update={"restart_count": outcome.restart_count + restarts})
            apply_effect(
                self.objects, current, stage.then.model_copy(update={"containers": bumped})
            )
            self._repeat_later(stage, current, restarts=restarts + 1, wait=min(wait * 2, 300.0))

        self.scheduler.call_later(wait, again, label=f"stage {stage.name} (repeat)")


def _holds_pods(stage: Stage) -> bool:
    return stage.match.kind == "Pod" and (stage.then.containers is not None or stage.then.wait)


def apply_effect(objects: Objects, obj: Obj, effect: StageEffect) -> None:
    """Apply one stage effect (status, patch, containers, events, log, delete/restart).

    With `target`, the effect lands on the objects it names instead (a failed Job making its
    HelmRelease report `context deadline exceeded`); absent targets make it a no-op.
    """
    if effect.target is not None:
        targets = objects.resolve(effect.target)
        local = effect.model_copy(update={"target": None})
        for target in targets:
            apply_effect(objects, target, local)
        return
    if effect.patch:
        obj = objects.patch(obj, effect.patch) or obj
    if effect.status:
        obj = objects.patch_status(obj, effect.status) or obj
    if effect.containers is not None and obj.get("kind") == "Pod":
        obj = _container_outcome(objects, obj, effect.containers) or obj
    for event in ([effect.event] if effect.event else []) + list(effect.events):
        objects.emit(obj, event)
    if effect.log is not None:
        objects.write_log(obj, effect.log)
    if effect.delete or effect.restart:
        objects.delete(obj)


def _container_outcome(objects: Objects, pod: Obj, outcome: ContainerOutcome) -> Obj | None:
    now = objects.clock.now()
    statuses = []
    for c in (pod.get("spec") or {}).get("containers") or []:
        chosen = outcome.container in (None, c.get("name"))
        status: Obj = {
            "name": c.get("name"),
            "image": c.get("image"),
            "imageID": "",
            "ready": outcome.state == "running" and chosen,
            "started": outcome.state == "running",
            "restartCount": outcome.restart_count if chosen else 0,
        }
        if not chosen:
            status["state"] = {"running": {"startedAt": rfc3339(now)}}
            status["ready"] = True
        elif outcome.state == "waiting":
            status["state"] = {
                "waiting": {"reason": outcome.reason, "message": render(outcome.message, pod)}
            }
        elif outcome.state == "terminated":
            status["state"] = {
                "terminated": {
                    "exitCode": outcome.exit_code,
                    "reason": outcome.reason,
                    "message": render(outcome.message, pod),
                    "finishedAt": rfc3339(now),
                }
            }
        else:
            status["state"] = {"running": {"startedAt": rfc3339(now)}}
        if chosen and outcome.last_exit_code is not None:
            status["lastState"] = {
                "terminated": {
                    "exitCode": outcome.last_exit_code,
                    "reason": "Error",
                    "finishedAt": rfc3339(now),
                }
            }
        statuses.append(status)
    phase = outcome.phase or (
        "Pending" if outcome.reason.startswith("CreateContainer") else "Running"
    )
    conditions = (pod.get("status") or {}).get("conditions") or []
    for kind in ("ContainersReady", "Ready"):
        conditions = set_condition(
            conditions,
            kind,
            "False",
            now=now,
            reason="ContainersNotReady",
            message=f"containers with unready status: [{outcome.container or ''}]",
        )
    return objects.patch_status(
        pod, {"phase": phase, "containerStatuses": statuses, "conditions": conditions}
    )
