"""Read-only typed views of the raw objects, built once per evaluation (indexing.py).

In the spirit of kopf's bodies: the raw dict stays at hand (`.raw`), but every field the engine
reads is parsed here, once, with the tolerance a half-written object needs: a missing or
malformed field reads as absent, never as an exception. Everything after indexing reads views.

The views are NamedTuples: as read-only as frozen dataclasses, but built by `tuple.__new__`
rather than one `object.__setattr__` a field. A pod's views (the pod, its Ref, conditions and
containers) hold about 40 fields, and building them as frozen dataclasses was half of what
reading a pod cost (bench/status_engine.py reads 500). Being tuples, two views of one shape
compare equal when their fields are; nothing compares views of different kinds.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple, overload

from appliance.canonical import JobState, TierName
from appliance.components import component_of, is_foreign, tier_of
from appliance.snapshot import RawObject, as_dict, dicts, object_ref, parse_time

__all__ = [
    "Condition",
    "ContainerView",
    "JobView",
    "NodeView",
    "PodView",
    "PvcView",
    "Ref",
    "Termination",
    "WorkloadView",
    "conditions_of",
    "integer",
    "job_view",
    "node_view",
    "pod_view",
    "pvc_view",
    "ref_of",
    "text",
    "workload_view",
]

# Kinds that live outside namespaces: a namespace on their reference is noise.
_CLUSTER_SCOPED = frozenset({"Node", "Namespace", "PersistentVolume"})


def text(value: object) -> str | None:
    """A non-empty string field, else None."""
    return value if isinstance(value, str) and value else None


@overload
def integer(value: object) -> int | None: ...
@overload
def integer(value: object, default: int) -> int: ...
def integer(value: object, default: int | None = None) -> int | None:
    """An integer field (booleans are not integers), else `default`."""
    return value if isinstance(value, int) and not isinstance(value, bool) else default


class Ref(NamedTuple):
    """Which object: kind, namespace (None when cluster-scoped) and name."""

    kind: str
    namespace: str | None
    name: str

    def __str__(self) -> str:
        return object_ref(self.kind, self.namespace, self.name)


def ref_of(obj: RawObject, kind: str | None = None) -> Ref | None:
    """The reference of a raw object; None when it has no name (a half-written object)."""
    meta = as_dict(obj.get("metadata"))
    name = text(meta.get("name"))
    if name is None:
        return None
    kind = kind or text(obj.get("kind")) or "Unknown"
    namespace = None if kind in _CLUSTER_SCOPED else text(meta.get("namespace"))
    return Ref(kind=kind, namespace=namespace, name=name)


class Condition(NamedTuple):
    """One status condition."""

    type: str
    status: str | None
    reason: str | None
    message: str | None
    # lastTransitionTime as written; parsed only when read (most conditions never are).
    since_text: object = None

    @property
    def since(self) -> datetime | None:
        """When the condition last changed."""
        return parse_time(self.since_text)

    @property
    def true(self) -> bool:
        """The condition holds (`status: "True"`)."""
        return self.status == "True"

    def why(self) -> str:
        """`Reason: message` for a condition that does not hold."""
        reason = self.reason or self.status
        return f"{reason}: {self.message or ''}".strip().rstrip(":")


def conditions_of(status: Mapping[str, Any]) -> dict[str, Condition]:
    """A status's conditions by type (the first of each), as views read them."""
    out: dict[str, Condition] = {}
    conditions = status.get("conditions")
    if not isinstance(conditions, (list, tuple)):  # not `list | tuple`: made at each call
        return out
    for cond in conditions:  # read for every pod: `text` and `dicts` written out
        if not isinstance(cond, dict):
            continue
        kind = cond.get("type")
        if not isinstance(kind, str) or not kind or kind in out:
            continue
        value, reason, message = cond.get("status"), cond.get("reason"), cond.get("message")
        # Positional, in field order, as in _container: a keyword call costs twice as much.
        out[kind] = Condition(
            kind,
            str(value) if value is not None else None,
            reason if isinstance(reason, str) and reason else None,
            message if isinstance(message, str) and message else None,
            cond.get("lastTransitionTime"),
        )
    return out


class Termination(NamedTuple):
    """How a container run ended."""

    exit_code: int | None
    reason: str | None
    message: str | None
    finished_text: object = None

    @property
    def finished_at(self) -> datetime | None:
        """When the run ended."""
        return parse_time(self.finished_text)


def _termination(value: object) -> Termination | None:
    if not isinstance(value, dict):
        return None
    return Termination(
        exit_code=integer(value.get("exitCode")),
        reason=text(value.get("reason")),
        message=text(value.get("message")),
        finished_text=value.get("finishedAt"),
    )


class ContainerView(NamedTuple):
    """One container status of a pod."""

    name: str | None
    image: str | None
    init: bool
    ready: bool
    restart_count: int
    waiting: bool
    waiting_reason: str | None
    waiting_message: str | None
    running: bool
    terminated: Termination | None
    last_terminated: Termination | None


def _container(cs: RawObject, *, init: bool) -> ContainerView:
    state = as_dict(cs.get("state"))
    waiting = state.get("waiting")
    waiting_dict = as_dict(waiting)
    # Positional, in the class's field order (test_views pins each field by name): keywords
    # cost twice as much per call, and with Condition that was 0.35 ms of the bench's 500 pods.
    return ContainerView(
        text(cs.get("name")),
        text(cs.get("image")),
        init,
        cs.get("ready") is True,
        integer(cs.get("restartCount"), 0),
        isinstance(waiting, dict),
        text(waiting_dict.get("reason")),
        text(waiting_dict.get("message")),
        isinstance(state.get("running"), dict),
        _termination(state.get("terminated")),
        _termination(as_dict(cs.get("lastState")).get("terminated")),
    )


class PodView(NamedTuple):
    """A pod: its component, readiness and container states."""

    ref: Ref
    component: str | None
    tier: TierName
    phase: str | None
    conditions: Mapping[str, Condition]
    # Init containers first: they run (and fail) first.
    containers: tuple[ContainerView, ...]
    # Volume name -> PersistentVolumeClaim name.
    claims: Mapping[str, str]
    has_status: bool
    restart_policy: str | None
    # The Job that runs this pod (ownerReference, else its job-name label).
    job_name: str | None
    terminating: bool
    # Outside the appliance's namespaces: reported only as an unknown object.
    foreign: bool
    raw: RawObject

    @property
    def ready(self) -> bool:
        """The pod's Ready condition holds."""
        cond = self.conditions.get("Ready")
        return cond is not None and cond.true

    @property
    def finished(self) -> bool:
        """The pod ran to its end (Succeeded or Failed)."""
        return self.phase in ("Succeeded", "Failed")

    def first_waiting(self) -> ContainerView | None:
        """The first container waiting with a reason, init containers first."""
        return next((c for c in self.containers if c.waiting and c.waiting_reason), None)


def pod_view(obj: RawObject) -> PodView | None:
    """A pod's view; None for a pod without a name."""
    ref = ref_of(obj, "Pod")
    if ref is None:
        return None
    status = obj.get("status")
    status_dict = as_dict(status)
    spec = as_dict(obj.get("spec"))
    claims: dict[str, str] = {}
    for volume in dicts(spec.get("volumes")):
        claim = text(as_dict(volume.get("persistentVolumeClaim")).get("claimName"))
        name = text(volume.get("name"))
        if claim and name:
            claims[name] = claim
    component = component_of(obj)
    meta = as_dict(obj.get("metadata"))
    containers = [
        _container(cs, init=True) for cs in dicts(status_dict.get("initContainerStatuses"))
    ]
    containers.extend(
        _container(cs, init=False) for cs in dicts(status_dict.get("containerStatuses"))
    )
    return PodView(
        ref=ref,
        component=component,
        tier=tier_of(component, namespace=ref.namespace),
        phase=text(status_dict.get("phase")),
        conditions=conditions_of(status_dict),
        containers=tuple(containers),
        claims=claims,
        has_status=isinstance(status, dict),
        restart_policy=text(spec.get("restartPolicy")),
        job_name=_job_of(meta),
        terminating=text(meta.get("deletionTimestamp")) is not None,
        foreign=is_foreign(ref.namespace),
        raw=obj,
    )


def _job_of(meta: RawObject) -> str | None:
    for owner in dicts(meta.get("ownerReferences")):
        if owner.get("kind") == "Job" and text(owner.get("name")):
            return text(owner.get("name"))
    labels = as_dict(meta.get("labels"))
    return text(labels.get("batch.kubernetes.io/job-name")) or text(labels.get("job-name"))


class WorkloadView(NamedTuple):
    """A Deployment or StatefulSet: replicas wanted and ready, rollout progress."""

    ref: Ref
    component: str | None
    tier: TierName
    replicas: int
    ready_replicas: int
    # What status reports (None when the controller did not write it).
    status_replicas: int | None
    updated_replicas: int | None
    available_replicas: int | None
    unavailable_replicas: int | None
    generation: int | None
    observed_generation: int | None
    paused: bool
    current_revision: str | None
    update_revision: str | None
    update_strategy: str | None
    conditions: Mapping[str, Condition]
    foreign: bool
    raw: RawObject

    @property
    def ready(self) -> bool:
        """Every wanted replica is ready (a workload scaled to zero is not ready)."""
        return self.replicas > 0 and self.ready_replicas >= self.replicas


def workload_view(obj: RawObject, kind: str) -> WorkloadView | None:
    """A workload's view; None without a name."""
    ref = ref_of(obj, kind)
    if ref is None:
        return None
    spec = as_dict(obj.get("spec"))
    status = as_dict(obj.get("status"))
    meta = as_dict(obj.get("metadata"))
    component = component_of(obj)
    return WorkloadView(
        ref=ref,
        component=component,
        tier=tier_of(component, namespace=ref.namespace),
        replicas=integer(spec.get("replicas"), 1),
        ready_replicas=integer(status.get("readyReplicas"), 0),
        status_replicas=integer(status.get("replicas")),
        updated_replicas=integer(status.get("updatedReplicas")),
        available_replicas=integer(status.get("availableReplicas")),
        unavailable_replicas=integer(status.get("unavailableReplicas")),
        generation=integer(meta.get("generation")),
        observed_generation=integer(status.get("observedGeneration")),
        paused=spec.get("paused") is True,
        current_revision=text(status.get("currentRevision")),
        update_revision=text(status.get("updateRevision")),
        update_strategy=text(
            as_dict(spec.get("updateStrategy") or spec.get("strategy")).get("type")
        ),
        conditions=conditions_of(status),
        foreign=is_foreign(ref.namespace),
        raw=obj,
    )


class JobView(NamedTuple):
    """A Job: where it is, and how many pods ran."""

    ref: Ref
    component: str | None
    tier: TierName
    # RFC 3339 creation time as written (UTC texts order like the times they name).
    created: str
    state: JobState
    message: str | None
    active: int
    failed: int
    succeeded: int
    backoff_limit: int | None
    suspended: bool
    conditions: Mapping[str, Condition]
    foreign: bool
    raw: RawObject


def _job_state(
    conditions: Mapping[str, Condition], status: RawObject
) -> tuple[JobState, str | None]:
    for kind, state in (("Complete", JobState.COMPLETED), ("Failed", JobState.FAILED)):
        cond = conditions.get(kind)
        if cond is not None and cond.true:
            return state, cond.message or cond.reason
    if integer(status.get("succeeded"), 0) > 0:
        return JobState.COMPLETED, None
    failed = integer(status.get("failed"), 0)
    retrying = f"{failed} failed attempt(s), retrying" if failed else None
    if integer(status.get("active"), 0) > 0:
        return JobState.RUNNING, retrying
    suspended = conditions.get("Suspended")
    if suspended is not None and suspended.true:
        return JobState.WAITING, "suspended (spec.suspend)"
    if failed:
        # Between two attempts no pod is active: the Job is retrying, not waiting to start.
        return JobState.RUNNING, retrying
    return JobState.WAITING, None


def job_view(obj: RawObject) -> JobView | None:
    """A Job's view; None without a name."""
    ref = ref_of(obj, "Job")
    if ref is None:
        return None
    status = as_dict(obj.get("status"))
    spec = as_dict(obj.get("spec"))
    conditions = conditions_of(status)
    state, message = _job_state(conditions, status)
    if spec.get("suspend") is True and state is JobState.WAITING:
        message = "suspended (spec.suspend)"
    component = component_of(obj)
    return JobView(
        ref=ref,
        component=component,
        tier=tier_of(component, namespace=ref.namespace),
        created=str(as_dict(obj.get("metadata")).get("creationTimestamp") or ""),
        state=state,
        message=message,
        active=integer(status.get("active"), 0),
        failed=integer(status.get("failed"), 0),
        succeeded=integer(status.get("succeeded"), 0),
        backoff_limit=integer(spec.get("backoffLimit")),
        suspended=spec.get("suspend") is True,
        conditions=conditions,
        foreign=is_foreign(ref.namespace),
        raw=obj,
    )


class NodeView(NamedTuple):
    """A node and its Ready condition."""

    ref: Ref
    ready_condition: Condition | None

    @property
    def ready(self) -> bool:
        """The node's Ready condition holds."""
        return self.ready_condition is not None and self.ready_condition.true


def node_view(obj: RawObject) -> NodeView:
    """A node's view (a node without a name is `?`: it still counts as not Ready)."""
    ref = ref_of(obj, "Node") or Ref(kind="Node", namespace=None, name="?")
    return NodeView(ref=ref, ready_condition=conditions_of(as_dict(obj.get("status"))).get("Ready"))


class PvcView(NamedTuple):
    """A PersistentVolumeClaim and its phase."""

    ref: Ref
    component: str | None
    phase: str | None
    created: datetime | None
    foreign: bool


def pvc_view(obj: RawObject) -> PvcView | None:
    """A claim's view; None without a name."""
    ref = ref_of(obj, "PersistentVolumeClaim")
    if ref is None:
        return None
    return PvcView(
        ref=ref,
        component=component_of(obj),
        phase=text(as_dict(obj.get("status")).get("phase")),
        created=parse_time(as_dict(obj.get("metadata")).get("creationTimestamp")),
        foreign=is_foreign(ref.namespace),
    )
