"""One pass over a Snapshot: objects indexed by key, events by the object they involve,
component readiness, and the failure messages ("signals") every detector reads.

Built once per evaluation so each detector is a cheap scan over a short list, not over
20,000 events (the bench's snapshot).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from appliance.components import (
    PLATFORM_NAMESPACES,
    component_from_name,
    component_of,
    condition,
)
from appliance.snapshot import RawObject, Snapshot, dicts, parse_time

__all__ = [
    "ComponentState",
    "Index",
    "Signal",
    "build_index",
    "event_time_text",
    "first_waiting",
    "flux_component",
    "object_ref",
    "pod_finished",
]

# Waiting reasons that are progress, not failure.
PROGRESS_REASONS = frozenset({"ContainerCreating", "PodInitializing"})


@dataclass(frozen=True)
class Signal:
    """One failure message, wherever it was read (Event, container status, Flux condition)."""

    object: str
    kind: str
    namespace: str | None
    name: str
    component: str | None
    message: str
    reason: str | None
    since: datetime | None
    source: str
    count: int = 1
    first_seen: datetime | None = None
    container: str | None = None
    warning: bool = True


@dataclass
class ComponentState:
    """What the snapshot says about one component."""

    name: str
    present: bool = False
    ready: bool = False
    workloads: list[RawObject] = field(default_factory=list)
    pods: list[RawObject] = field(default_factory=list)
    namespace: str | None = None
    message: str | None = None


def object_ref(kind: str, namespace: str | None, name: str) -> str:
    """`Kind/namespace/name` (or `Kind/name` for cluster-scoped objects)."""
    return f"{kind}/{namespace}/{name}" if namespace else f"{kind}/{name}"


def _meta(obj: RawObject) -> dict[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def event_time_text(event: RawObject) -> str:
    """The newest time an Event was seen, as its RFC 3339 text ('' when none)."""
    series = event.get("series")
    if isinstance(series, dict):
        text = series.get("lastObservedTime")
        if isinstance(text, str) and text:
            return text
    for key in ("lastTimestamp", "eventTime", "deprecatedLastTimestamp", "firstTimestamp"):
        text = event.get(key)
        if isinstance(text, str) and text:
            return text
    created = _meta(event).get("creationTimestamp")
    return created if isinstance(created, str) else ""


def _involved(event: RawObject) -> tuple[str, str | None, str]:
    target = event.get("involvedObject")
    if not isinstance(target, dict):
        target = event.get("regarding")
    if not isinstance(target, dict):
        target = {}
    kind = _str(target.get("kind")) or "Unknown"
    name = _str(target.get("name")) or "?"
    namespace = _str(target.get("namespace")) or _str(_meta(event).get("namespace"))
    if kind in {"Node", "Namespace", "PersistentVolume"}:
        namespace = None
    return kind, namespace, name


def _int(value: object, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _pod_ready(pod: RawObject) -> bool:
    cond = condition(pod, "Ready")
    return cond is not None and cond.get("status") == "True"


def _workload_ready(obj: RawObject) -> tuple[bool, int, int]:
    spec = obj.get("spec")
    status = obj.get("status")
    want = _int(spec.get("replicas"), 1) if isinstance(spec, dict) else 1
    have = _int(status.get("readyReplicas"), 0) if isinstance(status, dict) else 0
    return (want > 0 and have >= want), want, have


@dataclass
class Index:
    """The digested snapshot."""

    snapshot: Snapshot
    pods: dict[tuple[str | None, str], RawObject] = field(default_factory=dict)
    events_by_object: dict[tuple[str, str | None, str], list[RawObject]] = field(
        default_factory=dict
    )
    components: dict[str, ComponentState] = field(default_factory=dict)
    namespaces_seen: set[str] = field(default_factory=set)
    signals: list[Signal] = field(default_factory=list)

    def component(self, name: str) -> ComponentState:
        """The state of a component, absent when the snapshot has nothing of it."""
        state = self.components.get(name)
        if state is None:
            state = ComponentState(name=name)
        return state

    def component_ready(self, name: str | None) -> bool:
        """True when the component exists and is ready."""
        return name is not None and self.component(name).ready

    def pod_ready(self, namespace: str | None, name: str) -> bool:
        """True when the pod exists and is Ready."""
        pod = self.pods.get((namespace, name))
        return pod is not None and _pod_ready(pod)

    def component_for(self, kind: str, namespace: str | None, name: str) -> str | None:
        """Component of an object named by an Event (its pod's labels when we have the pod)."""
        if kind == "Pod":
            pod = self.pods.get((namespace, name))
            if pod is not None:
                return component_of(pod)
        known = component_from_name(name)
        if known is not None:
            return known
        return component_of({"metadata": {"name": name}})


def build_index(snapshot: Snapshot) -> Index:
    """Digest a snapshot once."""
    index = Index(snapshot=snapshot)
    _index_pods(index)
    _index_workloads(index)
    _index_events(index)
    _container_signals(index)
    _condition_signals(index)
    return index


def _index_pods(index: Index) -> None:
    for pod in index.snapshot.pods:
        meta = _meta(pod)
        name = _str(meta.get("name"))
        if name is None:
            continue
        namespace = _str(meta.get("namespace"))
        if namespace:
            index.namespaces_seen.add(namespace)
        index.pods[(namespace, name)] = pod
        comp = component_of(pod)
        if comp is None:
            continue
        state = index.components.setdefault(comp, ComponentState(name=comp))
        state.pods.append(pod)
        state.namespace = state.namespace or namespace


def _index_workloads(index: Index) -> None:
    workload_components: set[str] = set()
    for obj in (*index.snapshot.deployments, *index.snapshot.statefulsets):
        meta = _meta(obj)
        namespace = _str(meta.get("namespace"))
        if namespace:
            index.namespaces_seen.add(namespace)
        comp = component_of(obj)
        if comp is None:
            continue
        state = index.components.setdefault(comp, ComponentState(name=comp))
        ready, _, _ = _workload_ready(obj)
        # Every workload of a component must be ready (e.g. temporal frontend + history).
        state.ready = ready if comp not in workload_components else (state.ready and ready)
        workload_components.add(comp)
        state.present = True
        state.workloads.append(obj)
        state.namespace = state.namespace or namespace
    for comp, state in index.components.items():
        if comp in workload_components:
            continue
        # No Deployment/StatefulSet in the snapshot (a pods-only dump): judge by the pods.
        live = [p for p in state.pods if not pod_finished(p)]
        state.present = bool(state.pods)
        state.ready = bool(live) and all(_pod_ready(p) for p in live)
    for job in index.snapshot.jobs:
        namespace = _str(_meta(job).get("namespace"))
        if namespace:
            index.namespaces_seen.add(namespace)
    for pvc in index.snapshot.pvcs:
        namespace = _str(_meta(pvc).get("namespace"))
        if namespace:
            index.namespaces_seen.add(namespace)


def pod_finished(pod: RawObject) -> bool:
    """The pod ran to its end (Succeeded or Failed): no longer part of a component's state."""
    status = pod.get("status")
    return isinstance(status, dict) and status.get("phase") in ("Succeeded", "Failed")


def _index_events(index: Index) -> None:  # noqa: PLR0912 - one pass, several filters
    by_object = index.events_by_object
    for event in index.snapshot.events:
        if not isinstance(event, dict):
            continue
        key = _involved(event)
        bucket = by_object.get(key)
        if bucket is None:
            by_object[key] = [event]
        else:
            bucket.append(event)
    for (kind, namespace, name), events in by_object.items():
        if len(events) > 1:
            events.sort(key=event_time_text)
        if namespace:
            index.namespaces_seen.add(namespace)
        if kind == "Pod" and index.pod_ready(namespace, name):
            # A Ready pod's old failures are history, not blockers.
            continue
        component: str | None = None
        resolved = False
        for event in events:
            if event.get("type") == "Normal" and not _normal_worth_reading(event):
                continue
            message = _str(event.get("message"))
            if message is None:
                continue
            if not resolved:
                component = index.component_for(kind, namespace, name)
                resolved = True
                if kind != "Node" and index.component_ready(component):
                    break
            first = parse_time(event.get("firstTimestamp"))
            index.signals.append(
                Signal(
                    object=object_ref(kind, namespace, name),
                    kind=kind,
                    namespace=namespace,
                    name=name,
                    component=component,
                    message=message,
                    reason=_str(event.get("reason")),
                    since=parse_time(event_time_text(event)),
                    source="event",
                    count=_int(event.get("count"), 1),
                    first_seen=first,
                    warning=event.get("type") != "Normal",
                )
            )


def _normal_worth_reading(event: RawObject) -> bool:
    # Normal events are progress; a few Normal ones still carry failure text worth matching.
    message = event.get("message")
    return isinstance(message, str) and ("lookup " in message or "failed" in message.lower())


def _container_signals(index: Index) -> None:
    for (namespace, name), pod in index.pods.items():
        status = pod.get("status")
        if not isinstance(status, dict) or _pod_ready(pod):
            continue
        component = component_of(pod)
        if index.component_ready(component) or pod_finished(pod):
            continue
        ref = object_ref("Pod", namespace, name)
        for key in ("initContainerStatuses", "containerStatuses"):
            for cs in dicts(status.get(key)):
                if not isinstance(cs, dict):
                    continue
                _container_status_signals(
                    index, cs, ref=ref, namespace=namespace, name=name, component=component
                )
        cond = condition(pod, "PodScheduled")
        if cond is not None and cond.get("status") == "False" and _str(cond.get("message")):
            index.signals.append(
                Signal(
                    object=ref,
                    kind="Pod",
                    namespace=namespace,
                    name=name,
                    component=component,
                    message=str(cond.get("message")),
                    reason=_str(cond.get("reason")) or "Unschedulable",
                    since=parse_time(cond.get("lastTransitionTime")),
                    source="condition",
                )
            )


def _container_status_signals(
    index: Index,
    cs: dict[str, Any],
    *,
    ref: str,
    namespace: str | None,
    name: str,
    component: str | None,
) -> None:
    container = _str(cs.get("name"))
    state = cs.get("state")
    waiting = state.get("waiting") if isinstance(state, dict) else None
    if isinstance(waiting, dict):
        reason = _str(waiting.get("reason"))
        message = _str(waiting.get("message"))
        if reason not in PROGRESS_REASONS and (reason or message):
            index.signals.append(
                Signal(
                    object=ref,
                    kind="Pod",
                    namespace=namespace,
                    name=name,
                    component=component,
                    message=message or reason or "",
                    reason=reason,
                    since=None,
                    source="container",
                    container=container,
                )
            )
    last = cs.get("lastState")
    terminated = last.get("terminated") if isinstance(last, dict) else None
    if isinstance(terminated, dict):
        message = _str(terminated.get("message"))
        log = (
            index.snapshot.container_logs.get((namespace, name, container))
            if namespace is not None and container is not None
            else None
        )
        # Without a termination message, the previous run's log explains the crash (Temporal's
        # schema check, the service-link collision); as source "log" it feeds the specialised
        # detectors but is never "unclassified" on its own.
        text = message or (log.strip()[-2000:] if log else None)
        if text:
            index.signals.append(
                Signal(
                    object=ref,
                    kind="Pod",
                    namespace=namespace,
                    name=name,
                    component=component,
                    message=text,
                    reason=_str(terminated.get("reason")) or ("Terminated" if message else "Error"),
                    since=parse_time(terminated.get("finishedAt")),
                    source="container" if message else "log",
                    container=container,
                )
            )


def first_waiting(pods: list[RawObject]) -> tuple[str, str | None] | None:
    """The first waiting container of `pods`: (reason, message), init containers first."""
    for pod in pods:
        status = pod.get("status")
        if not isinstance(status, dict):
            continue
        for key in ("initContainerStatuses", "containerStatuses"):
            for cs in dicts(status.get(key)):
                state = cs.get("state")
                waiting = state.get("waiting") if isinstance(state, dict) else None
                if isinstance(waiting, dict) and waiting.get("reason"):
                    message = waiting.get("message")
                    return str(waiting["reason"]), message if isinstance(message, str) else None
    return None


def is_platform_namespace(namespace: str | None) -> bool:
    """Infrastructure namespaces (kube-system, flux-system, appliance-system)."""
    return namespace in PLATFORM_NAMESPACES


_FLUX_KINDS = (
    ("git_repositories", "GitRepository"),
    ("kustomizations", "Kustomization"),
    ("helm_releases", "HelmRelease"),
)


def _condition_signals(index: Index) -> None:
    """Flux objects that are not Ready, and failed Jobs, speak through their conditions."""
    for field_name, kind in _FLUX_KINDS:
        for obj in getattr(index.snapshot, field_name):
            cond = condition(obj, "Ready")
            if cond is None or cond.get("status") == "True":
                continue
            message = _str(cond.get("message"))
            if message is None:
                continue
            meta = _meta(obj)
            name = _str(meta.get("name")) or "?"
            namespace = _str(meta.get("namespace"))
            index.signals.append(
                Signal(
                    object=object_ref(kind, namespace, name),
                    kind=kind,
                    namespace=namespace,
                    name=name,
                    component=flux_component(kind, name),
                    message=message,
                    reason=_str(cond.get("reason")),
                    since=parse_time(cond.get("lastTransitionTime")),
                    source="condition",
                )
            )
    for job in index.snapshot.jobs:
        cond = condition(job, "Failed")
        if cond is None or cond.get("status") != "True":
            continue
        meta = _meta(job)
        name = _str(meta.get("name")) or "?"
        namespace = _str(meta.get("namespace"))
        message = _str(cond.get("message")) or _str(cond.get("reason")) or "Job failed"
        index.signals.append(
            Signal(
                object=object_ref("Job", namespace, name),
                kind="Job",
                namespace=namespace,
                name=name,
                component=component_of(job),
                message=message,
                reason=_str(cond.get("reason")),
                since=parse_time(cond.get("lastTransitionTime")),
                source="condition",
            )
        )


def flux_component(kind: str, name: str) -> str | None:
    """The component a Flux object deploys: HelmRelease by name, Kustomization by its tier."""
    if kind == "Kustomization" and name in {"alga-platform", "alga-background"}:
        return name
    if kind == "GitRepository":
        return "flux-source"
    return component_from_name(name) or name
