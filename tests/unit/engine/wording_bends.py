"""Builders that break a healthy appliance one way each, for the real-wordings table of
`test_wordings.py`: each takes an upstream message and returns the change that makes a world
report it."""

from __future__ import annotations

from collections.abc import Callable

from tests.fixtures import (
    CORE_IMAGE,
    Appliance,
    event,
    job,
    node,
    pod,
    pod_name,
    pvc,
)
from tests.fixtures.argo import load_object_file

WORKFLOW_IMAGE = "ghcr.io/nine-minds/workflow-worker:61e4a00e"
POSTGRES_CLAIM = "alga-core-sebastian-postgres-data"


def pull_failure(message: str) -> Callable[[Appliance], None]:
    def bend(a: Appliance) -> None:
        a.pull_backoff("workflow-worker", WORKFLOW_IMAGE, message)

    return bend


def core_pull_failure(message: str) -> Callable[[Appliance], None]:
    def bend(a: Appliance) -> None:
        a.pull_backoff("alga-core", CORE_IMAGE, message)

    return bend


def db_config_error(message: str) -> Callable[[Appliance], None]:
    def bend(a: Appliance) -> None:
        a.break_component("db", waiting=("CreateContainerConfigError", message))
        a.put(event("Pod", "db-0", "Failed", f"Error: {message}", count=30, container="postgres"))

    return bend


def crash_log(component: str, message: str) -> Callable[[Appliance], None]:
    def bend(a: Appliance) -> None:
        a.pod_crash_looping(pod_name(component), component=component, message=message)

    return bend


def api_down(error: str) -> Callable[[Appliance], None]:
    def bend(a: Appliance) -> None:
        a.api_error = error

    return bend


def node_down(message: str) -> Callable[[Appliance], None]:
    def bend(a: Appliance) -> None:
        a.put(node(ready=False, message=message))

    return bend


def claim_failing(message: str) -> Callable[[Appliance], None]:
    def bend(a: Appliance) -> None:
        a.put(pvc(POSTGRES_CLAIM, phase="Pending"))
        a.workload_not_ready("db")
        a.put(event("PersistentVolumeClaim", POSTGRES_CLAIM, "ProvisioningFailed", message))

    return bend


def waiting(component: str, reason: str, message: str) -> Callable[[Appliance], None]:
    def bend(a: Appliance) -> None:
        a.pod_waiting(pod_name(component), component=component, reason=reason, message=message)

    return bend


def rollout_timed_out(message: str) -> Callable[[Appliance], None]:
    def bend(a: Appliance) -> None:
        status = a.get("Deployment", "msp", "alga-core-sebastian")["status"]
        status["conditions"][1].update(
            status="False", reason="ProgressDeadlineExceeded", message=message
        )
        a.workload_not_ready("alga-core")

    return bend


def bootstrap_failed(message: str) -> Callable[[Appliance], None]:
    def bend(a: Appliance) -> None:
        a.bootstrap_job("alga-core-sebastian-bootstrap-r1", state="failed", message=message)

    return bend


def other_job_failed(message: str) -> Callable[[Appliance], None]:
    def bend(a: Appliance) -> None:
        failed = job("db-backup-29101920", state="failed", message=message)
        failed["metadata"]["labels"] = {"app.kubernetes.io/name": "db-backup"}
        a.put(failed)

    return bend


def unschedulable(message: str) -> Callable[[Appliance], None]:
    def bend(a: Appliance) -> None:
        name = pod_name("temporal")
        a.put(
            pod(
                name,
                labels={"app.kubernetes.io/name": "temporal"},
                ready=False,
                phase="Pending",
                scheduled=("Unschedulable", message),
            )
        )
        a.workload_not_ready("temporal")

    return bend


def status_service(keep_namespace: bool) -> Callable[[Appliance], None]:
    def bend(a: Appliance) -> None:
        a.status_service_absent()
        if keep_namespace:
            a.put(event("Pod", "old-pod", "Killing", "Stopping container", type_="Normal"))
            a.events[-1]["involvedObject"]["namespace"] = "appliance-system"

    return bend


def flux(kind: str, name: str, reason: str, message: str) -> Callable[[Appliance], None]:
    def bend(a: Appliance) -> None:
        a.flux_not_ready(kind, name, reason=reason, message=message)

    return bend


def unknown_warning(reason: str, message: str) -> Callable[[Appliance], None]:
    def bend(a: Appliance) -> None:
        name = pod_name("email-service")
        a.pod_starting("email-service")
        a.put(event("Pod", name, reason, message, first=-1200, last=-10, count=40))

    return bend


def foreign(file: str) -> Callable[[Appliance], None]:
    def bend(a: Appliance) -> None:
        a.put(load_object_file(file))

    return bend


def refused_pods(
    component: str, kind: str, owner: str, message: str
) -> Callable[[Appliance], None]:
    """The component's workload has no pod: its controller's creates are refused."""

    def bend(a: Appliance) -> None:
        a.workload_not_ready(component)
        a.remove("Pod", "msp", pod_name(component))
        a.put(event(kind, owner, "FailedCreate", message, first=-900, last=-30, count=9))

    return bend
