"""The health verdicts kustomize-controller's health checks reach, ported from what it runs.

kustomize-controller v1.9.6 waits on the objects a Kustomization applied with a kstatus
`StatusPoller`: Flux's own Job reader (fluxcd/pkg/runtime v0.110.3 `statusreaders/job.go`, a Job
is healthy when it has completed), and for every other kind `status.Compute` of
fluxcd/cli-utils v1.2.3 (`pkg/kstatus/status`: generic.go, core.go, status.go, util.go), its
fork of kstatus. Each verdict is one of the STATUSES with kstatus's message; a reader's error
is `Unknown` with the error's text (the poller's `ResourceStatus.Error`). Where kstatus reads
the wall clock (a Pod unschedulable for 15 s), `now` is the world's.

`tools/control-plane/kustomize-controller/kstatus` builds the real readers into
`kstatus-verdicts`, the judge these are held to (tests/integration/test_kstatus_verdicts.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from simulator.api.fields.fieldsets import go_map, go_type

__all__ = ["CURRENT", "FAILED", "IN_PROGRESS", "NOT_FOUND", "UNKNOWN", "Verdict", "flux_verdict"]

IN_PROGRESS, FAILED, CURRENT = "InProgress", "Failed", "Current"
TERMINATING, NOT_FOUND, UNKNOWN = "Terminating", "NotFound", "Unknown"
_SCHEDULE_WINDOW = timedelta(seconds=15)
_NO_DEADLINE = 2**31 - 1  # math.MaxInt32: a Deployment without a progress deadline
_ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)  # Go's time.Time{}

Obj = dict[str, Any]


class Verdict(NamedTuple):
    status: str
    message: str


class _ReaderError(Exception):
    """What a reader returns as its error: the verdict is Unknown, with this text."""


def flux_verdict(obj: Obj | None, *, now: datetime) -> Verdict:
    """The verdict kustomize-controller's poller gives `obj` (None: the object is gone)."""
    if obj is None:
        return Verdict(NOT_FOUND, "Resource not found")
    try:
        if _group(obj) == "batch" and obj.get("kind") == "Job":
            return _flux_job(obj)
        return _compute(obj, now)
    except _ReaderError as exc:
        return Verdict(UNKNOWN, str(exc))


def _group(obj: Obj) -> str:
    api_version = obj.get("apiVersion")
    group, slash, _ = (api_version if isinstance(api_version, str) else "").rpartition("/")
    return group if slash else ""


# -- status.Compute ---------------------------------------------------------------------------


def _compute(obj: Obj, now: datetime) -> Verdict:
    verdict = _generic(obj)
    if verdict is not None:
        return verdict
    kind = str(obj.get("kind") or "")
    group = _group(obj)
    rule = _RULES.get(f"{group}/{kind}" if group else kind)
    if rule is not None:
        return rule(obj, now)
    for condition in _conditions(obj):
        if condition["type"] == "Ready":
            if condition["status"] == "True":
                return Verdict(CURRENT, "Resource is Ready")
            if condition["status"] in ("False", "Unknown"):
                return Verdict(IN_PROGRESS, condition["message"])
    return Verdict(CURRENT, "Resource is current")


def _generic(obj: Obj) -> Verdict | None:
    """checkGenericProperties: deletion, the observed generation, Reconciling and Stalled."""
    found, deleted = _nested(obj, "metadata", "deletionTimestamp")
    if found:
        if not isinstance(deleted, str):
            raise _lookup_error(("metadata", "deletionTimestamp"), deleted, "string")
        if deleted:
            return Verdict(TERMINATING, "Resource scheduled for deletion")
    verdict = _check_generation(obj)
    if verdict is not None:
        return verdict
    for condition in _conditions(obj):
        if condition["type"] == "Reconciling" and condition["status"] == "True":
            return Verdict(IN_PROGRESS, condition["message"])
        if condition["type"] == "Stalled" and condition["status"] == "True":
            return Verdict(FAILED, condition["message"])
    return None


def _check_generation(obj: Obj) -> Verdict | None:
    generation = _int64(obj, ("metadata", "generation"))
    if generation is None:
        return None
    observed = _int64(obj, ("status", "observedGeneration"))
    if observed is not None and observed != generation:
        return Verdict(
            IN_PROGRESS,
            f"{obj.get('kind', '')} generation is {generation}, "
            f"but latest observed generation is {observed}",
        )
    return None


def _always_ready(obj: Obj, now: datetime) -> Verdict:
    return Verdict(CURRENT, "Resource is always ready")


def _statefulset(obj: Obj, now: datetime) -> Verdict:  # noqa: PLR0911 - kstatus's checks, in order
    if _string(obj, ".spec.updateStrategy.type", "") == "OnDelete":
        return Verdict(CURRENT, "StatefulSet is using the ondelete update strategy")
    spec = _int(obj, ".spec.replicas", 1)
    ready = _int(obj, ".status.readyReplicas", 0)
    current = _int(obj, ".status.currentReplicas", 0)
    updated = _int(obj, ".status.updatedReplicas", 0)
    replicas = _int(obj, ".status.replicas", 0)
    partition = _int(obj, ".spec.updateStrategy.rollingUpdate.partition", -1)
    if spec > replicas:
        return Verdict(IN_PROGRESS, f"Replicas: {replicas}/{spec}")
    if spec > ready:
        return Verdict(IN_PROGRESS, f"Ready: {ready}/{spec}")
    if replicas > spec:
        return Verdict(IN_PROGRESS, f"Pending termination: {replicas - spec}")
    if partition != -1:
        if updated < spec - partition:
            return Verdict(IN_PROGRESS, f"updated: {updated}/{spec - partition}")
        return Verdict(CURRENT, f"Partition rollout complete. updated: {updated}")
    if spec > current:
        return Verdict(IN_PROGRESS, f"current: {current}/{spec}")
    if _string(obj, ".status.currentRevision", "") != _string(obj, ".status.updateRevision", ""):
        return Verdict(IN_PROGRESS, "Waiting for updated revision to match current")
    return Verdict(CURRENT, f"All replicas scheduled as expected. Replicas: {replicas}")


def _deployment(obj: Obj, now: datetime) -> Verdict:  # noqa: PLR0911 - kstatus's checks, in order
    # Without a progress deadline the controller never sets Progressing: kstatus assumes it.
    progressing = _int(obj, ".spec.progressDeadlineSeconds", _NO_DEADLINE) == _NO_DEADLINE
    available = False
    for condition in _conditions(obj):
        if condition["type"] == "Progressing":
            if condition["reason"] == "ProgressDeadlineExceeded":
                return Verdict(FAILED, "Progress deadline exceeded")
            if condition["status"] == "True" and condition["reason"] == "NewReplicaSetAvailable":
                progressing = True
        elif condition["type"] == "Available" and condition["status"] == "True":
            available = True
    spec = _int(obj, ".spec.replicas", 1)
    replicas = _int(obj, ".status.replicas", 0)
    updated = _int(obj, ".status.updatedReplicas", 0)
    ready = _int(obj, ".status.readyReplicas", 0)
    available_replicas = _int(obj, ".status.availableReplicas", 0)
    if spec > replicas:
        return Verdict(IN_PROGRESS, f"Replicas: {replicas}/{spec}")
    if spec > updated:
        return Verdict(IN_PROGRESS, f"Updated: {updated}/{spec}")
    if replicas > spec:
        return Verdict(IN_PROGRESS, f"Pending termination: {replicas - spec}")
    if updated > available_replicas:
        return Verdict(IN_PROGRESS, f"Available: {available_replicas}/{updated}")
    if spec > ready:
        return Verdict(IN_PROGRESS, f"Ready: {ready}/{spec}")
    if not progressing:
        return Verdict(IN_PROGRESS, "ReplicaSet not Available")
    if not available:
        return Verdict(IN_PROGRESS, "Deployment not Available")
    return Verdict(CURRENT, f"Deployment is available. Replicas: {replicas}")


def _replicaset(obj: Obj, now: datetime) -> Verdict:
    for condition in _conditions(obj):
        if condition["type"] == "ReplicaFailure" and condition["status"] == "True":
            return Verdict(IN_PROGRESS, "Replica Failure condition. Check Pods")
    spec = _int(obj, ".spec.replicas", 1)
    replicas = _int(obj, ".status.replicas", 0)
    ready = _int(obj, ".status.readyReplicas", 0)
    available = _int(obj, ".status.availableReplicas", 0)
    labelled = _int(obj, ".status.fullyLabeledReplicas", 0)
    if spec > labelled:
        return Verdict(IN_PROGRESS, f"Labelled: {labelled}/{spec}")
    if spec > available:
        return Verdict(IN_PROGRESS, f"Available: {available}/{spec}")
    if spec > ready:
        return Verdict(IN_PROGRESS, f"Ready: {ready}/{spec}")
    if replicas > spec:
        return Verdict(IN_PROGRESS, f"Pending termination: {replicas - spec}")
    return Verdict(CURRENT, f"ReplicaSet is available. Replicas: {replicas}")


def _daemonset(obj: Obj, now: datetime) -> Verdict:  # noqa: PLR0911 - kstatus's checks, in order
    kind = obj.get("kind", "")
    if _int64(obj, ("metadata", "generation")) is None:
        return Verdict(IN_PROGRESS, f"{kind} metadata.generation not found")
    if _int64(obj, ("status", "observedGeneration")) is None:
        return Verdict(IN_PROGRESS, f"{kind} status.observedGeneration not found")
    desired = _int(obj, ".status.desiredNumberScheduled", -1)
    current = _int(obj, ".status.currentNumberScheduled", 0)
    updated = _int(obj, ".status.updatedNumberScheduled", 0)
    available = _int(obj, ".status.numberAvailable", 0)
    ready = _int(obj, ".status.numberReady", 0)
    if desired == -1:
        return Verdict(IN_PROGRESS, "Missing .status.desiredNumberScheduled")
    if desired > current:
        return Verdict(IN_PROGRESS, f"Current: {current}/{desired}")
    if desired > updated:
        return Verdict(IN_PROGRESS, f"Updated: {updated}/{desired}")
    if desired > available:
        return Verdict(IN_PROGRESS, f"Available: {available}/{desired}")
    if desired > ready:
        return Verdict(IN_PROGRESS, f"Ready: {ready}/{desired}")
    return Verdict(CURRENT, f"All replicas scheduled as expected. Replicas: {desired}")


def _pvc(obj: Obj, now: datetime) -> Verdict:
    phase = _string(obj, ".status.phase", "unknown")
    if phase != "Bound":
        return Verdict(IN_PROGRESS, f"PVC is not Bound. phase: {phase}")
    return Verdict(CURRENT, "PVC is Bound")


def _pod(obj: Obj, now: datetime) -> Verdict:  # noqa: PLR0911 - kstatus's checks, in order
    conditions = _conditions(obj)
    phase = _string(obj, ".status.phase", "")
    if phase == "Succeeded":
        return Verdict(CURRENT, "Pod has completed successfully")
    if phase == "Failed":
        return Verdict(CURRENT, "Pod has completed, but not successfully")
    if phase == "Running":
        if any(c["type"] == "Ready" and c["status"] == "True" for c in conditions):
            return Verdict(CURRENT, "Pod is Ready")
        crashing = _crash_looping(obj)
        if crashing:
            return Verdict(FAILED, f"Containers in CrashLoop state: {','.join(crashing)}")
        return Verdict(IN_PROGRESS, "Pod is running but is not Ready")
    if phase == "Pending":
        unschedulable = next(
            (c for c in conditions if c["type"] == "PodScheduled" and c["status"] == "False"),
            None,
        )
        if unschedulable is not None and unschedulable["reason"] == "Unschedulable":
            if now - _SCHEDULE_WINDOW < _created(obj):
                return Verdict(IN_PROGRESS, "Pod has not been scheduled")
            return Verdict(FAILED, "Pod could not be scheduled")
        return Verdict(IN_PROGRESS, "Pod is in the Pending phase")
    if phase == "":
        return Verdict(IN_PROGRESS, "Pod phase not available")
    raise _ReaderError(f"unknown phase {phase}")


def _crash_looping(obj: Obj) -> list[str]:
    """getCrashLoopingContainers: containerStatuses waiting in CrashLoopBackOff, by name."""
    found, statuses = _nested(obj, "status", "containerStatuses")
    if not found:
        return []
    if not isinstance(statuses, list):
        # getCrashLoopingContainers returns NestedSlice's error as it is, unwrapped.
        raise _ReaderError(
            _accessor_error(("status", "containerStatuses"), statuses, "[]interface{}")
        )
    names = []
    for status in statuses:
        if not isinstance(status, dict) or "name" not in status:
            continue
        state = status.get("state")
        waiting = state.get("waiting") if isinstance(state, dict) else None
        if isinstance(waiting, dict) and waiting.get("reason") == "CrashLoopBackOff":
            names.append(str(status["name"]))
    return names


def _created(obj: Obj) -> datetime:
    """metadata.creationTimestamp; Go's zero time when absent or unreadable."""
    found, stamp = _nested(obj, "metadata", "creationTimestamp")
    try:
        return datetime.fromisoformat(stamp) if found and isinstance(stamp, str) else _ZERO_TIME
    except ValueError:
        return _ZERO_TIME


def _service(obj: Obj, now: datetime) -> Verdict:
    if (
        _string(obj, ".spec.type", "ClusterIP") == "LoadBalancer"
        and _string(obj, ".spec.clusterIP", "") == ""
    ):
        return Verdict(IN_PROGRESS, "ClusterIP not set. Service type: LoadBalancer")
    return Verdict(CURRENT, "Service is ready")


def _pdb(obj: Obj, now: datetime) -> Verdict:
    return Verdict(CURRENT, "AllowedDisruptions has been computed.")


def _crd(obj: Obj, now: datetime) -> Verdict:
    for condition in _conditions(obj):
        if condition["type"] == "NamesAccepted" and condition["status"] == "False":
            return Verdict(FAILED, condition["message"])
        if condition["type"] == "Established":
            if condition["status"] == "False" and condition["reason"] != "Installing":
                return Verdict(FAILED, condition["message"])
            if condition["status"] == "True":
                return Verdict(CURRENT, "CRD is established")
    return Verdict(IN_PROGRESS, "Install in progress")


_RULES = {
    "Service": _service,
    "Pod": _pod,
    "Secret": _always_ready,
    "PersistentVolumeClaim": _pvc,
    "apps/StatefulSet": _statefulset,
    "apps/DaemonSet": _daemonset,
    "extensions/DaemonSet": _daemonset,
    "apps/Deployment": _deployment,
    "extensions/Deployment": _deployment,
    "apps/ReplicaSet": _replicaset,
    "extensions/ReplicaSet": _replicaset,
    "policy/PodDisruptionBudget": _pdb,
    "batch/CronJob": _always_ready,
    "ConfigMap": _always_ready,
    # batch/Job: kstatus' rule never runs here, flux_verdict reads a Job with Flux's reader.
    "apiextensions.k8s.io/CustomResourceDefinition": _crd,
}


# -- Flux's Job reader --------------------------------------------------------------------------


def _flux_job(obj: Obj) -> Verdict:
    """statusreaders.jobConditions: a Job is healthy once complete (suspended: at once); no
    generic checks before it (the reader calls it alone)."""
    found, suspended = _nested(obj, "spec", "suspend")
    if found and suspended is True:
        return Verdict(CURRENT, "Job is suspended")
    parallelism = _int(obj, ".spec.parallelism", 1)
    completions = _int(obj, ".spec.completions", parallelism)
    active = _int(obj, ".status.active", 0)
    succeeded = _int(obj, ".status.succeeded", 0)
    failed = _int(obj, ".status.failed", 0)
    started = _string(obj, ".status.startTime", "")
    for condition in _conditions(obj):
        if condition["type"] == "Complete" and condition["status"] == "True":
            return Verdict(CURRENT, f"Job Completed. succeeded: {succeeded}/{completions}")
        if condition["type"] == "Failed" and condition["status"] == "True":
            return Verdict(FAILED, f"Job Failed. failed: {failed}/{completions}")
    if started == "":
        return Verdict(IN_PROGRESS, f"Job not started. active: 0/{parallelism}")
    return Verdict(
        IN_PROGRESS, f"Job in progress. success:{succeeded}, active: {active}, failed: {failed}"
    )


# -- unstructured access, as apimachinery does it -------------------------------------------------


def _nested(obj: Obj, *fields: str) -> tuple[bool, Any]:
    """NestedFieldNoCopy: (found, value); not found through anything but a map."""
    value: Any = obj
    for name in fields:
        if not isinstance(value, dict) or name not in value:
            return False, None
        value = value[name]
    return True, value


def _int(obj: Obj, path: str, default: int) -> int:
    """GetIntField: a whole JSON number (Go's int64) or `default`."""
    found, value = _nested(obj, *path.lstrip(".").split("."))
    return value if found and type(value) is int else default


def _string(obj: Obj, path: str, default: str) -> str:
    """GetStringField: a string or `default`."""
    found, value = _nested(obj, *path.lstrip(".").split("."))
    return value if found and isinstance(value, str) else default


def _int64(obj: Obj, fields: tuple[str, ...]) -> int | None:
    """NestedInt64 as checkGeneration reads it: None when absent, an error when not an int64."""
    found, value = _nested(obj, *fields)
    if not found:
        return None
    if type(value) is not int:
        raise _lookup_error(fields, value, "int64")
    return value


def _lookup_error(fields: tuple[str, ...], value: Any, wanted: str) -> _ReaderError:
    """The generic checks' error: apimachinery's accessor error, wrapped as they wrap it."""
    path = ".".join(fields)
    return _ReaderError(
        f"looking up {path} from resource: {_accessor_error(fields, value, wanted)}"
    )


def _accessor_error(fields: tuple[str, ...], value: Any, wanted: str) -> str:
    path = ".".join(fields)
    printed = f"{go_map(value)} is of the type {go_type(value)}"
    return f".{path} accessor error: {printed}, expected {wanted}"


def _kind(value: Any) -> str:
    """reflect.Kind's name of a decoded JSON value."""
    if isinstance(value, dict):
        return "map"
    if isinstance(value, list):
        return "slice"
    return go_type(value)


def _conditions(obj: Obj) -> list[dict[str, str]]:
    """GetObjectWithConditions: status.conditions as DefaultUnstructuredConverter fills
    []BasicCondition{Type, Status, Reason, Message}, with its errors."""
    status = obj.get("status")
    if status is None:
        return []
    if not isinstance(status, dict):
        raise _ReaderError(f"cannot restore struct from: {_kind(status)}")
    items = status.get("conditions")
    if items is None:
        return []
    if not isinstance(items, list):
        raise _ReaderError(f"cannot restore slice from {_kind(items)}")
    conditions = []
    for item in items:
        if item is not None and not isinstance(item, dict):
            raise _ReaderError(f"cannot restore struct from: {_kind(item)}")
        fields = {}
        for name, field_type in _CONDITION_FIELDS:
            value = (item or {}).get(name)
            if value is None or isinstance(value, str):
                fields[name] = value or ""
            elif type(value) is int:  # int64 converts to a string kind, but JSON forbids it
                raise _ReaderError(f"cannot convert int64 to {field_type}")
            else:
                raise _ReaderError("unrecognized type: string")
        conditions.append(fields)
    return conditions


_CONDITION_FIELDS = (
    ("type", "string"),
    ("status", "v1.ConditionStatus"),
    ("reason", "string"),
    ("message", "string"),
)
