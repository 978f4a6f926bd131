"""`--prepull-images`: pull release images onto the node before GitOps starts the workloads.

Each image gets a short-lived Pod in `appliance-system` whose only job is to make the kubelet pull
it; we watch the container state. The core image is required (a failed pull stops the install);
background images are best effort (a warning).
"""

from __future__ import annotations

import re
from typing import Any

from appliance.bootstrap.display import Display
from appliance.cluster.applying import Applier, ApplyError
from appliance.errors import BootstrapError
from appliance.releases import ReleaseImage, ReleaseManifest

__all__ = ["prepull_images", "prepull_pod"]

_NAMESPACE = "appliance-system"
_FAILED = ("ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull")


def prepull_pod(image: ReleaseImage) -> dict[str, Any]:
    """A Pod that only pulls `image` (it exits at once; pull success is all we read)."""
    name = "prepull-" + re.sub(r"[^a-z0-9-]", "-", image.component.lower())[:50]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": _NAMESPACE,
            "labels": {
                "app.kubernetes.io/name": "appliance-prepull",
                "appliance.alga/prepull-component": image.component,
            },
        },
        "spec": {
            "restartPolicy": "Never",
            "enableServiceLinks": False,
            "containers": [
                {
                    "name": "pull",
                    "image": image.reference,
                    "imagePullPolicy": "IfNotPresent",
                    "command": ["sh", "-c", "exit 0"],
                }
            ],
        },
    }


def _pull_state(pod: dict[str, Any] | None) -> tuple[str, str]:
    """('pulled'|'failed'|'pending', message) from the container status."""
    if pod is None:
        return "pending", "pod not created yet"
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    for status in statuses:
        state = status.get("state") or {}
        if "running" in state or "terminated" in state or status.get("imageID"):
            return "pulled", "pulled"
        waiting = state.get("waiting") or {}
        if waiting.get("reason") in _FAILED:
            return "failed", f"{waiting.get('reason')}: {waiting.get('message', '')}".strip()
    phase = (pod.get("status") or {}).get("phase")
    if phase in ("Succeeded", "Running"):
        return "pulled", "pulled"
    if phase == "Failed":
        return "failed", "pod failed"
    return "pending", "pulling"


def prepull_images(
    applier: Applier, release: ReleaseManifest, *, display: Display, timeout: float, interval: float
) -> None:
    """Pull core (required) and background (best effort) images; clean the Pods up."""
    images = release.core_images + release.background_images
    if applier.dry_run:
        for image in images:
            display.progress(f"would pre-pull {image.reference} [{image.tier}]")
        return
    try:
        for image in images:
            applier.apply(prepull_pod(image), force=True)
        pending = {prepull_pod(i)["metadata"]["name"]: i for i in images}
        results: dict[str, tuple[str, str]] = {}

        def settled() -> bool:
            for name, image in list(pending.items()):
                state = _pull_state(applier.get("v1", "Pod", name, namespace=_NAMESPACE))
                if state[0] != "pending":
                    results[image.component] = state
                    display.progress(f"pre-pull {image.reference}: {state[1]}")
                    del pending[name]
            core_failed = any(
                results.get(i.component, ("",))[0] == "failed" for i in release.core_images
            )
            return not pending or core_failed

        try:
            applier.wait_until(settled, timeout=timeout, interval=interval, what="image pre-pulls")
        except ApplyError:
            for image in pending.values():
                results[image.component] = ("failed", "still pulling at the pre-pull timeout")
        for image in release.core_images:
            state, message = results.get(image.component, ("failed", "not pulled"))
            if state != "pulled":
                raise BootstrapError(
                    f"pre-pull of the core image {image.reference} failed: {message}",
                    layer="Image tag availability"
                    if "not found" in message
                    else "Image pull interruption",
                    next_action="check the node's registry access and the release's image "
                    "tags, then rerun (or drop --prepull-images)",
                )
        for image in release.background_images:
            state, message = results.get(image.component, ("failed", "not pulled"))
            if state != "pulled":
                display.warn(
                    f"background image {image.reference} was not pre-pulled "
                    f"({message}); the install continues"
                )
    finally:
        for image in images:
            try:
                applier.delete(
                    "v1", "Pod", prepull_pod(image)["metadata"]["name"], namespace=_NAMESPACE
                )
            except ApplyError:
                display.warn(f"could not delete pre-pull pod for {image.component}")
