"""Reading `kubectl get <kinds> -A -o json` dumps (one file or several)."""

from __future__ import annotations

import json
import os
import tracemalloc
from pathlib import Path

import pytest

from appliance.dumps import DEFAULT_MAX_DUMP_BYTES, DumpError, read_dumps
from tests.fixtures import Appliance, node, ts


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


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("{not json", "is not JSON"),
        ("[1, 2]", "top level is not a map"),
        ('{"items": []}', "has no 'kind'"),
        ('{"kind": "List", "items": 3}', "without an 'items' list"),
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
