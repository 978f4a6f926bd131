"""Live views are reused only for the very same raw object; a changed object gets a new view.

The watch cache replaces an object's dict on every watch line, so identity says "unchanged"; an
object that changed is a new dict and must never be judged by the view of its old one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from appliance.indexing import build_index
from appliance.snapshot import Snapshot
from appliance.view_memo import ViewMemo

NOW = datetime(2026, 4, 29, 15, 0, tzinfo=UTC)


def _pod(phase: str, *, ready: str) -> dict[str, Any]:
    return {
        "kind": "Pod",
        "metadata": {"name": "web-0", "namespace": "msp", "uid": "u-1"},
        "spec": {"containers": [{"name": "web"}]},
        "status": {"phase": phase, "conditions": [{"type": "Ready", "status": ready}]},
    }


def test_the_same_raw_object_keeps_its_view_and_a_replaced_one_gets_a_new_view() -> None:
    memo = ViewMemo()
    pending = _pod("Pending", ready="False")
    first = memo.pod(pending)
    assert first is not None
    assert memo.pod(pending) is first
    running = _pod("Running", ready="True")  # the next watch line: a new dict
    second = memo.pod(running)
    assert second is not None
    assert second is not first
    assert (second.phase, second.conditions["Ready"].true) == ("Running", True)
    assert memo.pod(pending) is first  # still the same object, still its own view


def test_only_the_newest_entries_are_kept() -> None:
    memo = ViewMemo(keep=2)
    pods = [_pod("Pending", ready="False") for _ in range(3)]
    views = [memo.pod(p) for p in pods]
    assert memo.pod(pods[2]) is views[2]
    assert memo.pod(pods[0]) is not views[0]  # dropped, built again


def test_a_live_evaluation_sees_a_replaced_pod_and_a_dump_builds_its_own_views() -> None:
    pending = _pod("Pending", ready="False")
    live = build_index(Snapshot(server_time=NOW, pods=(pending,)))
    assert not live.pod_ready("msp", "web-0")
    again = build_index(Snapshot(server_time=NOW, pods=(pending,)))
    assert again.pods[("msp", "web-0")] is live.pods[("msp", "web-0")]
    dump = build_index(Snapshot(server_time=NOW, source="dump", pods=(pending,)))
    assert dump.pods[("msp", "web-0")] is not live.pods[("msp", "web-0")]
    running = _pod("Running", ready="True")
    assert build_index(Snapshot(server_time=NOW, pods=(running,))).pod_ready("msp", "web-0")


def test_a_live_evaluation_keeps_only_the_views_of_its_own_objects() -> None:
    memo = ViewMemo()
    old, new = _pod("Pending", ready="False"), _pod("Running", ready="True")
    old_view, new_view = memo.pod(old), memo.pod(new)
    memo.retain([new])
    assert memo.pod(new) is new_view
    assert memo.pod(old) is not old_view  # forgotten: built again
