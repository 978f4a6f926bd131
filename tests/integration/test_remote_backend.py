"""The world engine drives a cluster through a kubeconfig (`simulator.replay.remote`).

The cluster here is the fake API serving a bare store: nothing in it reacts, as on a cluster
whose workload controllers are off, so every object, status and Event must come from the world
over HTTP. The same scenario replayed in an embedded world is the expected end state.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from simulator.api import ApiServer
from simulator.api.store import NotFoundError, ObjectStore
from simulator.cli import main
from simulator.clock import VirtualClock
from simulator.replay.kubeclient import KubeClient
from simulator.replay.remote import RemoteStore, ReplayResult, replay_onto_cluster
from simulator.world.engine import World

ROOT = Path(__file__).resolve().parents[2]
HAPPY = ROOT / "scenarios" / "happy-path.yaml"
KINDS = (
    ("v1", "Node"),
    ("v1", "Pod"),
    ("apps/v1", "Deployment"),
    ("apps/v1", "StatefulSet"),
    ("apps/v1", "ReplicaSet"),
    ("batch/v1", "Job"),
)


@contextlib.contextmanager
def _served(tmp: Path) -> Iterator[tuple[ObjectStore, Path]]:
    store = ObjectStore(VirtualClock(datetime(2026, 1, 1, tzinfo=UTC), speed=0))
    api = ApiServer(store)
    api.start()
    kubeconfig = api.write_kubeconfig(tmp / "kubeconfig")
    try:
        yield store, kubeconfig
    finally:
        api.stop()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[ObjectStore, Path]]:
    """A served fake API over an empty store, and its kubeconfig."""
    with _served(tmp_path) as served:
        yield served


def _states(store: ObjectStore) -> dict[tuple[str, str, str], tuple[Any, ...]]:
    out: dict[tuple[str, str, str], tuple[Any, ...]] = {}
    for api_version, kind in KINDS:
        for obj in store.list(api_version, kind):
            status = obj.get("status") or {}
            ready = [
                c.get("status")
                for c in status.get("conditions") or []
                if c.get("type") in ("Ready", "Available")
            ]
            waiting = [
                ((c.get("state") or {}).get("waiting") or {}).get("reason")
                for c in status.get("containerStatuses") or []
            ]
            key = (kind, str(obj["metadata"].get("namespace", "")), obj["metadata"]["name"])
            out[key] = (status.get("phase"), ready, waiting)
    return out


@pytest.fixture(scope="module")
def replayed(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[ObjectStore, ReplayResult, World]:
    """happy-path replayed onto the cluster, and the same scenario in an embedded world."""
    with _served(tmp_path_factory.mktemp("cluster")) as (store, kubeconfig):
        result = replay_onto_cluster(HAPPY, kubeconfig=kubeconfig)
    embedded = World.from_scenario(HAPPY)
    embedded.start()
    embedded.run_until(embedded.scenario.end)
    return store, result, embedded


def test_replay_through_kubeconfig_reaches_the_embedded_end_state(
    replayed: tuple[ObjectStore, ReplayResult, World],
) -> None:
    """Every node, pod and workload on the cluster ends as in the embedded replay."""
    store, result, embedded = replayed
    assert result.errors == ()
    remote, local = _states(store), _states(embedded.store)
    assert len(remote) > 10
    assert remote == local


def test_replay_emits_the_events_on_the_cluster(
    replayed: tuple[ObjectStore, ReplayResult, World],
) -> None:
    """The cluster holds the Events the embedded world emitted (reason, object, message)."""
    store, result, embedded = replayed
    on_cluster = {
        (e["reason"], e["involvedObject"].get("name"), e["message"])
        for e in store.list("v1", "Event")
    }
    expected = {(e.reason, e.name, e.message) for e in embedded.timeline.entries}
    assert expected
    assert expected <= on_cluster
    assert [e.reason for e in result.world.timeline.entries] == [
        e.reason for e in embedded.timeline.entries
    ]


def test_pods_run_on_the_simulated_node(
    replayed: tuple[ObjectStore, ReplayResult, World],
) -> None:
    """Pods are bound to the world's fake node, whose status the world wrote (kwok-style)."""
    store, _, _ = replayed
    nodes = store.list("v1", "Node")
    assert [n["metadata"]["name"] for n in nodes] == ["appliance-single-node"]
    ready = [c for c in nodes[0]["status"]["conditions"] if c["type"] == "Ready"]
    assert ready[0]["status"] == "True"
    pods = store.list("v1", "Pod")
    assert pods
    assert {p["spec"].get("nodeName") for p in pods} == {"appliance-single-node"}


def test_remote_store_maps_api_errors_to_store_errors(cluster: tuple[ObjectStore, Path]) -> None:
    """A missing object is None on get and NotFoundError on delete, as with the local store."""
    _, kubeconfig = cluster
    client = KubeClient(kubeconfig)
    try:
        remote = RemoteStore(client, VirtualClock(datetime(2026, 1, 1, tzinfo=UTC), speed=0))
        assert remote.get("v1", "Pod", "absent", "default") is None
        with pytest.raises(NotFoundError):
            remote.delete("v1", "Pod", "absent", "default")
        with pytest.raises(NotFoundError):
            remote.list("example.com/v1", "Widget")
    finally:
        client.close()


def test_remote_store_writes_status_given_to_create(cluster: tuple[ObjectStore, Path]) -> None:
    """Status given to create reaches the cluster through the status subresource."""
    store, kubeconfig = cluster
    client = KubeClient(kubeconfig)
    seen: list[str] = []
    try:
        remote = RemoteStore(client, VirtualClock(datetime(2026, 1, 1, tzinfo=UTC), speed=0))
        remote.changes.subscribe(lambda event, obj: seen.append(f"{event} {obj['kind']}"))
        remote.create(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "p", "namespace": "fresh"},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]},
                "status": {"phase": "Running"},
            }
        )
    finally:
        client.close()
    pod = store.get("v1", "Pod", "p", "fresh")
    assert pod is not None
    assert pod["status"]["phase"] == "Running"
    assert "ADDED Pod" in seen


def test_replay_command_plays_a_scenario_onto_the_cluster(
    cluster: tuple[ObjectStore, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """`appliance-sim replay SCENARIO --kubeconfig PATH` creates the world on the cluster."""
    store, kubeconfig = cluster
    code = main(["replay", str(HAPPY), "--kubeconfig", str(kubeconfig), "--until", "10m"])
    assert code == 0
    assert store.list("v1", "Node")
    assert "onto the cluster" in capsys.readouterr().out


def test_replay_command_names_an_unreachable_cluster(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A kubeconfig pointing nowhere is exit code 2 with a message naming the server."""
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: x\n"
        "clusters: [{name: x, cluster: {server: 'http://127.0.0.1:9'}}]\n"
        "users: [{name: x, user: {token: t}}]\n"
        "contexts: [{name: x, context: {cluster: x, user: x}}]\n"
    )
    assert main(["replay", str(HAPPY), "--kubeconfig", str(kubeconfig)]) == 2
    assert "127.0.0.1:9" in capsys.readouterr().err
