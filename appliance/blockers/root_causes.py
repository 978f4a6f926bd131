"""Root-cause detectors: each names one failure the field log saw and says how to fix it.

They run before the generic detectors and cover what they explain (registry.py), so a Helm or
Flux timeout caused by, say, the db's subPath failure is not reported as a second problem (T009).
"""

from __future__ import annotations

import re
from datetime import datetime

from appliance.blockers.evidence import (
    by_component,
    earliest,
    evidence,
    first_pod,
    login_critical,
    namespace_of,
    newest_first,
    signal_tier,
)
from appliance.blockers.registry import Covered, detector
from appliance.canonical import Blocker, Evidence
from appliance.indexing import Index, Signal

__all__ = [
    "LAYER_API",
    "LAYER_DNS",
    "LAYER_IMAGE_TAG",
    "LAYER_PULL_INTERRUPTION",
    "LAYER_SERVICE_LINK",
    "LAYER_SUBPATH",
    "LAYER_TEMPORAL_SCHEMA",
    "pull_failures",
]

LAYER_API = "Kubernetes API"
LAYER_DNS = "Platform DNS resolution"
LAYER_SUBPATH = "Core Postgres storage initialization"
LAYER_IMAGE_TAG = "Image tag availability"
LAYER_TEMPORAL_SCHEMA = "Temporal schema initialization"
LAYER_SERVICE_LINK = "Kubernetes service-link environment collision"
LAYER_PULL_INTERRUPTION = "Image pull interruption"

# The wordings below are the upstream ones (Go's resolver, the kubelet's kubelet_pods.go,
# containerd and CRI-O pull errors, Temporal's server, YAML and strconv decoders); the tests
# carry at least two real messages per detector (tests/unit/engine/test_wordings.py).
_DNS = re.compile(
    r"lookup (\S+?)(?: on (\S+?))?: .{0,200}?"
    r"(connection refused|no such host|server misbehaving|i/o timeout"
    r"|Temporary failure in name resolution|network is unreachable)",
    re.DOTALL,
)
_SUBPATH = re.compile(
    r'failed to (create subPath directory|prepare subPath) for volumeMount "([^"]+)"'
)
_IMAGE = re.compile(r'image "([^"]+)"')
_PULL_FAILURE = re.compile(r"Failed to pull image|failed to pull and unpack|ErrImagePull", re.I)
_NOT_FOUND = re.compile(
    r"(?::\s*not found\b|manifest unknown|code = NotFound"
    r"|repository does not exist|pull access denied)"
)
_INTERRUPTED = re.compile(
    r"context cancel+ed|deadline exceeded|DeadlineExceeded|code = Canceled"
    r"|connection reset by peer|unexpected EOF",
    re.I,
)
_TEMPORAL_SCHEMA = re.compile(
    r"(?:sql|cassandra) schema version compatibility check failed:?\s*(version mismatch)?"
)
_SERVICE_LINK = re.compile(
    r"cannot unmarshal .{0,120}?tcp://.{0,160}?into (?:Go \w+ of type )?u?int"
    r'|strconv\.(?:ParseInt|ParseUint|Atoi): parsing "tcp://[^"]*": invalid syntax',
    re.S,
)


@detector(layer=LAYER_API, rank=10, specialised=True)
def detect_api_unreachable(index: Index, covered: Covered) -> list[Blocker]:
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


@detector(layer=LAYER_DNS, rank=20, specialised=True)
def detect_dns_failure(index: Index, covered: Covered) -> list[Blocker]:
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
    _newest_signal, match = min(hits, key=lambda h: newest_first(h[0]))
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
            since=earliest(signals),
            evidence=evidence(signals),
        )
    ]


@detector(layer=LAYER_SUBPATH, rank=40, specialised=True)
def detect_postgres_subpath(index: Index, covered: Covered) -> list[Blocker]:
    """finding-07/T005: db-0 `CreateContainerConfigError`, subPath directory not creatable."""
    signals: list[Signal] = []
    mount, wording = "db-data", "create subPath directory"
    for s in index.signals:
        if "subPath" not in s.message:
            continue
        match = _SUBPATH.search(s.message)
        if match and (s.component == "db" or match.group(2) == "db-data"):
            signals.append(s)
            wording, mount = match.group(1), match.group(2)
    if not signals:
        return []
    pod = first_pod(signals)
    pod_name = pod.name if pod else "db-0"
    namespace = namespace_of(signals) or "msp"
    claim = _claim_of(index, namespace, pod_name, mount)
    claim_text = f"PVC {claim}" if claim else f"the PVC behind volumeMount {mount!r}"
    return [
        Blocker(
            layer=LAYER_SUBPATH,
            component="db",
            reason=(
                f'Postgres cannot start: failed to {wording} for volumeMount "{mount}"'
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
            since=earliest(signals),
            evidence=evidence(signals),
        )
    ]


def _claim_of(index: Index, namespace: str, pod_name: str, mount: str) -> str | None:
    pod = index.pods.get((namespace, pod_name))
    return pod.claims.get(mount) if pod else None


PullHits = dict[str | None, list[tuple[Signal, str]]]


def pull_failures(index: Index) -> tuple[PullHits, PullHits]:
    """finding-15/16/17, T006-T008: (missing tags, interrupted pulls), each by component.

    Both are read from pull failures; for one component the newest kind of failure wins, and a
    `not found` at least as new as an interruption wins over it (the log's review pass). Read
    once per index: two detectors ask.
    """
    found: tuple[PullHits, PullHits] | None = index.derived.get("pull_failures")
    if found is None:
        found = index.derived["pull_failures"] = _pull_failures(index)
    return found


def _pull_failures(index: Index) -> tuple[PullHits, PullHits]:
    missing: PullHits = {}
    interrupted: PullHits = {}
    # A failed pull repeats one message (each retry, each replica: most of the bench's 250
    # signals), and the regexes below are what a signal costs: each message is classified once.
    classified: dict[tuple[str, bool], tuple[bool, str] | None] = {}
    for s in index.signals:
        key = (s.message, s.reason in {"ErrImagePull", "Failed"})
        if key not in classified:
            classified[key] = _pull_failure(*key)
        found = classified[key]
        if found is not None:
            not_found, image = found
            failures = missing if not_found else interrupted
            failures.setdefault(s.component, []).append((s, image))
    now = index.snapshot.server_time
    for component, hits in list(missing.items()):
        others = interrupted.get(component)
        if others and _newest(others, now) > _newest(hits, now):
            del missing[component]  # the tag pulled since; a newer interruption is the present
        else:
            interrupted.pop(component, None)
    return missing, interrupted


def _pull_failure(message: str, failed_reason: bool) -> tuple[bool, str] | None:
    """(whether the tag was not found, else the pull was interrupted; the image) of a pull
    failure with this message; None for no pull failure (or one whose root cause is DNS)."""
    if not (_PULL_FAILURE.search(message) or failed_reason):
        return None
    if "lookup " in message and _DNS.search(message):
        return None  # DNS is the root cause; the DNS detector reports it.
    image_match = _IMAGE.search(message)
    image = image_match.group(1) if image_match else ""
    if _NOT_FOUND.search(message):
        return True, image
    if _INTERRUPTED.search(message) and (image or _PULL_FAILURE.search(message)):
        return False, image
    return None


@detector(layer=LAYER_IMAGE_TAG, rank=50, specialised=True)
def detect_missing_tags(index: Index, covered: Covered) -> list[Blocker]:
    """An image tag the registry does not have: waiting will not help."""
    missing, _ = pull_failures(index)
    return [_missing_tag_blocker(component, hits) for component, hits in missing.items()]


@detector(layer=LAYER_PULL_INTERRUPTION, rank=120, specialised=True)
def detect_interrupted_pulls(index: Index, covered: Covered) -> list[Blocker]:
    """A pull cut short (context canceled, deadline exceeded): the kubelet retries it."""
    _, interrupted = pull_failures(index)
    return [_interrupted_blocker(component, hits) for component, hits in interrupted.items()]


def _newest(hits: list[tuple[Signal, str]], now: datetime) -> datetime:
    return max((s.since or now) for s, _ in hits)


def _missing_tag_blocker(component: str | None, hits: list[tuple[Signal, str]]) -> Blocker:
    signals = [s for s, _ in hits]
    images = sorted({image for _, image in hits if image})
    tier = signal_tier(component, namespace_of(signals))
    critical = login_critical(tier)
    image_text = ", ".join(images) if images else "the image"
    impact = (
        "Login is blocked until it exists."
        if critical
        else f"{component or 'This'} is a background service: login is not affected."
    )
    denied = any("pull access denied" in s.message for s in signals)
    why = (
        "the registry refuses it (pull access denied: the repository does not exist, or it "
        "needs credentials)"
        if denied
        else "it is not in the registry (not found)"
    )
    return Blocker(
        layer=LAYER_IMAGE_TAG,
        component=component,
        reason=f"Image {image_text} cannot be pulled: {why}. {impact}",
        next_action=(
            f"Publish {image_text} to the registry (or give the node credentials for it), or "
            "install a release whose images all exist (`appliance bootstrap --release-version "
            "<version>`); waiting will not help."
        ),
        login_blocking=critical,
        retryable=False,
        since=earliest(signals),
        evidence=evidence(signals),
    )


def _interrupted_blocker(component: str | None, hits: list[tuple[Signal, str]]) -> Blocker:
    signals = [s for s, _ in hits]
    images = sorted({image for _, image in hits if image})
    tier = signal_tier(component, namespace_of(signals))
    pod = first_pod(signals)
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
        since=earliest(signals),
        evidence=evidence(signals),
    )


@detector(layer=LAYER_TEMPORAL_SCHEMA, rank=60, specialised=True)
def detect_temporal_schema(index: Index, covered: Covered) -> list[Blocker]:
    """finding-12/T011: Temporal started without autosetup."""
    matches = [
        (s, match)
        for s in index.signals
        if "schema version" in s.message and (match := _TEMPORAL_SCHEMA.search(s.message))
    ]
    if not matches:
        return []
    signals = [s for s, _ in matches]
    mismatch = any(match.group(1) for _, match in matches)
    component = next((s.component for s in signals if s.component), "temporal")
    tier = signal_tier(component, namespace_of(signals))
    cause = (
        "is older than this Temporal server expects (version mismatch)"
        if mismatch
        else "is not initialised (Temporal started without autosetup)"
    )
    return [
        Blocker(
            layer=LAYER_TEMPORAL_SCHEMA,
            component=component,
            reason=(
                f"Temporal's database schema {cause}: the schema version compatibility "
                "check failed."
            ),
            next_action=(
                "Run Temporal with `/etc/temporal/entrypoint.sh autosetup` as its command (our "
                "Temporal chart does), let Flux reconcile alga-background, then delete the "
                "temporal pod."
            ),
            login_blocking=login_critical(tier),
            retryable=False,
            since=earliest(signals),
            evidence=evidence(signals),
        )
    ]


@detector(layer=LAYER_SERVICE_LINK, rank=70, specialised=True)
def detect_service_link_collision(index: Index, covered: Covered) -> list[Blocker]:
    """finding-14/T012: `cannot unmarshal !!str tcp://... into int` from service-link env vars."""
    signals = [
        s for s in index.signals if "tcp://" in s.message and _SERVICE_LINK.search(s.message)
    ]
    blockers: list[Blocker] = []
    for component, group in by_component(signals).items():
        tier = signal_tier(component, namespace_of(group))
        blockers.append(
            Blocker(
                layer=LAYER_SERVICE_LINK,
                component=component,
                reason=(
                    "Kubernetes service-link environment variables (e.g. TEMPORAL_PORT="
                    "tcp://...) collide with the app's own settings: it reads a port and gets "
                    "tcp://... (cannot unmarshal or parse it as an integer)."
                ),
                next_action=(
                    f"Set `enableServiceLinks: false` in the pod spec of {component or 'it'} "
                    "(our charts do), let Flux reconcile, then delete the pod."
                ),
                login_blocking=login_critical(tier),
                retryable=False,
                since=earliest(group),
                evidence=evidence(group),
            )
        )
    return blockers
