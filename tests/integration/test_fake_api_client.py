"""The official `kubernetes` Python client against the fake API (list, watch, patch, exec...)."""

from __future__ import annotations

import email.utils
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException
from kubernetes.stream import stream

from tests.integration.fake_api_harness import START, Harness, running_api


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Harness]:
    with running_api(tmp_path, history_limit=50) as harness:
        for ns in ("alga", "a", "b"):
            harness.store.create(
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
            )
        yield harness


@pytest.fixture
def core(api: Harness) -> client.CoreV1Api:
    return client.CoreV1Api(api.client())


def _raw(
    api_client: client.ApiClient,
    method: str,
    path: str,
    *,
    query: list[tuple[str, str]] | None = None,
    body: Any = None,
    content_type: str | None = None,
) -> bytes:
    """One request through the official client's own transport and auth."""
    headers = {"Content-Type": content_type} if content_type else None
    serialized = api_client.param_serialize(
        method,
        path,
        query_params=query,
        header_params=headers,
        body=body,
        auth_settings=["BearerToken"],
    )
    response = api_client.call_api(*serialized[:4])
    response.read()
    return bytes(response.data)


def _pod(name: str, labels: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {"containers": [{"name": "main", "image": "busybox"}], **spec},
    }


def test_create_then_list_with_label_selectors(core: client.CoreV1Api) -> None:
    """Created pods are listed and filtered by =, !=, in, notin, exists and !exists."""
    core.create_namespaced_pod("alga", _pod("db-0", {"app": "db", "tier": "core"}))
    core.create_namespaced_pod("alga", _pod("redis-0", {"app": "redis"}))
    core.create_namespaced_pod("alga", _pod("misc"))

    def names(selector: str) -> list[str]:
        pods = core.list_namespaced_pod("alga", label_selector=selector).items
        return [p.metadata.name for p in pods]

    assert names("app=db") == ["db-0"]
    assert names("app!=db") == ["misc", "redis-0"]
    assert names("app in (db,redis)") == ["db-0", "redis-0"]
    assert names("app notin (db)") == ["misc", "redis-0"]
    assert names("tier") == ["db-0"]
    assert names("!app") == ["misc"]


def test_field_selectors_on_phase_and_node(api: Harness, core: client.CoreV1Api) -> None:
    """status.phase and spec.nodeName field selectors filter across namespaces."""
    core.create_namespaced_pod("a", _pod("p1", nodeName="talos-1"))
    core.create_namespaced_pod("b", _pod("p2"))
    api.store.patch_status("v1", "Pod", "p1", {"status": {"phase": "Running"}}, namespace="a")
    running = core.list_pod_for_all_namespaces(field_selector="status.phase=Running").items
    assert [p.metadata.name for p in running] == ["p1"]
    on_node = core.list_pod_for_all_namespaces(field_selector="spec.nodeName=talos-1").items
    assert [p.metadata.name for p in on_node] == ["p1"]


def test_limit_and_continue_page_through_a_list(core: client.CoreV1Api) -> None:
    """limit/continue returns every object exactly once, in pages."""
    for i in range(5):
        core.create_namespaced_config_map("alga", {"metadata": {"name": f"cm-{i}"}})
    seen: list[str] = []
    token = None
    while True:
        page = core.list_namespaced_config_map("alga", limit=2, _continue=token)
        seen.extend(c.metadata.name for c in page.items)
        token = page.metadata._continue
        if not token:
            break
    # The namespace's own kube-root-ca.crt (kube-controller-manager's) is listed too.
    assert seen == [*(f"cm-{i}" for i in range(5)), "kube-root-ca.crt"]


def test_a_list_shows_each_object_as_it_is_now(api: Harness, core: client.CoreV1Api) -> None:
    """Lists re-send each object's encoded JSON until it changes: a change or a delete shows."""
    for name in ("one", "two"):
        core.create_namespaced_config_map("alga", {"metadata": {"name": name}, "data": {"v": "1"}})

    def listed() -> dict[str, Any]:
        items = core.list_namespaced_config_map("alga").items
        return {c.metadata.name: (c.data, c.metadata.resource_version) for c in items}

    first = listed()
    assert listed() == first  # answered from the encoded objects
    core.patch_namespaced_config_map("one", "alga", {"data": {"v": "2"}})
    core.delete_namespaced_config_map("two", "alga")
    after = listed()
    assert list(after) == ["kube-root-ca.crt", "one"]
    assert after["one"][0] == {"v": "2"}
    assert after["one"][1] != first["one"][1]
    body = _raw(core.api_client, "GET", "/api/v1/namespaces/alga/configmaps")
    assert body.startswith(b'{"kind":"ConfigMapList","apiVersion":"v1","metadata":{')
    assert body.endswith(b"]}\n")


def test_status_errors_have_the_api_server_shape(core: client.CoreV1Api) -> None:
    """404 NotFound, 409 AlreadyExists, 409 Conflict and 422 Invalid come back as Status."""
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_pod("nope", "alga")
    assert missing.value.status == 404
    assert '"reason":"NotFound"' in missing.value.body
    created = core.create_namespaced_pod("alga", _pod("db-0"))
    with pytest.raises(ApiException) as exists:
        core.create_namespaced_pod("alga", _pod("db-0"))
    assert (exists.value.status, '"reason":"AlreadyExists"' in exists.value.body) == (409, True)
    core.patch_namespaced_pod("db-0", "alga", {"metadata": {"labels": {"x": "1"}}})
    created.metadata.labels = {"y": "2"}
    with pytest.raises(ApiException) as stale:
        core.replace_namespaced_pod("db-0", "alga", created)
    assert (stale.value.status, '"reason":"Conflict"' in stale.value.body) == (409, True)
    with pytest.raises(ApiException) as invalid:
        core.create_namespaced_pod("alga", {"metadata": {}, "spec": {"containers": []}})
    assert (invalid.value.status, '"reason":"Invalid"' in invalid.value.body) == (422, True)


def test_a_patch_that_names_a_resource_version_is_a_precondition(core: client.CoreV1Api) -> None:
    """As on kube-apiserver: a patch that sets metadata.resourceVersion (kubectl's move from
    client-side to server-side apply sends one in a JSON patch) is refused with 409 Conflict
    unless it names the stored version; one that removes it writes unconditionally."""
    created = core.create_namespaced_config_map("alga", {"metadata": {"name": "pinned"}})
    read = created.metadata.resource_version
    core.patch_namespaced_config_map("pinned", "alga", {"data": {"a": "1"}})
    stale = [
        {"metadata": {"resourceVersion": read}, "data": {"a": "2"}},
        [
            {"op": "replace", "path": "/metadata/resourceVersion", "value": read},
            {"op": "add", "path": "/data/a", "value": "3"},
        ],
    ]
    for body in stale:
        with pytest.raises(ApiException) as refused:
            core.patch_namespaced_config_map("pinned", "alga", body)
        assert (refused.value.status, '"reason":"Conflict"' in refused.value.body) == (409, True)
        assert "the object has been modified" in refused.value.body
    assert core.read_namespaced_config_map("pinned", "alga").data == {"a": "1"}
    current = core.read_namespaced_config_map("pinned", "alga").metadata.resource_version
    core.patch_namespaced_config_map(
        "pinned", "alga", {"metadata": {"resourceVersion": current}, "data": {"a": "4"}}
    )
    core.patch_namespaced_config_map(
        "pinned", "alga", {"metadata": {"resourceVersion": None}, "data": {"a": "5"}}
    )
    assert core.read_namespaced_config_map("pinned", "alga").data == {"a": "5"}


def test_a_dry_run_delete_keeps_the_object(core: client.CoreV1Api) -> None:
    """DeleteOptions.dryRun (in the body, as kubectl and the client send it) deletes nothing."""
    core.create_namespaced_config_map("alga", {"metadata": {"name": "kept"}})
    in_body = client.V1DeleteOptions(dry_run=["All"])
    core.delete_namespaced_config_map("kept", "alga", body=in_body)
    core.delete_collection_namespaced_config_map("alga", body=in_body)
    core.delete_namespaced_config_map("kept", "alga", dry_run="All")  # in the query
    assert core.read_namespaced_config_map("kept", "alga").metadata.name == "kept"
    core.delete_namespaced_config_map("kept", "alga")
    with pytest.raises(ApiException) as gone:
        core.read_namespaced_config_map("kept", "alga")
    assert gone.value.status == 404


def test_strategic_merge_patch_merges_containers_env_and_ports(core: client.CoreV1Api) -> None:
    """A strategic patch merges containers by name, env by name and ports by containerPort."""
    apps = client.AppsV1Api(core.api_client)
    apps.create_namespaced_deployment(
        "alga",
        {
            "metadata": {"name": "web"},
            "spec": {
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {
                        "containers": [
                            {
                                "name": "web",
                                "image": "web:1",
                                "env": [{"name": "A", "value": "1"}],
                                "ports": [{"containerPort": 80}],
                            },
                            {"name": "sidecar", "image": "side:1"},
                        ]
                    },
                },
            },
        },
    )
    patched = apps.patch_namespaced_deployment(
        "web",
        "alga",
        {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "name": "web",
                                "env": [{"name": "B", "value": "2"}],
                                "ports": [{"containerPort": 80, "name": "http"}],
                            }
                        ]
                    }
                }
            }
        },
    )
    containers = patched.spec.template.spec.containers
    assert [c.name for c in containers] == ["web", "sidecar"]
    # strategicpatch's order: the patch's new item first (test_fake_api_vs_apiserver_patches.py)
    assert [(e.name, e.value) for e in containers[0].env] == [("B", "2"), ("A", "1")]
    assert [(p.container_port, p.name) for p in containers[0].ports] == [(80, "http")]
    assert patched.metadata.generation == 2


def test_json_and_merge_patches(api: Harness, core: client.CoreV1Api) -> None:
    """JSON patch ops and merge patches (null deletes) both apply."""
    core.create_namespaced_config_map("alga", {"metadata": {"name": "cm"}, "data": {"a": "1"}})
    api_client = core.api_client
    _raw(
        api_client,
        "PATCH",
        "/api/v1/namespaces/alga/configmaps/cm",
        body=[{"op": "add", "path": "/data/b", "value": "2"}],
        content_type="application/json-patch+json",
    )
    _raw(
        api_client,
        "PATCH",
        "/api/v1/namespaces/alga/configmaps/cm",
        body={"data": {"a": None}},
        content_type="application/merge-patch+json",
    )
    assert core.read_namespaced_config_map("cm", "alga").data == {"b": "2"}


def test_status_subresource_changes_only_status(core: client.CoreV1Api) -> None:
    """Writes to /status change status only; main-resource writes ignore status."""
    apps = client.AppsV1Api(core.api_client)
    body = {
        "metadata": {"name": "db"},
        "spec": {
            "replicas": 1,
            "serviceName": "db",
            "selector": {"matchLabels": {"app": "db"}},
            "template": {
                "metadata": {"labels": {"app": "db"}},
                "spec": {"containers": [{"name": "pg", "image": "pg"}]},
            },
        },
    }
    apps.create_namespaced_stateful_set("alga", body)
    status = apps.patch_namespaced_stateful_set_status(
        "db", "alga", {"status": {"readyReplicas": 1, "replicas": 1}, "spec": {"replicas": 5}}
    )
    assert (status.status.ready_replicas, status.spec.replicas) == (1, 1)
    assert status.metadata.generation == 1
    main = apps.patch_namespaced_stateful_set(
        "db", "alga", {"status": {"readyReplicas": 0}, "metadata": {"labels": {"x": "y"}}}
    )
    assert main.status.ready_replicas == 1
    assert main.metadata.generation == 1


def test_a_deployments_annotations_count_as_a_new_generation(core: client.CoreV1Api) -> None:
    """kube-apiserver's Deployment strategy counts annotation changes as it counts spec changes
    (its controller copies them to the ReplicaSets); a StatefulSet's do not count."""
    apps = client.AppsV1Api(core.api_client)
    template = {
        "metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
    }
    spec = {"replicas": 1, "selector": {"matchLabels": {"app": "web"}}, "template": template}
    apps.create_namespaced_deployment("alga", {"metadata": {"name": "web"}, "spec": spec})
    annotated = {"metadata": {"annotations": {"owner": "ops"}}}
    assert apps.patch_namespaced_deployment("web", "alga", annotated).metadata.generation == 2
    labelled = {"metadata": {"labels": {"tier": "front"}}}
    assert apps.patch_namespaced_deployment("web", "alga", labelled).metadata.generation == 2
    body = {"metadata": {"name": "db"}, "spec": {**spec, "serviceName": "db"}}
    apps.create_namespaced_stateful_set("alga", body)
    assert apps.patch_namespaced_stateful_set("db", "alga", annotated).metadata.generation == 1


def test_watch_streams_changes_from_a_resource_version(
    api: Harness, core: client.CoreV1Api
) -> None:
    """A watch from a list's resourceVersion sees ADDED, MODIFIED and DELETED in order."""
    rv = core.list_namespaced_pod("alga").metadata.resource_version
    api.store.create({**_pod("w"), "metadata": {"name": "w", "namespace": "alga"}})
    api.store.patch_status("v1", "Pod", "w", {"status": {"phase": "Running"}}, namespace="alga")
    api.store.delete("v1", "Pod", "w", "alga")
    seen = []
    w = watch.Watch()
    for event in w.stream(core.list_namespaced_pod, "alga", resource_version=rv, timeout_seconds=5):
        seen.append((event["type"], event["object"].metadata.name))
        if event["type"] == "DELETED":
            w.stop()
    assert seen == [("ADDED", "w"), ("MODIFIED", "w"), ("DELETED", "w")]


def test_watch_from_a_compacted_resource_version_is_410_gone(
    api: Harness, core: client.CoreV1Api
) -> None:
    """A resourceVersion older than the retained history ends the watch with 410 Expired."""
    for i in range(60):
        api.store.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"c{i}"}})
    with pytest.raises(ApiException) as gone:
        for _ in watch.Watch().stream(
            core.list_namespaced_config_map, "default", resource_version="1", timeout_seconds=5
        ):
            pass
    assert gone.value.status == 410


def test_watch_sends_bookmarks_when_asked(api: Harness) -> None:
    """allowWatchBookmarks with sendInitialEvents ends the initial state with a bookmark."""
    raw = _raw(
        api.client(),
        "GET",
        "/api/v1/namespaces/default/configmaps",
        query=[
            ("watch", "true"),
            ("allowWatchBookmarks", "true"),
            ("sendInitialEvents", "true"),
            ("resourceVersionMatch", "NotOlderThan"),
            ("timeoutSeconds", "1"),
        ],
    )
    lines = [line for line in raw.decode().splitlines() if line]
    assert '"type":"BOOKMARK"' in lines[-1]
    assert "k8s.io/initial-events-end" in lines[-1]


def test_exec_with_the_stream_helper_runs_the_scripted_psql(api: Harness) -> None:
    """stream.stream (v4 channels) returns the handler's stdout and the exit code from channel 3."""
    api.store.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "db-0", "namespace": "alga"},
            "spec": {"containers": [{"name": "postgres", "image": "postgres:16"}]},
        }
    )

    def psql(_ns: str, _pod: str, _c: str, cmd: list[str]) -> tuple[str, str, int] | None:
        if cmd[0] == "psql" and "count(*) from users" in " ".join(cmd):
            return "7\n", "", 0
        return None

    api.store.execs.register(psql)
    core = client.CoreV1Api(api.client())

    def run(command: list[str]) -> tuple[str, str, int]:
        ws = stream(
            core.connect_get_namespaced_pod_exec,
            "db-0",
            "alga",
            command=command,
            stderr=True,
            stdin=False,
            stdout=True,
            tty=False,
            _preload_content=False,
        )
        try:
            ws.run_forever(timeout=10)
            return ws.read_stdout(), ws.read_stderr(), ws.returncode
        finally:
            ws.close()
            # The client leaks its socket when the server closes first (as real servers do).
            ws.sock.shutdown()

    assert run(["psql", "-U", "alga", "-tAc", "select count(*) from users"]) == ("7\n", "", 0)
    _out, err, code = run(["missing-tool"])
    assert code == 127
    assert "executable file not found" in err


def test_date_header_is_virtual_time(api: Harness, core: client.CoreV1Api) -> None:
    """The Date header follows the virtual clock, not the wall clock."""
    api.store.clock.advance(3600)
    headers = core.list_namespace_with_http_info()[2]
    served = email.utils.parsedate_to_datetime(headers["Date"])
    assert abs((served - START).total_seconds() - 3600) < 60


def test_faults_inject_errors_for_n_requests(api: Harness, core: client.CoreV1Api) -> None:
    """A 503 fault on pod lists answers twice, then the API recovers; the log records it."""
    api.server.faults.add_error(503, path=r"/pods$", verbs={"list"}, count=2)
    for _ in range(2):
        with pytest.raises(ApiException) as failed:
            core.list_namespaced_pod("alga")
        assert failed.value.status == 503
    assert core.list_namespaced_pod("alga").items == []
    statuses = [r.status for r in api.server.requests(verb="list", resource="pods")]
    assert statuses == [503, 503, 200]


def test_throttle_fault_is_retried_after_retry_after(api: Harness, core: client.CoreV1Api) -> None:
    """A 429 with Retry-After is retried by the client's transport, as against a real server."""
    api.server.faults.add_throttle(path="/configmaps", count=1, retry_after_seconds=1)
    listed = core.list_namespaced_config_map("default").items
    assert [c.metadata.name for c in listed] == ["kube-root-ca.crt"]
    statuses = [r.status for r in api.server.requests(verb="list", resource="configmaps")]
    assert statuses == [429, 200]


def test_drop_watches_closes_open_streams(api: Harness, core: client.CoreV1Api) -> None:
    """drop_watches() ends an open watch before its timeout."""
    stream_iter = watch.Watch().stream(
        core.list_namespaced_pod, "alga", timeout_seconds=60, _request_timeout=30
    )
    api.store.create({**_pod("first"), "metadata": {"name": "first", "namespace": "alga"}})
    first = next(stream_iter)
    assert first["object"].metadata.name == "first"
    api.server.faults.drop_watches()
    assert list(stream_iter) == []


def test_unsupported_field_selector_is_400_like_a_real_server(core: client.CoreV1Api) -> None:
    """A field label the API server does not index for the kind is rejected, not ignored."""
    with pytest.raises(ApiException) as rejected:
        core.list_namespaced_pod("alga", field_selector="spec.containers.image=x")
    assert rejected.value.status == 400
    assert "field label not supported: spec.containers.image" in rejected.value.body


def test_version_is_written_as_kube_apiserver_writes_it(core: client.CoreV1Api) -> None:
    """Indented by two spaces, with no newline at the end (kube-apiserver's WriteRawJSON), as a
    real control plane answered `kubectl get --raw /version`."""
    body = _raw(core.api_client, "GET", "/version")
    assert body.startswith(b'{\n  "major": "1",\n  "minor": ')
    assert body.endswith(b'"platform": "linux/amd64"\n}')
    assert json.loads(body)["gitVersion"].startswith("v1.")
