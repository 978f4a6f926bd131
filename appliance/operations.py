"""Active operations: long work that is progress, not failure (finding-06/18).

An image pull is active when a `Pulling image "X"` event has no later `Pulled` (or failure)
for the same pod and a container of that image is still waiting. Kubernetes exposes no byte
progress for pulls, so we report elapsed cluster time and an estimated size.
"""

from __future__ import annotations

import re
from datetime import datetime

from appliance.canonical import ActiveOperation
from appliance.event_index import event_time_text
from appliance.indexing import Index
from appliance.snapshot import RawObject, parse_time
from appliance.views import PodView
from appliance.words import human_elapsed

__all__ = [
    "KNOWN_IMAGE_SIZES",
    "REFERENCE_PULL_BYTES_PER_SECOND",
    "active_operations",
    "human_size",
    "image_repository",
    "pull_text",
]

# Observed compressed sizes (finding-06: alga-psa-ee ~1.8 GB took ~16 minutes on the UTM run).
KNOWN_IMAGE_SIZES: dict[str, int] = {
    "ghcr.io/nine-minds/alga-psa-ee": 1_800_000_000,
}

PROGRESS_NOTE = (
    "Kubernetes exposes no byte-level progress for image pulls; elapsed time and the estimated "
    "size are all that can be shown. Large first pulls can take 15+ minutes."
)
# The pace the field log measured: the 1.8 GB core image in 16m2.1s on the UTM appliance. Pulls
# of this size are bound by the link, so it is the yardstick for "how long should this take".
REFERENCE_PULL_BYTES_PER_SECOND = 1_800_000_000 / 962.1

_PULLING = re.compile(r'Pulling image "([^"]+)"')
_PULLED = re.compile(
    r'(?:Successfully pulled image|Container image) "([^"]+)"'
    r"|Failed to pull image \"([^\"]+)\""
)
_IMAGE_SIZE = re.compile(r"Image size: (\d+) bytes")


def image_repository(image: str) -> str:
    """The repository part of an image reference (no tag, no digest)."""
    ref = image.split("@", 1)[0]
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    return ref[:colon] if colon > slash else ref


def human_size(size: int) -> str:
    """`~1.8 GB` style."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"~{size / scale:.1f} {unit}"
    return f"~{size} B"


def pull_text(op: ActiveOperation) -> str:
    """`pulling <image> (3m12s so far, ~1.8 GB)`: one pull in words."""
    size = f", {op.estimated_size}" if op.estimated_size else ""
    return f"pulling {op.image} ({human_elapsed(op.elapsed_seconds)} so far{size})"


def _observed_sizes(index: Index) -> dict[str, int]:
    """Sizes from `Image size: N bytes` in Pulled events, newest per repository."""
    sizes: dict[str, tuple[str, int]] = {}
    for (kind, _ns, _name), events in index.events_by_object.items():
        if kind != "Pod":
            continue
        for event in events:
            if event.get("reason") != "Pulled":
                continue
            message = event.get("message")
            if not isinstance(message, str) or "Image size:" not in message:
                continue
            size = _IMAGE_SIZE.search(message)
            image = _PULLED.search(message)
            if not size or not image or not image.group(1):
                continue
            repo = image_repository(image.group(1))
            stamp = event_time_text(event)
            if repo not in sizes or stamp >= sizes[repo][0]:
                sizes[repo] = (stamp, int(size.group(1)))
    return {repo: size for repo, (_, size) in sizes.items()}


def _waiting_images(pod: PodView) -> set[str] | None:
    """Images of containers still waiting; None when the pod reports no container status yet."""
    if not pod.containers:
        return None
    return {c.image for c in pod.containers if c.waiting and c.image}


def active_operations(index: Index) -> list[ActiveOperation]:  # noqa: PLR0912
    """Image pulls in progress, oldest first."""
    now = index.snapshot.server_time
    sizes: dict[str, int] | None = None
    found: list[tuple[datetime, ActiveOperation]] = []
    for kind, namespace, name in index.events_by_object:
        if kind != "Pod":
            continue
        pod = index.pods.get((namespace, name))
        if pod is None or _finished(pod):
            continue
        pending: dict[str, RawObject] = {}
        # Read (and so sorted, oldest first) only for pods still pulling: most are done.
        for event in index.events_by_object[kind, namespace, name]:
            message = event.get("message")
            if not isinstance(message, str):
                continue
            reason = event.get("reason")
            if reason == "Pulling":
                match = _PULLING.search(message)
                if match:
                    pending[match.group(1)] = event
            elif reason in ("Pulled", "Failed"):
                done = _PULLED.search(message)
                if done:
                    pending.pop(done.group(1) or done.group(2), None)
        if not pending:
            continue
        waiting = _waiting_images(pod)
        for image, event in pending.items():
            if waiting is not None and image not in waiting and not _same_image(image, waiting):
                continue
            started = parse_time(event_time_text(event))
            elapsed = max(0.0, (now - started).total_seconds()) if started else 0.0
            if sizes is None:
                sizes = _observed_sizes(index)
            repo = image_repository(image)
            size = sizes.get(repo) or KNOWN_IMAGE_SIZES.get(repo)
            component = index.component_for("Pod", namespace, name) or name
            found.append(
                (
                    started or now,
                    ActiveOperation(
                        component=component,
                        image=image,
                        elapsed_seconds=round(elapsed, 1),
                        estimated_size=human_size(size) if size else None,
                        estimated_size_bytes=size,
                        expected_seconds=(
                            round(size / REFERENCE_PULL_BYTES_PER_SECOND) if size else None
                        ),
                        progress_available=False,
                        note=PROGRESS_NOTE,
                    ),
                )
            )
    found.sort(key=lambda pair: pair[0])
    return [op for _, op in found]


def _same_image(image: str, waiting: set[str]) -> bool:
    # Status may report the image normalised (docker.io/library/...) or by another tag form.
    tail = image.rsplit("/", 1)[-1]
    return any(w.endswith(tail) for w in waiting)


def _finished(pod: PodView) -> bool:
    """Done with pulls: the pod ended, or every container it reports has left `waiting`."""
    return pod.finished or _waiting_images(pod) == set()
