"""Typed views: every field the engine reads, parsed once, tolerant of half-written objects."""

from __future__ import annotations

from datetime import UTC, datetime

from appliance.canonical import JobState
from appliance.cluster.connecting import parse_http_date
from appliance.cluster.reading import crashed_containers
from appliance.flux_views import flux_view
from appliance.views import (
    job_view,
    node_view,
    pod_view,
    ref_of,
    workload_view,
)
from tests.fixtures import (
    CORE_IMAGE,
    MSG_SUBPATH,
    NOW,
    deployment,
    helm_release,
    job,
    node,
    pod,
)


def test_pod_view_reads_containers_init_first_and_claims() -> None:
    """Init containers come first; volumes map to their claims; Ready and phase are read."""
    raw = pod(
        "db-0",
        labels={"app": "db"},
        image="docker.io/library/postgres:16.4",
        container="postgres",
        ready=False,
        waiting=("CreateContainerConfigError", MSG_SUBPATH),
        init_image=CORE_IMAGE,
        init_waiting=("PodInitializing", None),
        volumes=[{"name": "db-data", "persistentVolumeClaim": {"claimName": "pg-data"}}],
    )
    view = pod_view(raw)
    assert view is not None
    assert str(view.ref) == "Pod/msp/db-0"
    assert view.component == "db"
    assert view.tier == "core"
    assert not view.ready
    assert [c.init for c in view.containers] == [True, False]
    assert view.claims == {"db-data": "pg-data"}
    waiting = view.first_waiting()
    assert waiting is not None
    assert waiting.waiting_reason == "PodInitializing"


def test_each_container_and_condition_field_is_read_from_its_own_place() -> None:
    """Container and condition views are built positionally (cheaper per pod): every field,
    named, holds the value its own raw field gave, so no two can have swapped places."""
    raw = {
        "metadata": {"name": "web-0", "namespace": "msp"},
        "status": {
            "conditions": [
                {
                    "type": "Ready",
                    "status": "False",
                    "reason": "ContainersNotReady",
                    "message": "containers with unready status: [web]",
                    "lastTransitionTime": "2026-04-29T14:00:00Z",
                }
            ],
            "containerStatuses": [
                {
                    "name": "web",
                    "image": "ghcr.io/nine-minds/web:1",
                    "ready": True,
                    "restartCount": 4,
                    "state": {
                        "waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m"},
                        "running": {},
                        "terminated": {"exitCode": 2, "reason": "Error", "message": "now"},
                    },
                    "lastState": {
                        "terminated": {
                            "exitCode": 137,
                            "reason": "OOMKilled",
                            "message": "before",
                            "finishedAt": "2026-04-29T14:59:00Z",
                        }
                    },
                }
            ],
        },
    }
    view = pod_view(raw)
    assert view is not None
    assert view.conditions["Ready"]._asdict() == {
        "type": "Ready",
        "status": "False",
        "reason": "ContainersNotReady",
        "message": "containers with unready status: [web]",
        "since_text": "2026-04-29T14:00:00Z",
    }
    (container,) = view.containers
    assert container._asdict() == {
        "name": "web",
        "image": "ghcr.io/nine-minds/web:1",
        "init": False,
        "ready": True,
        "restart_count": 4,
        "waiting": True,
        "waiting_reason": "CrashLoopBackOff",
        "waiting_message": "back-off 5m",
        "running": True,
        "terminated": (2, "Error", "now", None),
        "last_terminated": (137, "OOMKilled", "before", "2026-04-29T14:59:00Z"),
    }


def test_views_of_half_written_objects_read_as_absent() -> None:
    """No name: no view; wrong types read as defaults, never as an exception."""
    assert pod_view({"metadata": {}}) is None
    assert ref_of({"metadata": "x"}) is None
    broken = {
        "kind": "Deployment",
        "metadata": {"name": "redis", "generation": "2"},
        "spec": {"replicas": "1", "paused": "yes"},
        "status": {"readyReplicas": True, "conditions": "x"},
    }
    view = workload_view(broken, "Deployment")
    assert view is not None
    assert (view.replicas, view.ready_replicas, view.generation, view.paused) == (1, 0, None, False)
    assert not view.ready
    assert view.conditions == {}


def test_job_view_states() -> None:
    """Complete and Failed conditions win; otherwise succeeded, then active pods decide."""
    assert _job_state("completed") is JobState.COMPLETED
    assert _job_state("running") is JobState.RUNNING
    assert _job_state("waiting") is JobState.WAITING
    failed = job_view(job("b", state="failed", message="Job has reached the specified backoff"))
    assert failed is not None
    assert failed.state is JobState.FAILED
    assert failed.message == "Job has reached the specified backoff"
    assert failed.failed == 4
    assert failed.backoff_limit == 3


def test_flux_and_node_views() -> None:
    """Ready is True/False from the condition, None when Unknown; nodes lose their namespace."""
    unknown = flux_view(helm_release("alga-core", ready=None), "HelmRelease")
    assert unknown is not None
    assert unknown.ready is None
    assert unknown.component == "alga-core"
    down = node_view(node(ready=False))
    assert not down.ready
    assert down.ref.namespace is None
    assert str(down.ref) == "Node/appliance-single-node"


def test_crashed_containers_need_a_failed_run_without_message() -> None:
    """Only a non-zero exit without a termination message is worth reading the previous log."""
    silent = pod(
        "temporal-66c8d5f9b7-ab3cd",
        labels={"app.kubernetes.io/name": "temporal"},
        ready=False,
        waiting=("CrashLoopBackOff", "back-off 5m0s"),
        terminated=("Error", None),
    )
    told = pod(
        "temporal-ui-5d8f7c9b6-xk2lp",
        labels={"app.kubernetes.io/name": "temporal-ui"},
        ready=False,
        waiting=("CrashLoopBackOff", "back-off 5m0s"),
        terminated=("Error", "cannot unmarshal"),
    )
    assert crashed_containers([silent, told, deployment("x")]) == [
        ("msp", "temporal-66c8d5f9b7-ab3cd", "temporal")
    ]


def test_http_date_parsed_once_for_both_clients() -> None:
    """The API server's Date header (RFC 9110) is the cluster's clock; junk is no time."""
    assert parse_http_date("Wed, 29 Apr 2026 15:00:00 GMT") == NOW
    assert parse_http_date("garbage") is None
    assert parse_http_date(None) is None
    assert parse_http_date("Wed, 29 Apr 2026 15:00:00 -0000") == datetime(
        2026, 4, 29, 15, tzinfo=UTC
    )


def _job_state(state: str) -> JobState:
    view = job_view(job("j", state=state))
    assert view is not None
    return view.state
