"""A snapshot of the cluster: the raw objects the status engine reads, and the cluster's clock.

Objects stay plain dicts exactly as the API (or `kubectl -o json`) gives them, camelCase keys and
all, so a live read and an offline dump are the same thing to the engine.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

__all__ = [
    "KINDS",
    "ContainerRef",
    "RawObject",
    "Snapshot",
    "as_dict",
    "dicts",
    "object_ref",
    "parse_time",
]

RawObject = dict[str, Any]
# (namespace, pod, container): where a crashed container's previous log came from.
ContainerRef = tuple[str, str, str]

# Snapshot field name per Kubernetes kind; the order is the order we list them in.
KINDS: dict[str, str] = {
    "Node": "nodes",
    "Pod": "pods",
    "Event": "events",
    "Deployment": "deployments",
    "StatefulSet": "statefulsets",
    "Job": "jobs",
    "PersistentVolumeClaim": "pvcs",
    "GitRepository": "git_repositories",
    "Kustomization": "kustomizations",
    "HelmRelease": "helm_releases",
}


@dataclass(frozen=True)
class Snapshot:
    """Everything the engine needs, read at one moment of cluster time."""

    server_time: datetime
    source: Literal["live", "dump"] = "live"
    nodes: tuple[RawObject, ...] = ()
    pods: tuple[RawObject, ...] = ()
    events: tuple[RawObject, ...] = ()
    deployments: tuple[RawObject, ...] = ()
    statefulsets: tuple[RawObject, ...] = ()
    jobs: tuple[RawObject, ...] = ()
    pvcs: tuple[RawObject, ...] = ()
    git_repositories: tuple[RawObject, ...] = ()
    kustomizations: tuple[RawObject, ...] = ()
    helm_releases: tuple[RawObject, ...] = ()
    api_error: str | None = None
    # Flux kinds the cluster does not serve (a missing CRD is not an error, but worth saying).
    missing_kinds: tuple[str, ...] = field(default=())
    # Kinds the API refused to list (e.g. 403), as one sentence each.
    read_errors: tuple[str, ...] = field(default=())
    # The tail of the previous log of crashed containers (`kubectl logs --previous`). Temporal's
    # schema error and the service-link collision are only ever written there: without it a
    # crash loop could be named but never explained (findings 12 and 14).
    container_logs: dict[ContainerRef, str] = field(default_factory=dict)


def parse_time(value: object) -> datetime | None:
    """An RFC 3339 timestamp as Kubernetes writes it, or None for anything else."""
    if not isinstance(value, str) or not value:
        return None
    return _parse_text(value)


# Events repeat their times (20,000 Events of an hour hold at most 3,600 seconds): each text is
# parsed once. datetimes are immutable, so sharing one is safe.
@functools.lru_cache(maxsize=8192)
def _parse_text(value: str) -> datetime | None:
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


# A tuple of types, not `list | tuple`: that union is built anew at each call (read per pod).
_SEQUENCES = (list, tuple)


def dicts(value: object) -> list[RawObject]:
    """The mapping items of a list field; anything else (a half-written object) is empty."""
    if not isinstance(value, _SEQUENCES):
        return []
    return [item for item in value if isinstance(item, dict)]


def as_dict(value: object) -> RawObject:
    """A mapping field, or an empty one when the field is missing or malformed."""
    return value if isinstance(value, dict) else {}


def object_ref(kind: str, namespace: str | None, name: str) -> str:
    """`Kind/namespace/name` (or `Kind/name` for cluster-scoped objects): how messages name one."""
    return f"{kind}/{namespace}/{name}" if namespace else f"{kind}/{name}"
