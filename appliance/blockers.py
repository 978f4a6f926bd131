"""Blocker detectors: small pure functions from the digested snapshot to Blockers.

Specialised detectors name a root cause (DNS, Postgres subPath, a missing image tag, ...);
generic ones catch the rest (Flux/Helm not ready, waiting containers, failed Jobs, unbound PVCs,
nodes, the API itself) so an unknown failure is still reported, never silenced. Root causes
outrank generic timeouts (T009): ranking is by layer priority after login impact.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from appliance.canonical import Blocker, Evidence, TierName
from appliance.components import (
    BOOTSTRAP_COMPONENT,
    FLUX_TIER,
    STATUS_SERVICE,
    component_of,
    condition,
    job_state,
    tier_of,
)
from appliance.indexing import Index, Signal, event_time_text, flux_component, object_ref
from appliance.snapshot import RawObject, dicts, parse_time
from appliance.tier_table import LOGIN_GATING

__all__ = [
    "LAYER_API",
    "LAYER_DNS",
    "LAYER_IMAGE_TAG",
    "LAYER_PULL_INTERRUPTION",
    "LAYER_SERVICE_LINK",
    "LAYER_SUBPATH",
    "LAYER_TEMPORAL_SCHEMA",
    "detect_blockers",
    "login_critical",
]

LAYER_API = "Kubernetes API"
LAYER_DNS = "Platform DNS resolution"
LAYER_NODE = "Kubernetes node"
LAYER_SUBPATH = "Core Postgres storage initialization"
LAYER_IMAGE_TAG = "Image tag availability"
LAYER_TEMPORAL_SCHEMA = "Temporal schema initialization"
LAYER_SERVICE_LINK = "Kubernetes service-link environment collision"
LAYER_PVC = "Storage binding"
LAYER_CONTAINER = "Workload container"
LAYER_JOB = "Bootstrap job"
LAYER_OTHER_JOB = "Job"
LAYER_PULL_INTERRUPTION = "Image pull interruption"
LAYER_SCHEDULING = "Pod scheduling"
LAYER_STATUS_SERVICE = "Status service"
LAYER_FLUX_SOURCE = "Flux source"
LAYER_FLUX = "Flux reconciliation"
LAYER_HELM = "Helm release"
LAYER_UNCLASSIFIED = "Unclassified failure"

# Lower is more important. Root causes first, generic timeouts (Flux/Helm) last (T009).
_PRIORITY: dict[str, int] = {
    layer: rank
    for rank, layer in enumerate(
        (
            LAYER_API,
            LAYER_DNS,
            LAYER_NODE,
            LAYER_SUBPATH,
            LAYER_IMAGE_TAG,
            LAYER_TEMPORAL_SCHEMA,
            LAYER_SERVICE_LINK,
            LAYER_PVC,
            LAYER_CONTAINER,
            LAYER_JOB,
            LAYER_OTHER_JOB,
            LAYER_PULL_INTERRUPTION,
            LAYER_SCHEDULING,
            LAYER_STATUS_SERVICE,
            LAYER_FLUX_SOURCE,
            LAYER_FLUX,
            LAYER_HELM,
            LAYER_UNCLASSIFIED,
        )
    )
}

_DNS = re.compile(
    r"lookup (\S+?)(?: on (\S+?))?: .{0,200}?"
    r"(connection refused|no such host|server misbehaving|i/o timeout)",
    re.DOTALL,
)
_SUBPATH = re.compile(r'failed to create subPath directory for volumeMount "([^"]+)"')
_IMAGE = re.compile(r'image "([^"]+)"')
_PULL_FAILURE = re.compile(r"Failed to pull image|failed to pull and unpack|ErrImagePull", re.I)
_NOT_FOUND = re.compile(r"(?::\s*not found\b|manifest unknown|code = NotFound)")
_INTERRUPTED = re.compile(r"context cancel+ed|deadline exceeded|code = Canceled", re.I)
_TEMPORAL_SCHEMA = re.compile(r"sql schema version compatibility check failed")
_SERVICE_LINK = re.compile(
    r"cannot unmarshal .{0,120}?tcp://.{0,160}?into (?:Go \w+ of type )?int", re.S
)
_FAILING_WAIT = frozenset(
    {
        "CreateContainerConfigError",
        "CreateContainerError",
        "InvalidImageName",
        "RunContainerError",
        "PreCreateHookError",
        "PostStartHookError",
        "ContainerCannotRun",
    }
)
_FLUX_PROGRESS = frozenset(
    {"Progressing", "DependencyNotReady", "ReconciliationInProgress", "ProgressingWithRetry"}
)
# A warning nobody recognises counts as stuck (not "will clear by waiting") after this long.
_PERSISTENT = timedelta(minutes=10)
_MAX_EVIDENCE = 5

Detector = Callable[[Index, "_Covered"], list[Blocker]]


@dataclass
class _Covered:
    """What specialised detectors already explained, so generic ones do not repeat it."""

    components: set[str] = field(default_factory=set)
    objects: set[str] = field(default_factory=set)

    def add(self, blocker: Blocker) -> None:
        if blocker.component:
            self.components.add(blocker.component)
        self.objects.update(e.object for e in blocker.evidence)

    def covers(self, signal: Signal) -> bool:
        return signal.object in self.objects or (
            signal.component is not None and signal.component in self.components
        )


def login_critical(tier: TierName) -> bool:
    """Tiers that gate login (background never does)."""
    return tier in LOGIN_GATING


def _tier(signal_component: str | None, namespace: str | None) -> TierName:
    if signal_component in FLUX_TIER:
        return FLUX_TIER[signal_component]
    return tier_of(signal_component, namespace=namespace)


def _evidence(signals: Iterable[Signal]) -> list[Evidence]:
    out: list[Evidence] = []
    seen: set[tuple[str, str]] = set()
    for s in sorted(signals, key=_newest_first):
        key = (s.object, s.message)
        if key in seen:
            continue
        seen.add(key)
        out.append(Evidence(object=s.object, message=s.message, since=s.first_seen or s.since))
        if len(out) >= _MAX_EVIDENCE:
            break
    return out


def _newest_first(signal: Signal) -> tuple[int, float]:
    # Container statuses describe the present: they sort as newest.
    if signal.since is None:
        return (0, 0.0)
    return (1, -signal.since.timestamp())


def _since(signals: Iterable[Signal]) -> datetime | None:
    times = [t for s in signals for t in (s.first_seen or s.since,) if t is not None]
    return min(times) if times else None


def _by_component(signals: Iterable[Signal]) -> dict[str | None, list[Signal]]:
    groups: dict[str | None, list[Signal]] = {}
    for s in signals:
        groups.setdefault(s.component, []).append(s)
    return groups


def _namespace_of(signals: list[Signal]) -> str | None:
    return next((s.namespace for s in signals if s.namespace), None)


def _first_pod(signals: list[Signal]) -> Signal | None:
    return next((s for s in signals if s.kind == "Pod"), None)


def _short(message: str, limit: int = 400) -> str:
    text = " ".join(message.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- specialised detectors --------------------------------------------------------------


def detect_api_unreachable(index: Index, covered: _Covered) -> list[Blocker]:
    """The Kubernetes API did not answer: nothing else can be known."""
    error = index.snapshot.api_error
    if not error:
        return []
    return [
        Blocker(
            layer=LAYER_API,
            component=None,
            reason=f"The Kubernetes API did not answer: {error}",
            next_action=(
                "Check that the appliance is powered on and reachable from here, and that the "
                "kubeconfig's server address is the node's; `talosctl -n <node-ip> health` "
                "shows whether Kubernetes is up."
            ),
            login_blocking=True,
            since=index.snapshot.server_time,
            evidence=[Evidence(object="cluster", message=error, since=None)],
        )
    ]


def detect_dns_failure(index: Index, covered: _Covered) -> list[Blocker]:
    """finding-01/T004: `lookup <host> on <resolver>: connection refused` and the like."""
    hits: list[tuple[Signal, re.Match[str]]] = []
    for s in index.signals:
        if "lookup " not in s.message:
            continue
        match = _DNS.search(s.message)
        if match:
            hits.append((s, match))
    if not hits:
        return []
    signals = [s for s, _ in hits]
    _newest_signal, match = min(hits, key=lambda h: _newest_first(h[0]))
    host, resolver, failure = match.group(1), match.group(2), match.group(3)
    where = f" on {resolver}" if resolver else ""
    component = next((s.component for s in signals if s.component), None)
    return [
        Blocker(
            layer=LAYER_DNS,
            component=component,
            reason=(
                f"DNS lookups fail: lookup {host}{where}: {failure}. The node cannot resolve "
                "registry and Git hosts, so images and sources cannot be fetched."
            ),
            next_action=(
                "Rerun bootstrap with explicit DNS servers: `appliance bootstrap ... "
                "--dns-servers 1.1.1.1,8.8.8.8` (or servers reachable on your network); "
                f"the current resolver{where or ''} does not answer."
            ),
            login_blocking=True,
            retryable=False,
            since=_since(signals),
            evidence=_evidence(signals),
        )
    ]


def detect_postgres_subpath(index: Index, covered: _Covered) -> list[Blocker]:
    """finding-07/T005: db-0 `CreateContainerConfigError`, subPath directory not creatable."""
    signals: list[Signal] = []
    mount = "db-data"
    for s in index.signals:
        if "subPath" not in s.message:
            continue
        match = _SUBPATH.search(s.message)
        if match and (s.component == "db" or match.group(1) == "db-data"):
            signals.append(s)
            mount = match.group(1)
    if not signals:
        return []
    pod = _first_pod(signals)
    pod_name = pod.name if pod else "db-0"
    namespace = _namespace_of(signals) or "msp"
    claim = _claim_of(index, namespace, pod_name, mount)
    claim_text = f"PVC {claim}" if claim else f"the PVC behind volumeMount {mount!r}"
    return [
        Blocker(
            layer=LAYER_SUBPATH,
            component="db",
            reason=(
                "Postgres cannot start: failed to create subPath directory for volumeMount "
                f'"{mount}"'
                f" ({pod_name} is stuck in CreateContainerConfigError)."
            ),
            next_action=(
                f"Create the data directory inside {claim_text}: run a one-off Job that mounts it "
                "at /mnt and runs `mkdir -p /mnt/data && chmod 700 /mnt/data && chown 999:999 "
                f"/mnt/data`, then `kubectl -n {namespace} delete pod {pod_name}`. Our Postgres "
                "StatefulSet initialises the subPath itself: upgrading to the current release "
                "prevents this."
            ),
            login_blocking=True,
            retryable=False,
            since=_since(signals),
            evidence=_evidence(signals),
        )
    ]


def _claim_of(index: Index, namespace: str, pod_name: str, mount: str) -> str | None:
    pod = index.pods.get((namespace, pod_name))
    spec = pod.get("spec") if pod else None
    if not isinstance(spec, dict):
        return None
    for volume in dicts(spec.get("volumes")):
        if isinstance(volume, dict) and volume.get("name") == mount:
            pvc = volume.get("persistentVolumeClaim")
            if isinstance(pvc, dict) and isinstance(pvc.get("claimName"), str):
                return str(pvc["claimName"])
    return None


def detect_image_pulls(index: Index, covered: _Covered) -> list[Blocker]:
    """finding-15/16/17, T006-T008: missing tags vs interrupted pulls, per component.

    Both are read from pull failures; for one component the newest kind of failure wins, and a
    `not found` at least as new as an interruption wins over it (the log's review pass).
    """
    missing: dict[str | None, list[tuple[Signal, str]]] = {}
    interrupted: dict[str | None, list[tuple[Signal, str]]] = {}
    for s in index.signals:
        message = s.message
        if not (_PULL_FAILURE.search(message) or s.reason in {"ErrImagePull", "Failed"}):
            continue
        if "lookup " in message and _DNS.search(message):
            continue  # DNS is the root cause; the DNS detector reports it.
        image_match = _IMAGE.search(message)
        image = image_match.group(1) if image_match else ""
        if _NOT_FOUND.search(message):
            missing.setdefault(s.component, []).append((s, image))
        elif _INTERRUPTED.search(message) and (image or _PULL_FAILURE.search(message)):
            interrupted.setdefault(s.component, []).append((s, image))
    now = index.snapshot.server_time
    blockers: list[Blocker] = []
    for component, hits in missing.items():
        others = interrupted.get(component)
        if others and _newest(others, now) > _newest(hits, now):
            continue  # the tag pulled since; a newer interruption is the present problem
        interrupted.pop(component, None)
        blockers.append(_missing_tag_blocker(component, hits))
    for component, hits in interrupted.items():
        blockers.append(_interrupted_blocker(component, hits))
    return blockers


def _newest(hits: list[tuple[Signal, str]], now: datetime) -> datetime:
    return max((s.since or now) for s, _ in hits)


def _missing_tag_blocker(component: str | None, hits: list[tuple[Signal, str]]) -> Blocker:
    signals = [s for s, _ in hits]
    images = sorted({image for _, image in hits if image})
    tier = _tier(component, _namespace_of(signals))
    critical = login_critical(tier)
    image_text = ", ".join(images) if images else "the image"
    impact = (
        "Login is blocked until it exists."
        if critical
        else f"{component or 'This'} is a background service: login is not affected."
    )
    return Blocker(
        layer=LAYER_IMAGE_TAG,
        component=component,
        reason=f"Image {image_text} is not in the registry (not found). {impact}",
        next_action=(
            f"Publish {image_text} to the registry, or install a release whose images all exist "
            "(`appliance bootstrap --release-version <version>`); waiting will not help."
        ),
        login_blocking=critical,
        retryable=False,
        since=_since(signals),
        evidence=_evidence(signals),
    )


def _interrupted_blocker(component: str | None, hits: list[tuple[Signal, str]]) -> Blocker:
    signals = [s for s, _ in hits]
    images = sorted({image for _, image in hits if image})
    tier = _tier(component, _namespace_of(signals))
    pod = _first_pod(signals)
    delete = (
        f"`kubectl -n {pod.namespace} delete pod {pod.name}`"
        if pod and pod.namespace
        else "deleting the pod"
    )
    return Blocker(
        layer=LAYER_PULL_INTERRUPTION,
        component=component,
        reason=(
            f"The pull of {', '.join(images) or 'an image'} was interrupted "
            "(context canceled / deadline exceeded); the image exists and the kubelet retries."
        ),
        next_action=(
            f"Usually clears by itself on the kubelet's next retry; to retry now, {delete}."
        ),
        login_blocking=login_critical(tier),
        retryable=True,
        since=_since(signals),
        evidence=_evidence(signals),
    )


def detect_temporal_schema(index: Index, covered: _Covered) -> list[Blocker]:
    """finding-12/T011: Temporal started without autosetup."""
    signals = [
        s
        for s in index.signals
        if "schema version" in s.message and _TEMPORAL_SCHEMA.search(s.message)
    ]
    if not signals:
        return []
    component = next((s.component for s in signals if s.component), "temporal")
    tier = _tier(component, _namespace_of(signals))
    return [
        Blocker(
            layer=LAYER_TEMPORAL_SCHEMA,
            component=component,
            reason=(
                "Temporal's database schema is not initialised: sql schema version "
                "compatibility check failed (Temporal started without autosetup)."
            ),
            next_action=(
                "Run Temporal with `/etc/temporal/entrypoint.sh autosetup` as its command (our "
                "Temporal chart does), let Flux reconcile alga-background, then delete the "
                "temporal pod."
            ),
            login_blocking=login_critical(tier),
            retryable=False,
            since=_since(signals),
            evidence=_evidence(signals),
        )
    ]


def detect_service_link_collision(index: Index, covered: _Covered) -> list[Blocker]:
    """finding-14/T012: `cannot unmarshal !!str tcp://... into int` from service-link env vars."""
    signals = [
        s
        for s in index.signals
        if "tcp://" in s.message and "unmarshal" in s.message and _SERVICE_LINK.search(s.message)
    ]
    blockers: list[Blocker] = []
    for component, group in _by_component(signals).items():
        tier = _tier(component, _namespace_of(group))
        blockers.append(
            Blocker(
                layer=LAYER_SERVICE_LINK,
                component=component,
                reason=(
                    "Kubernetes service-link environment variables (e.g. TEMPORAL_PORT="
                    "tcp://...) collide with the app's own settings: cannot unmarshal "
                    "tcp://... into int."
                ),
                next_action=(
                    f"Set `enableServiceLinks: false` in the pod spec of {component or 'it'} "
                    "(our charts do), let Flux reconcile, then delete the pod."
                ),
                login_blocking=login_critical(tier),
                retryable=False,
                since=_since(group),
                evidence=_evidence(group),
            )
        )
    return blockers


# --- generic detectors ------------------------------------------------------------------


def detect_waiting_containers(index: Index, covered: _Covered) -> list[Blocker]:
    """CrashLoopBackOff, ImagePullBackOff, Err*, CreateContainerConfigError, ..."""
    groups: dict[str, list[Signal]] = {}
    for s in index.signals:
        if s.source != "container" or covered.covers(s):
            continue
        reason = s.reason or ""
        if reason.startswith("Err") or reason.endswith("BackOff") or reason in _FAILING_WAIT:
            groups.setdefault(s.object, []).append(s)
    blockers: list[Blocker] = []
    for ref, group in groups.items():
        head = group[0]
        crash = next((s for s in group if s.reason in {"Error", "Terminated", "OOMKilled"}), None)
        terminated = [
            s
            for s in index.signals
            if s.object == ref and s.source == "container" and s is not head
        ]
        detail = _short(head.message)
        if crash is None and terminated:
            detail += f"; last exit: {_short(terminated[0].message, 200)}"
        tier = _tier(head.component, head.namespace)
        blockers.append(
            Blocker(
                layer=LAYER_CONTAINER,
                component=head.component,
                reason=f"{head.name} ({head.container or 'container'}) is {head.reason}: {detail}",
                next_action=_waiting_action(head),
                login_blocking=login_critical(tier),
                retryable=False,
                since=_since(group) or _pod_since(index, head),
                evidence=_evidence([*group, *terminated]),
            )
        )
    return blockers


def _pod_since(index: Index, signal: Signal) -> datetime | None:
    events = index.events_by_object.get(("Pod", signal.namespace, signal.name))
    if events:
        return parse_time(events[0].get("firstTimestamp")) or parse_time(event_time_text(events[0]))
    return None


def _waiting_action(signal: Signal) -> str:
    ns = signal.namespace or "default"
    if signal.reason == "CrashLoopBackOff":
        return (
            f"Read why it exits: `kubectl -n {ns} logs {signal.name} --previous`; fix the cause "
            "and the pod restarts by itself."
        )
    if signal.reason in {"ImagePullBackOff", "ErrImagePull", "InvalidImageName"}:
        return (
            f"Check the image name and registry access: `kubectl -n {ns} describe pod "
            f"{signal.name}` shows the pull error."
        )
    return f"Inspect the pod: `kubectl -n {ns} describe pod {signal.name}` (Events at the bottom)."


def detect_failed_jobs(index: Index, covered: _Covered) -> list[Blocker]:
    """A failed Job, unless a newer Job of the same component completed (finding-09: r2 won)."""
    newest_ok: dict[str | None, str] = {}
    failed: list[tuple[RawObject, str | None, str]] = []
    for job in index.snapshot.jobs:
        meta = job.get("metadata")
        if not isinstance(meta, dict):
            continue
        component = component_of(job)
        created = str(meta.get("creationTimestamp") or "")
        state, _ = job_state(job)
        if state.value == "completed":
            if created > newest_ok.get(component, ""):
                newest_ok[component] = created
        elif state.value == "failed":
            failed.append((job, component, created))
    blockers: list[Blocker] = []
    for job, component, created in failed:
        if newest_ok.get(component, "") > created:
            continue
        meta = job["metadata"]
        name = str(meta.get("name") or "?")
        namespace = meta.get("namespace") if isinstance(meta.get("namespace"), str) else None
        ref = object_ref("Job", namespace, name)
        if ref in covered.objects:
            continue
        cond = condition(job, "Failed") or {}
        message = str(cond.get("message") or cond.get("reason") or "Job failed")
        bootstrap = component == BOOTSTRAP_COMPONENT
        tier = _tier(component, namespace)
        since = parse_time(cond.get("lastTransitionTime"))
        blockers.append(
            Blocker(
                layer=LAYER_JOB if bootstrap else LAYER_OTHER_JOB,
                component=component,
                reason=f"Job {name} failed: {_short(message)}",
                next_action=(
                    f"Read its logs: `kubectl -n {namespace or 'msp'} logs job/{name}`; once the "
                    "cause (often Postgres) is fixed, rerun it with `flux -n alga-system reconcile "
                    "helmrelease alga-core --reset --force --with-source`."
                    if bootstrap
                    else f"Read its logs: `kubectl -n {namespace or 'default'} logs job/{name}`."
                ),
                login_blocking=login_critical(tier),
                retryable=False,
                since=since,
                evidence=[Evidence(object=ref, message=message, since=since)],
            )
        )
    return blockers


def detect_unbound_pvcs(index: Index, covered: _Covered) -> list[Blocker]:
    """PVCs not Bound; stuck (not retryable) once provisioning failed or it has waited long."""
    blockers: list[Blocker] = []
    now = index.snapshot.server_time
    for pvc in index.snapshot.pvcs:
        meta = pvc.get("metadata")
        status = pvc.get("status")
        if not isinstance(meta, dict):
            continue
        phase = status.get("phase") if isinstance(status, dict) else None
        if phase == "Bound":
            continue
        name = str(meta.get("name") or "?")
        namespace = meta.get("namespace") if isinstance(meta.get("namespace"), str) else None
        ref = object_ref("PersistentVolumeClaim", namespace, name)
        events = index.events_by_object.get(("PersistentVolumeClaim", namespace, name), [])
        warnings = [e for e in events if e.get("type") == "Warning"]
        created = parse_time(meta.get("creationTimestamp"))
        stuck = bool(warnings) or (created is not None and now - created > _PERSISTENT)
        component = "db" if "postgres" in name or name.startswith("db-") else component_of(pvc)
        message = str(warnings[-1].get("message")) if warnings else f"phase {phase or 'Pending'}"
        evidence = [Evidence(object=ref, message=message, since=created)]
        blockers.append(
            Blocker(
                layer=LAYER_PVC,
                component=component,
                reason=f"PersistentVolumeClaim {name} is not bound ({_short(message, 200)}).",
                next_action=(
                    f"Check the storage provisioner: `kubectl -n {namespace or 'default'} "
                    f"describe pvc {name}` and the local-path provisioner's pod."
                ),
                login_blocking=login_critical(_tier(component, namespace)),
                retryable=not stuck,
                since=created,
                evidence=evidence,
            )
        )
    return blockers


def detect_nodes(index: Index, covered: _Covered) -> list[Blocker]:
    """Nodes not Ready (or none registered while the API answers)."""
    snapshot = index.snapshot
    if snapshot.api_error:
        return []
    if not snapshot.nodes:
        if snapshot.source == "dump":
            return []  # the dump may simply not include nodes
        return [
            Blocker(
                layer=LAYER_NODE,
                reason="No node has registered with Kubernetes yet.",
                next_action="Wait for the kubelet to register; `talosctl -n <node-ip> health`.",
                login_blocking=True,
                retryable=True,
                since=None,
            )
        ]
    blockers: list[Blocker] = []
    for node in snapshot.nodes:
        cond = condition(node, "Ready")
        if cond is not None and cond.get("status") == "True":
            continue
        meta = node.get("metadata")
        name = str(meta.get("name") or "?") if isinstance(meta, dict) else "?"
        message = str((cond or {}).get("message") or "node has no Ready condition")
        since = parse_time((cond or {}).get("lastTransitionTime"))
        blockers.append(
            Blocker(
                layer=LAYER_NODE,
                component=None,
                reason=f"Node {name} is not Ready: {_short(message)}",
                next_action=(
                    f"Inspect the node: `kubectl describe node {name}` and "
                    "`talosctl -n <node-ip> health` (kubelet and CNI must be running)."
                ),
                login_blocking=True,
                retryable=False,
                since=since,
                evidence=[Evidence(object=f"Node/{name}", message=message, since=since)],
            )
        )
    return blockers


def detect_scheduling(index: Index, covered: _Covered) -> list[Blocker]:
    """Pods the scheduler cannot place."""
    blockers: list[Blocker] = []
    now = index.snapshot.server_time
    for s in index.signals:
        if s.source != "condition" or s.kind != "Pod" or covered.covers(s):
            continue
        stuck = s.since is not None and now - s.since > _PERSISTENT
        blockers.append(
            Blocker(
                layer=LAYER_SCHEDULING,
                component=s.component,
                reason=f"Pod {s.name} cannot be scheduled: {_short(s.message)}",
                next_action=f"`kubectl -n {s.namespace or 'default'} describe pod {s.name}`.",
                login_blocking=login_critical(_tier(s.component, s.namespace)),
                retryable=not stuck,
                since=s.since,
                evidence=_evidence([s]),
            )
        )
    return blockers


def detect_status_service(index: Index, covered: _Covered) -> list[Blocker]:
    """finding-20: the status service is part of the platform tier; its absence is reported."""
    snapshot = index.snapshot
    if snapshot.api_error or index.component(STATUS_SERVICE).present:
        return []
    platform = next(
        (k for k in snapshot.kustomizations if _name(k) == "alga-platform"),
        None,
    )
    platform_cond = condition(platform, "Ready") if platform else None
    platform_ready = platform_cond is not None and platform_cond.get("status") == "True"
    if "appliance-system" in index.namespaces_seen:
        reason = "The status service (Deployment appliance-system/appliance-status) is missing."
    else:
        reason = (
            "The status service is absent: namespace appliance-system has no workloads, so the "
            "status page on :8080 cannot answer."
        )
    return [
        Blocker(
            layer=LAYER_STATUS_SERVICE,
            component=STATUS_SERVICE,
            reason=reason,
            next_action=(
                "Let Flux apply alga-platform (`flux -n flux-system reconcile kustomization "
                "alga-platform --with-source`); on a node that is already installed, use "
                "`appliance bootstrap --bootstrap-mode recover` (or `appliance reset`) rather "
                "than fresh."
            ),
            # Login does not go through the status page, so its absence never blocks login.
            login_blocking=False,
            # Until alga-platform is Ready the service is simply not applied yet.
            retryable=not platform_ready,
            since=None,
            evidence=[
                Evidence(
                    object="Namespace/appliance-system",
                    message="no appliance-status workload found",
                    since=None,
                )
            ],
        )
    ]


def _name(obj: RawObject) -> str | None:
    meta = obj.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    return name if isinstance(name, str) else None


def detect_flux(index: Index, covered: _Covered) -> list[Blocker]:
    """Flux GitRepository / Kustomization / HelmRelease failed (generic; root causes win).

    Progress (Unknown, Progressing, DependencyNotReady) is not a blocker: the tiers show it.
    """
    blockers: list[Blocker] = []
    for field_name, kind, layer in (
        ("git_repositories", "GitRepository", LAYER_FLUX_SOURCE),
        ("kustomizations", "Kustomization", LAYER_FLUX),
        ("helm_releases", "HelmRelease", LAYER_HELM),
    ):
        for obj in getattr(index.snapshot, field_name):
            cond = condition(obj, "Ready")
            if cond is not None and cond.get("status") == "True":
                continue
            name = _name(obj) or "?"
            meta = obj.get("metadata")
            raw_ns = meta.get("namespace") if isinstance(meta, dict) else None
            namespace = raw_ns if isinstance(raw_ns, str) else None
            ref = object_ref(kind, namespace, name)
            if ref in covered.objects:
                continue
            component = flux_component(kind, name)
            reason = (cond or {}).get("reason")
            message = str((cond or {}).get("message") or "not reconciled yet")
            progressing = (
                cond is None or cond.get("status") == "Unknown" or str(reason) in _FLUX_PROGRESS
            )
            if progressing:
                continue  # Flux working through its order (dependsOn, health checks): progress
            since = parse_time((cond or {}).get("lastTransitionTime"))
            verb = {"GitRepository": "source", "Kustomization": "kustomization"}.get(
                kind, "helmrelease"
            )
            blockers.append(
                Blocker(
                    layer=layer,
                    component=component,
                    reason=f"{kind} {name} is not Ready ({reason or 'Unknown'}): {_short(message)}",
                    next_action=(
                        f"Inspect with `flux -n {namespace or 'flux-system'} get {verb}s`; after "
                        "fixing the cause, `flux -n "
                        f"{namespace or 'flux-system'} reconcile {verb} {name} --with-source`."
                    ),
                    login_blocking=login_critical(_tier(component, namespace)),
                    retryable=False,
                    since=since,
                    evidence=[Evidence(object=ref, message=message, since=since)],
                )
            )
    return blockers


def detect_unclassified(index: Index, covered: _Covered) -> list[Blocker]:
    """Any other warning on a component that is not ready: named, never silenced."""
    now = index.snapshot.server_time
    newest: dict[str, Signal] = {}
    for s in index.signals:
        if not s.warning or s.source not in ("event", "container") or covered.covers(s):
            continue
        if s.kind in {"Kustomization", "HelmRelease", "GitRepository", "Job"}:
            continue  # their conditions are read by detect_flux / detect_failed_jobs
        if s.kind in {"PersistentVolumeClaim", "Node"}:
            continue
        previous = newest.get(s.object)
        if previous is None or _newest_first(s) < _newest_first(previous):
            newest[s.object] = s
    blockers: list[Blocker] = []
    for s in newest.values():
        first = s.first_seen or s.since
        stuck = s.count >= 5 or (first is not None and now - first > _PERSISTENT)
        blockers.append(
            Blocker(
                layer=LAYER_UNCLASSIFIED,
                component=s.component,
                reason=f"{s.object}: {s.reason or 'Warning'}: {_short(s.message)}",
                next_action=(
                    f"Inspect it: `kubectl -n {s.namespace or 'default'} describe "
                    f"{s.kind.lower()} {s.name}`."
                ),
                login_blocking=login_critical(_tier(s.component, s.namespace)),
                retryable=not stuck,
                since=first,
                evidence=_evidence([s]),
            )
        )
    return blockers


SPECIALISED: tuple[Detector, ...] = (
    detect_api_unreachable,
    detect_dns_failure,
    detect_postgres_subpath,
    detect_image_pulls,
    detect_temporal_schema,
    detect_service_link_collision,
)
GENERIC: tuple[Detector, ...] = (
    detect_nodes,
    detect_waiting_containers,
    detect_failed_jobs,
    detect_unbound_pvcs,
    detect_scheduling,
    detect_status_service,
    detect_flux,
    detect_unclassified,
)


def _rank(blocker: Blocker) -> tuple[int, int, int, float]:
    since = blocker.since.timestamp() if blocker.since else float("inf")
    return (
        0 if blocker.login_blocking else 1,
        1 if blocker.retryable else 0,
        _PRIORITY.get(blocker.layer, len(_PRIORITY)),
        since,
    )


def detect_blockers(index: Index) -> list[Blocker]:
    """Every blocker, most important first: login impact, then stuck before retryable, then
    root cause before generic layer, then the oldest."""
    covered = _Covered()
    found: list[Blocker] = []
    for detector in SPECIALISED:
        for blocker in detector(index, covered):
            found.append(blocker)
        for blocker in found:
            covered.add(blocker)
    for detector in GENERIC:
        for blocker in detector(index, covered):
            found.append(blocker)
            # Generic findings cover their objects only: another failure of the same
            # component (say a FailedMount beside a Helm timeout) must still be named.
            covered.objects.update(e.object for e in blocker.evidence)
    found.sort(key=_rank)
    return found
