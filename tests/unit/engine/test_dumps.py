"""Reading `kubectl get <kinds> -A -o json` dumps (one file or several)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from appliance.dumps import DumpError, read_dumps
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
