"""World-level Then steps on the simulated cluster: its node, events, workloads, Jobs and
Kustomizations, letting virtual time pass while they wait (`eventually`, world_steps.py).
"""

from __future__ import annotations

import shlex
from typing import Any

from pytest_bdd import parsers, then

from tests.bdd.world_steps import eventually
from tests.bdd.worlds import WorldSession

# --- Then: the cluster ------------------------------------------------------------------------


@then(parsers.parse('the node "{name}" is Ready'))
def node_ready(session: WorldSession, name: str) -> None:
    eventually(
        lambda: session.world.ready("Node", name), what=f"node {name} Ready", session=session
    )


def _events(session: WorldSession) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = session.world.objects.list("v1", "Event", None)
    return events


@then(parsers.parse('no event mentions "{text}"'))
def no_event_mentions(session: WorldSession, text: str) -> None:
    said = [e.get("message", "") for e in _events(session) if text in e.get("message", "")]
    assert not said, f"events mention {text!r}: {said[:3]}"
    for pod in session.world.pods():
        for status in pod.get("status", {}).get("containerStatuses", []) or []:
            for state in (status.get("state", {}), status.get("lastState", {})):
                for detail in state.values():
                    message = str(detail.get("message", ""))
                    assert text not in message, f"{pod['metadata']['name']}: {message}"


def _workload(session: WorldSession, name: str, namespace: str = "msp") -> dict[str, Any] | None:
    for kind in ("Deployment", "StatefulSet"):
        found: dict[str, Any] | None = session.world.get(kind, name, namespace)
        if found is not None:
            return found
    return None


@then(parsers.parse('the component "{name}" is ready'))
def component_ready(session: WorldSession, name: str) -> None:
    def ready() -> bool:
        workload = _workload(session, name)
        return workload is not None and bool(workload.get("status", {}).get("readyReplicas"))

    eventually(ready, what=f"component {name} ready", session=session)


def _cluster_pod_spec(session: WorldSession, ref: str) -> dict[str, Any]:
    namespace, name = ref.split("/", 1)
    workload = _workload(session, name, namespace)
    assert workload is not None, f"no workload {ref} in the cluster"
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


@then(parsers.parse('the Deployment "{ref}" in the cluster runs a command containing "{text}"'))
def cluster_command(session: WorldSession, ref: str, text: str) -> None:
    containers = _cluster_pod_spec(session, ref)["containers"]
    commands = [shlex.join([*c.get("command", []), *c.get("args", [])]) for c in containers]
    assert any(text in c for c in commands), f"{ref} runs {commands}"


@then(parsers.parse('the Deployment "{ref}" in the cluster sets enableServiceLinks to false'))
def cluster_no_service_links(session: WorldSession, ref: str) -> None:
    assert _cluster_pod_spec(session, ref).get("enableServiceLinks") is False


@then(parsers.parse('the Job "{ref}" in the cluster completed without a failed attempt'))
def cluster_job_completed(session: WorldSession, ref: str) -> None:
    namespace, name = ref.split("/", 1)

    def completed() -> dict[str, Any] | None:
        job: dict[str, Any] | None = session.world.get("Job", name, namespace)
        conditions = (job or {}).get("status", {}).get("conditions", []) or []
        done = any(c["type"] == "Complete" and c["status"] == "True" for c in conditions)
        return job if done else None

    job = eventually(completed, what=f"Job {ref} Complete", session=session)
    assert not job["status"].get("failed"), f"Job {ref} had failed attempts: {job['status']}"


@then(parsers.parse('the Kustomization "{name}" in the cluster depends on "{other}"'))
def cluster_kustomization_depends(session: WorldSession, name: str, other: str) -> None:
    kustomization = session.world.get("Kustomization", name, "flux-system")
    assert kustomization is not None, f"no Kustomization flux-system/{name} in the cluster"
    names = [d["name"] for d in kustomization["spec"].get("dependsOn", [])]
    assert names == [other], f"{name} dependsOn {names}"


@then(parsers.parse('the Kustomization "{name}" in the cluster is Ready'))
def cluster_kustomization_ready(session: WorldSession, name: str) -> None:
    eventually(
        lambda: session.world.ready("Kustomization", name, "flux-system"),
        what=f"Kustomization {name} Ready",
        session=session,
    )
