"""The Kustomizations the control-plane judge creates after an install, on both backends, to
compare the world's kustomize-controller with the real one where an install goes wrong, and
how it reads what each went through.

- the health probe: its health check waits on a Deployment that does not exist, so it fails at
  its timeout (the 2s asked is 30 s: kustomize-controller's GetTimeout never gives less), and
  is reconciled again at its retryInterval; its spec is changed while the check runs;
- the staged probe: a CRD, a Namespace, a ConfigMap and a Widget the CRD's schema refuses;
  fluxcd/pkg/ssa applies the first two, then dry-runs the other two and applies neither. Its
  retry is an hour away: once refused, it is asked for a reconcile (`flux reconcile`'s
  annotation), as is its GitRepository, and each records the request when it has handled it.

Before the probes, the real flux CLI (built from Flux's module) runs what an admin runs.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import kubernetes

from appliance.flux_views import flux_view, with_dependency_holds
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
    _probe(STAGED_PROBE, "./tests/data/flux-staged", retryInterval="1h"),
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


# What the judge's reconcile request says (`flux reconcile` writes the time; any new value asks).
REQUEST = "judge-request-1"
REQUESTED_AT = "reconcile.fluxcd.io/requestedAt"


def request_reconciles(client: kubernetes.client.ApiClient) -> Callable[[], None]:
    """What asks the staged probe and its GitRepository for a reconcile, as `flux reconcile
    kustomization staged-probe --with-source` does (the source first)."""
    api = kubernetes.client.CustomObjectsApi(client)
    asked = {"metadata": {"annotations": {REQUESTED_AT: REQUEST}}}

    def request() -> None:
        for group, plural, name in (
            ("source.toolkit.fluxcd.io", "gitrepositories", "alga-appliance"),
            ("kustomize.toolkit.fluxcd.io", "kustomizations", STAGED_PROBE),
        ):
            api.patch_namespaced_custom_object(group, "v1", "flux-system", plural, name, asked)

    return request


def source_handled(kubeconfig: Path) -> dict[str, Any]:
    """The GitRepository once it has handled the request (or after 30 s): the request it
    records, and how many artifacts it said it stored."""
    deadline = time.monotonic() + 30
    while True:
        got = kubectl(kubeconfig, "get", "-n", "flux-system", "gitrepository", "-o", "json")
        handled = json.loads(got.stdout)["items"][0].get("status", {}).get("lastHandledReconcileAt")
        if handled == REQUEST or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    listed = kubectl(kubeconfig, "get", "events", "-n", "flux-system", "-o", "json")
    stored = [
        e
        for e in json.loads(listed.stdout)["items"]
        if e["involvedObject"]["kind"] == "GitRepository" and e.get("reason") == "NewArtifact"
    ]
    return {"handled": handled, "stored": sum(e.get("count") or 1 for e in stored)}


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
    """Whether the staged probe's apply has been refused again after the reconcile asked for
    (`request` is called once, at its first refusal), in the versions seen so far."""

    def __init__(self, request: Callable[[], None]) -> None:
        self.request = request
        self.refusals, self.handled = 0, False
        self.last: str | None = None

    def see(self, obj: dict[str, Any]) -> bool:
        if obj["metadata"]["name"] == STAGED_PROBE:
            reason = ready(obj)["reason"]
            refused = reason == "ReconciliationFailed" and self.last != reason
            self.last = reason
            if refused:
                self.refusals += 1
                if self.refusals == 1:
                    self.request()
            self.handled = obj.get("status", {}).get("lastHandledReconcileAt") == REQUEST
        return self.refusals >= 2 and self.handled


def requests_handled(versions: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    """The staged probe's Ready reason and recorded request each time either changed, until
    the request is recorded (Flux's patch helper writes the conditions, then the rest of the
    status: the request comes a version after the refusal)."""
    seen: list[tuple[str, str | None]] = []
    for obj in versions:
        state = (str(ready(obj)["reason"]), obj.get("status", {}).get("lastHandledReconcileAt"))
        if state[0] != "None" and (not seen or seen[-1] != state):
            seen.append(state)
        if state[1] == REQUEST:
            break
    return seen


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


# What an admin runs (the status engine's next action names the last), with the real flux CLI.
FLUX_COMMANDS = (
    ("get", "kustomizations", "-n", "flux-system"),
    ("get", "sources", "git", "-n", "flux-system"),
    ("tree", "kustomization", "alga-platform"),
    ("tree", "kustomization", "alga-core"),
    ("reconcile", "kustomization", "alga-core", "--with-source", "--timeout", "2m"),
)


def flux_objects(kubeconfig: Path) -> tuple[list[dict[str, Any]], bool]:
    """flux-system's GitRepositories and Kustomizations, and whether they are settled: none in
    a routine reconcile or held by one (the status engine's reading, appliance/flux_views.py)."""
    listed = kubectl(
        kubeconfig, "get", "kustomizations,gitrepositories", "-n", "flux-system", "-o", "json"
    )
    items: list[dict[str, Any]] = json.loads(listed.stdout)["items"]
    views = [
        view
        for o in items
        if o["kind"] == "Kustomization" and (view := flux_view(o, o["kind"])) is not None
    ]
    return items, not any(view.routine_reconcile for view in with_dependency_holds(views))


def flux_cli(flux: Path, kubeconfig: Path) -> list[dict[str, Any]]:
    """Each of FLUX_COMMANDS run with the real flux CLI: its exit code, stdout and stderr; what
    `get` and `tree` print is read while the objects are settled (_read_settled)."""
    said = []
    for command in FLUX_COMMANDS:
        reading = command[0] in ("get", "tree")
        done = (_read_settled if reading else _run_flux)(flux, kubeconfig, command)
        said.append({"command": " ".join(command), "code": done.returncode,
                     "stdout": done.stdout, "stderr": done.stderr})  # fmt: skip
    return said


def _read_settled(flux: Path, kubeconfig: Path, command: tuple[str, ...]) -> Any:
    """A reading command's answer, taken while the objects kept their versions and none was in
    a routine reconcile: the world's kustomize-controller reconciles every virtual minute, two
    wall seconds at the judge's 30x, the real one every wall minute, and a reading that catches
    either in one says so (Ready Unknown, "Reconciliation in progress"). After 50 tries, the
    last answer, for the comparison to show."""
    before, settled = flux_objects(kubeconfig)
    for _ in range(50):
        done = _run_flux(flux, kubeconfig, command)
        after, settled_after = flux_objects(kubeconfig)
        if settled and _versions(before) == _versions(after):
            break
        before, settled = after, settled_after
        time.sleep(0.1)
    return done


def _run_flux(flux: Path, kubeconfig: Path, command: tuple[str, ...]) -> Any:
    return subprocess.run(
        [str(flux), "--kubeconfig", str(kubeconfig), *command],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _versions(items: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(o["metadata"]["name"], o["metadata"]["resourceVersion"]) for o in items]
