"""Reading `kubectl get <kinds> -A -o json` dumps (one file or several)."""

from __future__ import annotations

import copy as copying
import json
import os
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appliance.dumps import (
    DEFAULT_MAX_DUMP_BYTES,
    DumpError,
    read_dumps,
    snapshot_from_objects,
)
from appliance.engine import evaluate
from appliance.snapshot import Snapshot
from tests.fixtures import Appliance, node, ts
from tests.unit.engine.test_properties import BASE, _mutate, extra_event, mutation

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def _kubectl_list(items: list[dict[str, object]]) -> str:
    return json.dumps(
        {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}},
        indent=4,
        sort_keys=True,
    )


def test_mixed_list_is_sorted_into_kinds(tmp_path: Path) -> None:
    """A v1 List of mixed kinds fills every snapshot field; server time = newest timestamp."""
    path = tmp_path / "dump.json"
    path.write_text(_kubectl_list(Appliance.healthy().all()))
    snap = read_dumps([path])
    assert snap.source == "dump"
    assert len(snap.nodes) == 1
    assert {p["metadata"]["name"] for p in snap.pods} >= {"db-0", "redis-0"}
    assert snap.kustomizations
    assert snap.git_repositories
    assert snap.helm_releases
    assert snap.jobs
    assert snap.pvcs
    assert snap.events
    assert snap.deployments
    assert snap.statefulsets
    assert snap.server_time.strftime("%Y-%m-%dT%H:%M:%SZ") == ts(-30)  # node heartbeat


def test_several_files_and_kind_lists(tmp_path: Path) -> None:
    """Several files merge; a `<Kind>List` and a single object are accepted."""
    a = tmp_path / "nodes.json"
    a.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "NodeList",
                "items": [{k: v for k, v in node().items() if k != "kind"}],
            }
        )
    )
    b = tmp_path / "one.json"
    b.write_text(json.dumps(node("second")))
    snap = read_dumps([a, b])
    assert [n["metadata"]["name"] for n in snap.nodes] == ["appliance-single-node", "second"]
    assert snap.nodes[0]["kind"] == "Node"


def _pod_restarts(number: str) -> str:
    status = '{"containerStatuses":[{"restartCount":' + number + "}]}"
    return (
        '{"kind":"List","items":[{"kind":"Pod","metadata":{"name":"x"},"status":' + status + "}]}"
    )


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("{not json", "is not JSON"),
        ("[1, 2]", "top level is not a map"),
        ('{"items": []}', "has no 'kind'"),
        ('{"kind": "List", "items": 3}', "without an 'items' list"),
        # An adversary's: numbers past what the decoder holds were a BufferError traceback.
        (_pod_restarts("1e999"), "Number out of range"),
        (_pod_restarts("1" * 5000), "Integer value out of range"),
    ],
)
def test_bad_dump_names_file_and_reason(tmp_path: Path, content: str, fragment: str) -> None:
    """Errors name the file and say what is wrong."""
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(DumpError) as info:
        read_dumps([path])
    assert str(path) in str(info.value)
    assert fragment in str(info.value)


def test_missing_dump_file(tmp_path: Path) -> None:
    """A missing file is a DumpError naming it."""
    with pytest.raises(DumpError, match="does not exist"):
        read_dumps([tmp_path / "nope.json"])


def _adversarial(kind: str, path: Path) -> None:
    """What an unlucky admin or an adversary hands over as a dump (issue 9 item 13)."""
    if kind == "dev-zero":
        path.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "deep":
        path.write_text("[" * 100_000)
    elif kind == "deep-object":
        path.write_text('{"kind": "List", "items": [' + '{"a": ' * 5000 + "1" + "}" * 5000 + "]}")
    elif kind == "binary":
        path.write_bytes(b"\xff\xfe\x00\x01" * 64)
    elif kind == "directory":
        path.mkdir()
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "too-big":
        path.write_text(_kubectl_list(Appliance.healthy().all()))


ADVERSARIAL = {
    "dev-zero": "is a character device",
    "fifo": "is a FIFO",
    "deep": "top level is not a map",
    "deep-object": "nested too deeply",
    "binary": "is not UTF-8 text",
    "directory": "is a directory",
    "empty": "is empty",
    "too-big": "more than the limit of 1024 bytes; pass --max-dump-size",
}


@pytest.mark.parametrize(("kind", "reason"), ADVERSARIAL.items(), ids=list(ADVERSARIAL))
def test_adversarial_dumps_are_one_line_errors(tmp_path: Path, kind: str, reason: str) -> None:
    """Never a hang, an endless read, a RecursionError or a traceback: a DumpError naming the
    file and the reason, on one line (exit 2 through the CLI)."""
    path = tmp_path / "dump.json"
    _adversarial(kind, path)
    with pytest.raises(DumpError) as info:
        read_dumps([path], max_bytes=1024 if kind == "too-big" else DEFAULT_MAX_DUMP_BYTES)
    message = info.value.one_line()
    assert str(path) in message
    assert reason in message
    assert "\n" not in str(info.value)
    assert info.value.exit_code == 2


def test_a_malformed_dump_names_its_line(tmp_path: Path) -> None:
    """A syntax error deep in a big dump says on which line."""
    path = tmp_path / "dump.json"
    text = _kubectl_list(Appliance.healthy().all())
    lines = text.splitlines()
    lines[40] += " oops"
    path.write_text("\n".join(lines))
    with pytest.raises(DumpError, match=r"at line 41\b"):
        read_dumps([path])


def test_reading_a_dump_keeps_its_memory_bound(tmp_path: Path) -> None:
    """docs/architecture.md's bound: the heap while reading a kubectl dump stays under twice the
    file's size (the file is mapped, not copied; unused kinds and managedFields are dropped).
    Measured on a ~6 MB dump; the same ratio holds for 200 MB (it is per object)."""
    world = Appliance.healthy().all()
    items: list[dict[str, object]] = []
    for copy in range(60):
        for obj in world:
            item = json.loads(json.dumps(obj))
            item["metadata"]["name"] = f"{item['metadata']['name']}-{copy}"
            item["metadata"]["managedFields"] = [
                {"manager": "kubectl", "operation": "Update", "fieldsV1": {"f:spec": {}}}
            ]
            items.append(item)
        items.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"c{copy}"}})
    path = tmp_path / "dump.json"
    path.write_text(_kubectl_list(items))
    size = path.stat().st_size
    tracemalloc.start()
    try:
        snapshot = read_dumps([path])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(snapshot.pods) >= 60
    assert all("managedFields" not in p["metadata"] for p in snapshot.pods)
    assert peak < 2 * size, f"peak {peak / size:.2f}x the file size"


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutations=st.lists(mutation, max_size=6), events=st.lists(extra_event, max_size=4))
def test_a_dump_read_in_one_pass_gives_the_status_of_its_whole_objects(
    tmp_path_factory: pytest.TempPathFactory,
    mutations: list[tuple[int, tuple[str, ...], Any, bool]],
    events: list[dict[str, Any]],
) -> None:
    """The decoder skips the fields the engine never reads (managedFields, annotations, an
    Event's source...): the status must be the one of the objects read whole."""
    objects = copying.deepcopy(BASE)
    for index, path, value, delete in mutations:
        _mutate(objects[index], path, value, delete)
    objects.extend(copying.deepcopy(events))
    for obj in objects:
        if isinstance(obj.get("metadata"), dict):
            obj["metadata"]["uid"] = "0f5e"
            obj["metadata"]["managedFields"] = [{"manager": "kubectl", "fieldsV1": {"f:x": {}}}]
            obj["metadata"]["annotations"] = {
                "kubectl.kubernetes.io/last-applied-configuration": "{}"
            }
        if obj.get("kind") == "Event":
            obj["source"] = {"component": "kubelet", "host": "appliance-single-node"}
    path = tmp_path_factory.mktemp("dump") / "dump.json"
    path.write_text(_kubectl_list(objects))
    whole = snapshot_from_objects(json.loads(path.read_text())["items"])

    def status(snapshot: Snapshot) -> str:
        return evaluate(
            snapshot,
            site_id="dump",
            login_probe=None,
            users_count=None,
            users_count_measurable=False,
        ).to_json()

    assert status(read_dumps([path])) == status(whole)


def test_a_well_formed_dump_keeps_all_the_engine_reads_and_nothing_else(tmp_path: Path) -> None:
    """The one-pass reading (what the bench measures) applies to a kubectl dump, keeps every
    field of the fixture world (all read by the engine) and drops the ones it never reads."""
    objects = copying.deepcopy(BASE)
    pod = next(o for o in objects if o["kind"] == "Pod")
    pod["metadata"]["ownerReferences"] = [{"kind": "Job", "name": "j", "uid": "1"}]
    pod["metadata"]["deletionTimestamp"] = ts(-5)
    event = next(o for o in objects if o["kind"] == "Event")
    event["series"] = {"count": 3, "lastObservedTime": ts(-4)}
    event["regarding"] = {"kind": "Pod", "name": "db-0", "namespace": "msp"}
    for name in ("eventTime", "deprecatedLastTimestamp"):
        event[name] = ts(-6)
    dumped = copying.deepcopy(objects)
    for obj in dumped:
        obj["metadata"]["uid"] = "0f5e"
        obj["metadata"]["managedFields"] = [{"manager": "kubectl"}]
        obj["metadata"]["annotations"] = {LAST_APPLIED: "{}"}
        if obj["kind"] == "Event":
            obj["source"] = {"component": "kubelet"}
            obj["involvedObject"]["uid"] = "9a1c"
    path = tmp_path / "dump.json"
    path.write_text(_kubectl_list(dumped))
    snapshot = read_dumps([path])
    kept = [*snapshot.nodes, *snapshot.pods, *snapshot.events, *snapshot.deployments]
    assert len(kept) > 20
    originals = {(o["kind"], o["metadata"]["name"]): o for o in objects}
    for obj in kept:
        original = copying.deepcopy(originals[obj["kind"], obj["metadata"]["name"]])
        for name in NEVER_READ["metadata"]:
            original["metadata"].pop(name, None)
        for name in NEVER_READ["involvedObject"]:
            original.get("involvedObject", {}).pop(name, None)
        for name in NEVER_READ["Event"]:
            original.pop(name, None)
        assert obj == original


# What the engine never reads (and the one-pass reading drops): besides managedFields and
# annotations, identities and versions.
NEVER_READ = {
    "metadata": ("uid", "resourceVersion", "managedFields", "annotations"),
    "involvedObject": ("uid", "apiVersion", "fieldPath", "resourceVersion"),
    "Event": ("source", "reportingComponent", "reportingInstance", "action", "related"),
}
