"""The Kustomizations the control-plane judge creates after an install, on both backends, to
compare the world's kustomize-controller with the real one where an install goes wrong, and
how it reads what each went through.

- the health probe: its health check waits on a Deployment that does not exist, so it fails at
  its timeout (the 2s asked is 30 s: kustomize-controller's GetTimeout never gives less), and
  is reconciled again at its retryInterval; its spec is changed while the check runs;
- the staged probe: a CRD, a Namespace, a ConfigMap and a Widget the CRD's schema refuses;
  fluxcd/pkg/ssa applies the first two, then dry-runs the other two and applies neither.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import kubernetes

from tests.integration.control_plane_support import kubectl

HEALTH_PROBE = "health-probe"
STAGED_PROBE = "staged-probe"
NAMES = (HEALTH_PROBE, STAGED_PROBE)


def _probe(name: str, path: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": name, "namespace": "flux-system"},
        "spec": {
            "interval": "1h",
            "path": path,
            "prune": False,
            "sourceRef": {"kind": "GitRepository", "name": "alga-appliance"},
            **spec,
        },
    }


_PROBES = [
    _probe(
        HEALTH_PROBE,
        "./tests/data/flux-probe",
        retryInterval="4s",
        timeout="2s",
        healthChecks=[
            {"apiVersion": "apps/v1", "kind": "Deployment", "name": "absent", "namespace": "msp"}
        ],
    ),
    _probe(STAGED_PROBE, "./tests/data/flux-staged", retryInterval="3s"),
]
# What the staged probe's manifests hold, as `kubectl get -o name` names them.
STAGED_OBJECTS = (
    "namespace/staged-probe",
    "customresourcedefinition.apiextensions.k8s.io/widgets.probe.example.com",
    "configmap/settings",
    "widget.probe.example.com/small",
)


def create(kubeconfig: Path) -> None:
    """Both probes, in one `kubectl apply`."""
    with tempfile.NamedTemporaryFile("w", suffix=".json") as manifest:
        json.dump({"apiVersion": "v1", "kind": "List", "items": _PROBES}, manifest)
        manifest.flush()
        kubectl(kubeconfig, "apply", "-f", manifest.name)


def delete(kubeconfig: Path) -> None:
    kubectl(kubeconfig, "delete", "-n", "flux-system", "kustomization", *NAMES)


def staged_objects(kubeconfig: Path) -> list[str]:
    """Which of the staged probe's objects exist (in `STAGED_OBJECTS` order); a Widget is
    none while its CRD is not served."""
    found = []
    for name in STAGED_OBJECTS:  # the namespace flag is ignored for cluster objects
        got = kubectl(kubeconfig, "get", name, "-n", "staged-probe", "-o", "name", check=False)
        found += got.stdout.split()
    return found


def change_health_probe(client: kubernetes.client.ApiClient) -> Callable[[], None]:
    """What makes a new generation of the health probe while its health check runs: kustomize-
    controller lets the check end (CancelHealthCheckOnNewRevision is off by default), then
    reconciles it. A request of an open client, not a kubectl process: the fake API's check
    lasts one wall second at this speed, and a process start under load can take half of it."""
    api = kubernetes.client.CustomObjectsApi(client)

    def change() -> None:
        api.patch_namespaced_custom_object(
            "kustomize.toolkit.fluxcd.io",
            "v1",
            "flux-system",
            "kustomizations",
            HEALTH_PROBE,
            {"spec": {"retryInterval": "5s"}},
        )

    return change


def ready(obj: dict[str, Any]) -> dict[str, str]:
    conditions = obj.get("status", {}).get("conditions", [])
    return next((c for c in conditions if c["type"] == "Ready"), {"status": None, "reason": None})


class Retried:
    """Whether the health probe's check has failed and the next reconcile has begun (Ready
    Unknown again), in the versions seen so far; `checking` is called once, when its first
    health check has begun (Healthy Unknown)."""

    def __init__(self, checking: Callable[[], None]) -> None:
        self.checking, self.called = checking, False
        self.failed, self.retried = False, False

    def see(self, obj: dict[str, Any]) -> bool:
        if obj["metadata"]["name"] == HEALTH_PROBE:
            reason = ready(obj)["reason"]
            self.retried = self.retried or (self.failed and reason == "Progressing")
            self.failed = self.failed or reason == "HealthCheckFailed"
            healthy = next(
                (c for c in obj["status"].get("conditions", []) if c["type"] == "Healthy"), {}
            )
            if healthy.get("status") == "Unknown" and not self.called:
                self.called = True
                self.checking()
        return self.retried


class RefusedAgain:
    """Whether the staged probe's apply has been refused at its retry too, in the versions
    seen so far."""

    def __init__(self) -> None:
        self.refusals = 0
        self.last: str | None = None

    def see(self, obj: dict[str, Any]) -> bool:
        if obj["metadata"]["name"] == STAGED_PROBE:
            reason = ready(obj)["reason"]
            self.refusals += reason == "ReconciliationFailed" and self.last != reason
            self.last = reason
        return self.refusals >= 2


def said(condition: dict[str, Any]) -> tuple[str, ...]:
    """A condition's status, reason, message and the generation it was set at."""
    message = re.sub(r"failed after \S+:", "failed after <time>:", condition.get("message", ""))
    generation = str(condition.get("observedGeneration"))
    return (str(condition["status"]), str(condition.get("reason")), message, generation)


def ready_states(
    versions: list[dict[str, Any]], *, last: Callable[[list[tuple[str, ...]]], bool]
) -> list[tuple[str, ...]]:
    """Ready (status, reason, message, generation) each time it changed, with Healthy as it
    was then, up to the state `last` of the states so far says is the last."""
    states: list[tuple[str, ...]] = []
    for obj in versions:
        state = ready(obj)
        if state["status"] is None or (states and states[-1][:4] == said(state)):
            continue
        healthy = next(
            (c for c in obj["status"]["conditions"] if c["type"] == "Healthy"), {"status": "-"}
        )
        states.append((*said(state), *said(healthy)))
        if last(states):
            break
    return states


def retry_began(states: list[tuple[str, ...]]) -> bool:
    """The health probe's: Ready Unknown again after its health check failed."""
    failed = any(state[1] == "HealthCheckFailed" for state in states)
    return failed and states[-1][1] == "Progressing"


def refused_again(states: list[tuple[str, ...]]) -> bool:
    """The staged probe's: its apply refused at the retry too."""
    return [state[1] for state in states].count("ReconciliationFailed") == 2
