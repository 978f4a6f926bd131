"""Issue 12, gap 4: the subresources kubectl's everyday commands use.

`kubectl scale` (deployments/scale, statefulsets/scale), `kubectl drain` (pods/eviction, with a
disruption budget honoured), `kubectl create token` (serviceaccounts/token; the token then works),
`kubectl auth whoami` (SelfSubjectReview) and `kubectl auth can-i --list` (SelfSubjectRulesReview).
"""

from __future__ import annotations

from pathlib import Path

from tests.integration.fake_api_harness import needs_bootstrap_policy
from tests.integration.served_world import WEB, served_world, wait_for

WORLD = (
    WEB
    + """
  - apiVersion: apps/v1
    kind: StatefulSet
    metadata: {name: db, namespace: shop}
    spec:
      serviceName: db
      replicas: 1
      selector: {matchLabels: {app: db}}
      template:
        metadata: {labels: {app: db}}
        spec:
          containers: [{name: db, image: "nginx:1.27"}]
  - apiVersion: v1
    kind: ServiceAccount
    metadata: {name: reader, namespace: shop}
  - apiVersion: rbac.authorization.k8s.io/v1
    kind: Role
    metadata: {name: read-pods, namespace: shop}
    rules: [{apiGroups: [""], resources: [pods], verbs: [get, list]}]
  - apiVersion: rbac.authorization.k8s.io/v1
    kind: RoleBinding
    metadata: {name: reader-reads-pods, namespace: shop}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: read-pods}
    subjects: [{kind: ServiceAccount, name: reader, namespace: shop}]
"""
)


def test_kubectl_scale_reads_and_writes_the_scale_subresource(tmp_path: Path) -> None:
    """Deployments and StatefulSets scale; the controllers follow the new replica count."""
    with served_world(tmp_path, WORLD) as (world, api):
        wait_for(lambda: world.ready("Deployment", "web", "shop"), what="web ready")
        out = api.kubectl("scale", "deployment", "web", "-n", "shop", "--replicas=3").stdout
        assert "deployment.apps/web scaled" in out
        wait_for(lambda: len(world.pods("shop", app="web")) == 3, what="a third web pod")
        api.kubectl("scale", "statefulset", "db", "-n", "shop", "--replicas=2")
        assert world.get("StatefulSet", "db", "shop")["spec"]["replicas"] == 2
        scale = api.kubectl(
            "get", "--raw", "/apis/apps/v1/namespaces/shop/deployments/web/scale"
        ).stdout
        assert '"kind":"Scale"' in scale
        assert '"selector":"app=web"' in scale


def test_kubectl_drain_evicts_through_the_eviction_subresource(tmp_path: Path) -> None:
    """Drain cordons the node and evicts; a budget that allows no disruption stops it (429)."""
    with served_world(tmp_path, WORLD) as (world, api):
        wait_for(lambda: world.ready("Deployment", "web", "shop"), what="web ready")
        budget = tmp_path / "pdb.json"
        budget.write_text(
            '{"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name":'
            ' "web", "namespace": "shop"}, "spec": {"maxUnavailable": 0, "selector":'
            ' {"matchLabels": {"app": "web"}}}}'
        )
        api.kubectl("apply", "-f", str(budget))
        blocked = api.kubectl(
            "drain", world.node_name, "--pod-selector=app=web", "--timeout=3s", check=False
        )
        assert blocked.returncode != 0
        assert "disruption budget" in blocked.stderr
        api.kubectl("delete", "poddisruptionbudget", "web", "-n", "shop")
        before = {p["metadata"]["uid"] for p in world.pods("shop", app="web")}
        drained = api.kubectl("drain", world.node_name, "--pod-selector=app=web", "--timeout=20s")
        assert "evicting pod shop/" in drained.stderr + drained.stdout
        assert world.get("Node", world.node_name)["spec"].get("unschedulable") is True
        evictions = [r for r in api.server.requests() if r.subresource == "eviction"]
        assert len(evictions) >= 2
        assert before.isdisjoint({p["metadata"]["uid"] for p in world.pods("shop", app="web")})


@needs_bootstrap_policy
def test_kubectl_create_token_makes_a_token_that_authenticates(tmp_path: Path) -> None:
    """The TokenRequest's token is the service account: RBAC applies to it."""
    with served_world(tmp_path, WORLD) as (_world, api):
        token = api.kubectl("create", "token", "reader", "-n", "shop").stdout.strip()
        assert token
        config = api.server.write_kubeconfig(tmp_path / "reader", token=token, user="reader")
        allowed = api.kubectl("get", "pods", "-n", "shop", kubeconfig=config)
        assert allowed.returncode == 0
        denied = api.kubectl("get", "secrets", "-n", "shop", kubeconfig=config, check=False)
        assert 'User "system:serviceaccount:shop:reader" cannot list resource "secrets"' in (
            denied.stderr
        )
        whoami = api.kubectl("auth", "whoami", kubeconfig=config).stdout
        assert "system:serviceaccount:shop:reader" in whoami
        assert "system:serviceaccounts:shop" in whoami


@needs_bootstrap_policy
def test_kubectl_auth_can_i_list_shows_the_rules_rbac_grants(tmp_path: Path) -> None:
    """SelfSubjectRulesReview answers with the Role's rules, not an empty incomplete list."""
    with served_world(tmp_path, WORLD) as (_world, api):
        token = api.kubectl("create", "token", "reader", "-n", "shop").stdout.strip()
        config = api.server.write_kubeconfig(tmp_path / "reader", token=token, user="reader")
        listed = api.kubectl("auth", "can-i", "--list", "-n", "shop", kubeconfig=config).stdout
        pods = next(line for line in listed.splitlines() if line.startswith("pods "))
        assert "[get list]" in pods
        assert "selfsubjectaccessreviews.authorization.k8s.io" in listed
        admin = api.kubectl("auth", "whoami").stdout
        assert "system:masters" in admin
