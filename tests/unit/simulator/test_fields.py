"""The field-ownership port (simulator/api/fields): sets, the create shortcut, caps, kubectl's
last-applied hand-over. End-to-end behaviour against kubectl and kube-apiserver is in
tests/integration/test_fake_api_server_side_apply.py and test_fake_api_vs_apiserver_fields.py."""

from __future__ import annotations

import json
from typing import Any

import pytest

from simulator.api import openapi_assets
from simulator.api.fields import ApplyConflict, field_manager
from simulator.api.fields.fieldsets import FieldsError, FieldSet, path_string
from simulator.api.fields.managing import LAST_APPLIED
from simulator.api.fields.typed import compare, created_fields
from simulator.api.kind_registry import KindRegistry

NOW = "2026-01-01T00:00:00Z"
REGISTRY = KindRegistry()


def kind(api_version: str, name: str) -> Any:
    found = REGISTRY.by_kind(api_version, name)
    assert found is not None
    return found


def test_fieldsv1_round_trips_in_structured_merge_diffs_order() -> None:
    """Members before children at one level is not the order: elements sort by kind, then value."""
    doc = {
        "f:metadata": {"f:labels": {"f:b": {}, "f:a": {}}},
        "f:spec": {
            "f:ports": {
                'k:{"port":443,"protocol":"TCP"}': {".": {}, "f:port": {}},
                'k:{"port":80,"protocol":"TCP"}': {},
            },
            "f:finalizers": {'v:"b"': {}, 'v:"a"': {}},
        },
    }
    out = FieldSet.from_json(doc).to_json()
    assert json.dumps(out) == json.dumps(
        {
            "f:metadata": {"f:labels": {"f:a": {}, "f:b": {}}},
            "f:spec": {
                "f:finalizers": {'v:"a"': {}, 'v:"b"': {}},
                "f:ports": {
                    'k:{"port":80,"protocol":"TCP"}': {},
                    'k:{"port":443,"protocol":"TCP"}': {".": {}, "f:port": {}},
                },
            },
        }
    )
    with pytest.raises(FieldsError):
        FieldSet.from_json({"x:nope": {}})


def test_paths_print_as_conflicts_name_them() -> None:
    path = ("f:spec", "f:containers", 'k:{"name":"web"}', "f:ports", 'k:{"port":80}')
    assert path_string(path) == '.spec.containers[name="web"].ports[port=80]'
    assert path_string(("f:finalizers", 'v:"x"')) == '.finalizers[="x"]'


@pytest.mark.parametrize(
    ("api_version", "name", "obj"),
    [
        ("v1", "ConfigMap", {"metadata": {"labels": {"a": "b"}}, "data": {"k": "v"}}),
        (
            "apps/v1",
            "Deployment",
            {
                "metadata": {"annotations": {"x": "y"}},
                "spec": {
                    "replicas": 1,
                    "selector": {"matchLabels": {"app": "w"}},
                    "strategy": {"type": "Recreate"},
                    "template": {
                        "metadata": {"labels": {"app": "w"}},
                        "spec": {
                            "containers": [
                                {"name": "w", "image": "i", "ports": [{"containerPort": 80}]},
                                {"name": "v", "image": "i", "resources": {}},
                            ],
                            "tolerations": [{"key": "k"}],
                        },
                    },
                },
            },
        ),
        ("v1", "Service", {"spec": {"ports": [{"port": 80}], "selector": {"a": "b"}}}),
    ],
)
def test_the_create_shortcut_equals_the_general_comparison(
    api_version: str, name: str, obj: dict[str, Any]
) -> None:
    """What a creating manager owns, walked fast, is compare(zero value, object)'s changes."""
    manager = field_manager(kind(api_version, name), "")
    general = compare(manager.zero, obj, manager.root)
    expected = general.added.union(general.modified)
    assert created_fields(obj, manager.zero, manager.root) == expected.to_json()


def test_update_managers_beyond_ten_merge_into_ancient_changes() -> None:
    """The oldest Update managers of a version share one `ancient-changes` entry."""
    manager = field_manager(kind("v1", "ConfigMap"), "")
    obj: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c"},
        "data": {"seed": "v"},
    }
    manager.update(None, obj, "creator", "2026-01-01T00:00:00Z")
    for n in range(11):
        new = json.loads(json.dumps(obj))
        new.setdefault("data", {})[f"k{n}"] = "v"
        manager.update(obj, new, f"writer-{n:02d}", f"2026-01-01T00:00:{n + 1:02d}Z")
        obj = new
    names = [e["manager"] for e in obj["metadata"]["managedFields"]]
    assert len(names) == 10
    assert "ancient-changes" in names
    assert "creator" not in names
    assert "writer-00" not in names
    assert names[-1] == "writer-10"


def test_kubectl_takes_over_what_its_client_side_apply_set() -> None:
    """Server-side apply after `kubectl apply`: no conflict on fields last-applied set."""
    manager = field_manager(kind("v1", "ConfigMap"), "")
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c"},
        "data": {"a": "1"},
    }
    annotated = json.loads(json.dumps(config))
    annotated["metadata"]["annotations"] = {LAST_APPLIED: json.dumps(config)}
    manager.update(None, annotated, "kubectl-client-side-apply", NOW)
    changed = {**config, "data": {"a": "2"}}
    with pytest.raises(ApplyConflict):
        manager.apply(annotated, changed, "someone-else", force=False, now=NOW)
    applied = manager.apply(annotated, changed, "kubectl", force=False, now=NOW)
    assert applied["data"] == {"a": "2"}
    assert json.loads(applied["metadata"]["annotations"][LAST_APPLIED]) == changed


def test_without_the_documents_lists_are_atomic(monkeypatch: pytest.MonkeyPatch) -> None:
    """No OpenAPI: kinds are deduced from values, so a list is one owned leaf."""
    from simulator.api.fields import kinds

    def forget() -> None:
        openapi_assets.v3_document.cache_clear()
        kinds._group_version.cache_clear()
        kinds._MANAGERS.clear()

    monkeypatch.setattr(openapi_assets, "assets_dir", lambda: openapi_assets.cache_dir() / "none")
    forget()
    try:
        manager = field_manager(kind("v1", "Pod"), "")
        config = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "i"}]},
        }
        applied = manager.apply(None, config, "m", force=False, now=NOW)
        fields = applied["metadata"]["managedFields"][0]["fieldsV1"]
        # `spec` is a map key here, not a named field, so it is owned as well.
        assert fields == {"f:spec": {".": {}, "f:containers": {}}}
    finally:
        monkeypatch.undo()
        forget()
