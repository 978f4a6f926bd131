"""How observed changes become scenario actions (no server: a recorder fed by hand)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import yaml
from hypothesis import given
from hypothesis import strategies as st

from simulator.replay.recording import Change, Recorder
from simulator.replay.scripting import clean, merge_diff, recording_to_scenario
from simulator.world.objects import merge_patch
from simulator.world.scenario import parse_scenario

START = datetime(2026, 6, 20, 14, 0, tzinfo=UTC)

json_values = st.recursive(
    st.integers() | st.text(max_size=5) | st.booleans(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=10,
)
json_objects = st.dictionaries(st.text(max_size=3), json_values, max_size=4)


@given(json_objects, json_objects)
def test_merge_diff_turns_the_old_state_into_the_new(
    old: dict[str, Any], new: dict[str, Any]
) -> None:
    """Applying the computed merge patch to the old object gives the new one."""
    assert merge_patch(old, merge_diff(old, new)) == new


class _Fed(Recorder):
    """A recorder whose observations are given, not watched."""

    def __init__(
        self, initial: list[dict[str, Any]], changes: list[tuple[float, str, dict[str, Any]]]
    ) -> None:
        self.start = START
        self.initial = initial
        self.changes = [
            Change(seq, kind, obj, START + timedelta(seconds=at), str(100 + seq))
            for seq, (at, kind, obj) in enumerate(changes)
        ]


def _pod(phase: str, **meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "web-1",
            "namespace": "app",
            "uid": "u1",
            "resourceVersion": "7",
            **meta,
        },
        "spec": {"containers": [{"name": "web", "image": "web:1"}]},
        "status": {"phase": phase},
    }


def test_changes_become_apply_patch_and_delete_actions() -> None:
    """A new object is applied, a change is a merge patch, a removal a delete, at its offset."""
    doc = recording_to_scenario(
        _Fed(
            [],
            [
                (5, "ADDED", _pod("Pending")),
                (65, "MODIFIED", _pod("Running")),
                (90, "DELETED", _pod("Running")),
            ],
        ),
        name="fed",
    )
    actions = [(a["at"], a["action"]) for a in doc["events"]]
    assert actions == [(5.0, "apply"), (65.0, "patch"), (90.0, "delete")]
    assert doc["events"][1]["patch"] == {"status": {"phase": "Running"}}
    parse_scenario(yaml.safe_dump(doc), source="fed.yaml")


def test_server_identity_is_not_recorded() -> None:
    """uid, resourceVersion and managedFields are the replaying server's to assign."""
    cleaned = clean(_pod("Running", managedFields=[{"manager": "kubelet"}]))
    assert set(cleaned["metadata"]) == {"name", "namespace"}


def test_secret_data_is_never_recorded() -> None:
    """A Secret, if ever recorded, keeps its metadata and loses its data."""
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s"},
        "data": {"k": "dg=="},
    }
    assert "data" not in clean(secret)


def test_a_held_deletion_replays_as_delete_then_finalizers_dropped() -> None:
    """Deletion held by a finalizer: delete when it starts, drop finalizers when it ends."""
    held = _pod("Running", finalizers=["example.com/hold"])
    deleting = _pod(
        "Running", finalizers=["example.com/hold"], deletionTimestamp="2026-06-20T14:01:00Z"
    )
    doc = recording_to_scenario(
        _Fed([held], [(60, "MODIFIED", deleting), (70, "DELETED", deleting)]), name="fed"
    )
    assert [a["action"] for a in doc["events"]] == ["delete", "patch"]
    assert doc["events"][1]["patch"] == {"metadata": {"finalizers": None}}


def test_crds_are_recorded_without_their_schemas() -> None:
    """A recorded CRD only needs to serve the kind: its schema becomes preserve-unknown."""
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "helmreleases.helm.toolkit.fluxcd.io"},
        "spec": {
            "group": "helm.toolkit.fluxcd.io",
            "names": {"kind": "HelmRelease", "plural": "helmreleases"},
            "scope": "Namespaced",
            "versions": [
                {
                    "name": "v2",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {}}}},
                }
            ],
        },
        "status": {"acceptedNames": {}},
    }
    slim = clean(crd)
    assert slim["spec"]["versions"][0]["schema"]["openAPIV3Schema"] == {
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": True,
    }
    assert "status" not in slim
