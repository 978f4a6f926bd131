"""Recording a world through the kubeconfig path, and replaying the recording, round-trips.

The observed UTM timeline runs in a served world; a `Recorder` watches it through its kubeconfig
and writes a scenario; a second world replays that scenario verbatim while a second recorder
watches. Both recordings must tell the same story: the same sequence of object states and Events.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from simulator.api import ApiServer
from simulator.api.store import ObjectStore
from simulator.cli import main
from simulator.clock import VirtualClock
from simulator.neighbours.flux_crds import FLUX_CRDS
from simulator.replay.kubeclient import KubeClient
from simulator.replay.recording import Recorder
from simulator.replay.scripting import recording_to_scenario
from simulator.world.objects import merge_patch
from simulator.world.scenario import load_scenario
from simulator.world.served import ServedWorld
from simulator.world.timeline import TimelineEntry

ROOT = Path(__file__).resolve().parents[2]
OBSERVED = ROOT / "scenarios" / "utm-rc5-observed.yaml"
# Virtual seconds per wall second: the > 60-minute timeline in a few wall seconds each way.
SPEED = 1200.0

Obj = dict[str, Any]
Summary = tuple[Any, ...]


def _summary(obj: Obj) -> Summary:
    """What the round trip must preserve: identity, phase, readiness, container reasons."""
    meta = obj.get("metadata") or {}
    if obj.get("kind") == "Event":
        involved = obj.get("involvedObject") or {}
        return (
            "Event",
            meta.get("namespace"),
            involved.get("kind"),
            involved.get("name"),
            obj.get("reason"),
            obj.get("message"),
            obj.get("count"),
        )
    status = obj.get("status") or {}
    ready = next(
        (
            c.get("status")
            for c in status.get("conditions") or []
            if c.get("type") in ("Ready", "Available")
        ),
        None,
    )
    containers = (status.get("initContainerStatuses") or []) + (
        status.get("containerStatuses") or []
    )
    reasons = tuple(
        str(
            ((c.get("state") or {}).get("waiting") or {}).get("reason")
            or ((c.get("state") or {}).get("terminated") or {}).get("reason")
            or ""
        )
        for c in containers
    )
    return (
        obj.get("kind"),
        meta.get("namespace"),
        meta.get("name"),
        status.get("phase"),
        ready,
        reasons,
    )


def state_sequence(doc: Obj) -> list[Summary]:
    """The scenario's story: each object's distinct states and each deletion, in order."""
    state: dict[tuple[str, str, str], Obj] = {}
    last: dict[tuple[str, str, str], Summary] = {}
    out: list[Summary] = []

    def key(kind: str, namespace: str | None, name: str) -> tuple[str, str, str]:
        return kind, namespace or "", name

    def emit(k: tuple[str, str, str], summary: Summary) -> None:
        if last.get(k) != summary:
            out.append(summary)
            last[k] = summary

    def obj_key(obj: Obj) -> tuple[str, str, str]:
        meta = obj["metadata"]
        return key(obj["kind"], meta.get("namespace"), meta["name"])

    for obj in sorted(doc["objects"], key=obj_key):
        state[obj_key(obj)] = obj
        emit(obj_key(obj), _summary(obj))
    for action in doc["events"]:
        if action["action"] == "apply":
            obj = action["object"]
            state[obj_key(obj)] = obj
            emit(obj_key(obj), _summary(obj))
            continue
        target = action["target"]
        k = key(target["kind"], target.get("namespace"), target["name"])
        if k not in state:
            continue
        if action["action"] == "patch":
            state[k] = merge_patch(state[k], action["patch"])
            emit(k, _summary(state[k]))
        elif action["action"] == "delete":
            del state[k]
            emit(k, ("deleted", *k))
    return out


def _events(entries: list[TimelineEntry]) -> list[tuple[str, str, str, str, str]]:
    return [(e.reason, e.kind, e.namespace, e.name, e.message) for e in entries]


def record_world(scenario: Path, tmp: Path, *, speed: float = SPEED) -> tuple[Obj, ServedWorld]:
    """Serve `scenario`, record it through the kubeconfig until its end; (scenario doc, world)."""
    world = ServedWorld.from_scenario(scenario, speed=0)
    # Frozen while the recorder lists, so the recording starts at the scenario's time zero.
    world.start(kubeconfig_out=tmp / "kubeconfig")
    try:
        client = KubeClient(tmp / "kubeconfig")
        recorder = Recorder(client).begin()
        end = world.scenario.end
        world.clock.set_speed(speed)
        world.scheduler.start()
        deadline = time.monotonic() + 120
        while world.elapsed < end and time.monotonic() < deadline:
            time.sleep(0.05)
        assert world.elapsed >= end, "the replay did not reach its end in two minutes"
        world.clock.set_speed(0)
        # On a loaded machine the scheduler thread can lag behind the clock: let it run what
        # is due before the recording may be called quiet, or its last writes go missing.
        while (due := world.scheduler.next_due()) is not None and due <= world.clock.now():
            assert time.monotonic() < deadline + 60, "the scheduler did not catch up"
            time.sleep(0.05)
        recorder.wait_idle(0.5, timeout=30)
        recorder.stop()
        doc = recording_to_scenario(
            recorder, name=f"recorded-{scenario.stem}", end=client.server_now
        )
    finally:
        world.stop()
    assert not world.scheduler.errors, world.scheduler.errors
    assert not recorder.errors, recorder.errors
    return doc, world


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Record the observed replay, replay the recording, record that replay."""
    first_dir = tmp_path_factory.mktemp("first")
    second_dir = tmp_path_factory.mktemp("second")
    first, world_a = record_world(OBSERVED, first_dir)
    recorded = first_dir / "recorded.yaml"
    recorded.write_text(yaml.safe_dump(first, sort_keys=False))
    second, world_b = record_world(recorded, second_dir)
    return {
        "first": first,
        "second": second,
        "recorded": recorded,
        "world_a": world_a,
        "world_b": world_b,
    }


def test_recording_is_a_valid_verbatim_scenario(round_trip: dict[str, Any]) -> None:
    """The recording loads as a scenario that replays verbatim (reactive: false)."""
    scenario = load_scenario(round_trip["recorded"])
    assert scenario.reactive is False
    assert scenario.events, "the recording has no scripted actions"
    assert scenario.end > 3600, "the observed timeline lasts more than an hour of scenario time"


def test_recording_times_follow_the_server_clock(round_trip: dict[str, Any]) -> None:
    """Action offsets are scenario time (from the Date header), not the seconds of wall time."""
    first = round_trip["first"]
    expected = load_scenario(OBSERVED).start.isoformat().replace("+00:00", "Z")
    assert first["start"] == expected
    offsets = [action["at"] for action in first["events"]]
    assert offsets == sorted(offsets)
    assert offsets[-1] > 3000


def test_round_trip_keeps_the_sequence_of_object_states(round_trip: dict[str, Any]) -> None:
    """Recording the replay of a recording gives the same object states in the same order."""
    first = state_sequence(round_trip["first"])
    second = state_sequence(round_trip["second"])
    assert len(first) > 100
    assert first == second


def test_round_trip_keeps_the_events(round_trip: dict[str, Any]) -> None:
    """The replayed world emits the observed world's Events (reason, object, message) in order."""
    observed = _events(round_trip["world_a"].timeline.entries)
    replayed = _events(round_trip["world_b"].timeline.entries)
    assert len(observed) > 20
    assert replayed == observed


def test_recorded_world_adds_nothing_of_its_own(round_trip: dict[str, Any]) -> None:
    """The verbatim replay creates no Node, ReplicaSet or pod beyond those recorded."""
    first = round_trip["first"]
    recorded_names = {(o["kind"], o["metadata"]["name"]) for o in first["objects"]} | {
        (a["object"]["kind"], a["object"]["metadata"]["name"])
        for a in first["events"]
        if a["action"] == "apply"
    }
    world_b = round_trip["world_b"]
    for kind in ("Node", "Pod"):
        for obj in world_b.store.list("v1", kind):
            assert (kind, obj["metadata"]["name"]) in recorded_names


def test_record_command_writes_a_scenario(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`appliance-sim record` writes a loadable scenario of the objects in the chosen namespaces."""
    store = ObjectStore(VirtualClock(load_scenario(OBSERVED).start, speed=0))
    store.create(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "seen", "namespace": "msp"},
            "data": {"k": "v"},
        }
    )
    store.create(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "elsewhere", "namespace": "other"},
        }
    )
    with ApiServer(store) as api:
        kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig")
        out = tmp_path / "recorded.yaml"
        code = main(
            [
                *("record", "--kubeconfig", str(kubeconfig), "--out", str(out)),
                *("--until-idle", "0.5s", "--namespaces", "msp"),
            ]
        )
    assert code == 0
    scenario = load_scenario(out)
    names = {(o["kind"], o["metadata"]["name"]) for o in scenario.objects}
    assert ("ConfigMap", "seen") in names
    assert ("ConfigMap", "elsewhere") not in names
    # The served cluster's own, with its CA: the cluster a replay runs on publishes its own.
    assert ("ConfigMap", "kube-root-ca.crt") not in names
    assert ("Namespace", "other") not in names
    assert f"wrote {out}" in capsys.readouterr().out


def test_flux_kinds_are_recorded_once_their_crds_appear(round_trip: dict[str, Any]) -> None:
    """CRDs applied mid-install (flux install) start the recording of their kinds."""
    applied = [a["object"] for a in round_trip["first"]["events"] if a["action"] == "apply"]
    recorded = {(o["kind"], o["metadata"]["name"]) for o in applied}
    world_a = round_trip["world_a"]
    flux = [
        (kind, obj["metadata"]["name"])
        for api_version, kind in (
            ("source.toolkit.fluxcd.io/v1", "GitRepository"),
            ("helm.toolkit.fluxcd.io/v2", "HelmRelease"),
        )
        for obj in world_a.store.list(api_version, kind)
    ]
    assert flux, "the observed install has a GitRepository and a HelmRelease"
    assert set(flux) <= recorded
    assert ("CustomResourceDefinition", "helmreleases.helm.toolkit.fluxcd.io") in recorded


def test_a_kind_whose_crd_appears_is_recorded_in_every_state(tmp_path: Path) -> None:
    """An object made and changed while the recorder is on its way to the kind its new CRD
    serves is recorded in both states, not in its last only (a replay at 1200x leaves the
    recorder a few wall milliseconds for that). Its first watch is throttled, as kube-apiserver
    throttles one while the new kind's cache starts: a wait, not an error."""
    store = ObjectStore(VirtualClock(load_scenario(OBSERVED).start, speed=0))
    crd = next(c for c in FLUX_CRDS if c["spec"]["names"]["kind"] == "HelmRelease")
    release = {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": "core", "namespace": "default"},
        "spec": {"interval": "5m", "chart": {"spec": {"chart": "core"}}},
    }

    def make_and_change_the_release() -> None:
        made = store.create(release)
        status = {"conditions": [{"type": "Ready", "status": "Unknown", "reason": "Progressing"}]}
        store.replace({**made, "status": status}, subresource="status")
        status = {"conditions": [{"type": "Ready", "status": "True", "reason": "Succeeded"}]}
        latest = store.get(*_RELEASE)
        assert latest is not None
        store.replace({**latest, "status": status}, subresource="status")

    steps: list[str] = []
    with ApiServer(store) as api:
        client = KubeClient(api.write_kubeconfig(tmp_path / "kubeconfig"))
        request = client.request

        def late(method: str, path: str, *args: Any, **kwargs: Any) -> Any:
            # The recorder asks which version the new group serves: meanwhile the object comes.
            if path == "/apis/helm.toolkit.fluxcd.io" and steps == ["crd"]:
                steps.append("release")
                make_and_change_the_release()
            return request(method, path, *args, **kwargs)

        client.request = late  # type: ignore[method-assign]
        api.faults.add_throttle(path="/helmreleases", verbs={"watch"}, count=1)
        recorder = Recorder(client, kinds=[_CRD_KIND, ("helm.toolkit.fluxcd.io", "HelmRelease")])
        recorder.begin()
        try:
            steps.append("crd")
            store.create(crd)
            deadline = time.monotonic() + 30
            while len(_readiness(recorder, "HelmRelease")) < 3 and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            recorder.stop()
    assert _readiness(recorder, "HelmRelease") == [None, "Unknown", "True"]
    assert not recorder.errors


_CRD_KIND = ("apiextensions.k8s.io", "CustomResourceDefinition")
_RELEASE = ("helm.toolkit.fluxcd.io/v2", "HelmRelease", "core", "default")


def _readiness(recorder: Recorder, kind: str) -> list[Any]:
    """The Ready status of each recorded change of `kind`'s objects, in order."""
    with recorder._lock:
        changes = [c.obj for c in recorder.changes if c.obj.get("kind") == kind]
    return [_summary(obj)[4] for obj in changes]


def test_sigterm_ends_a_recording_as_ctrl_c_does(tmp_path: Path) -> None:
    """An adversary's find: SIGTERM killed `record` (exit -15) and the recording was lost, with
    the client's copy of the CA left behind. It stops the recording and writes it, as Ctrl-C."""
    store = ObjectStore(VirtualClock(load_scenario(OBSERVED).start, speed=0))
    with ApiServer(store) as api:
        kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig")
        out = tmp_path / "recorded.yaml"
        argv = ["record", "--kubeconfig", str(kubeconfig), "--out", str(out)]
        recording = subprocess.Popen(
            [sys.executable, "-m", "simulator.cli", *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "TMPDIR": str(tmp_path)},
        )
        assert recording.stdout is not None
        assert recording.stdout.readline().startswith("recording ")
        time.sleep(1.5)  # the recorder has listed what is there and is watching
        recording.send_signal(signal.SIGTERM)
        said, _ = recording.communicate(timeout=60)
    assert recording.returncode == 0, said
    assert f"wrote {out}" in said
    assert load_scenario(out).objects
    assert {p.name for p in tmp_path.iterdir()} == {"kubeconfig", "recorded.yaml"}
