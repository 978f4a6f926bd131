"""Issue 12, gap 5: the kinds a chart or kubectl uses by default are served, as discovery says.

Each with kube-apiserver's scope, short names and categories: `kubectl apply --prune` walks
kubectl's default prune list (ReplicationController included); `kubectl get all` expands the
`all` category; charts create Ingresses, HorizontalPodAutoscalers and the like.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.served_world import WEB, served_world

KINDS = Path(__file__).parent / "manifests" / "chart-kinds.yaml"


def test_chart_kinds_are_created_and_read_by_their_short_names(tmp_path: Path) -> None:
    """Every kind applies, and reads back by the short name and scope kube-apiserver has."""
    with served_world(tmp_path, WEB) as (_world, api):
        api.kubectl("apply", "-f", str(KINDS))
        for short, name, namespaced in (
            ("ing", "web", True),
            ("ingressclass", "nginx", False),
            ("hpa", "web", True),
            ("cj", "tick", True),
            ("pdb", "web", True),
            ("quota", "small", True),
            ("limits", "limits", True),
            ("pc", "high", False),
            ("endpointslices", "web-abc", True),
            ("lease", "lock", True),
            ("rc", "old", True),
        ):
            scope = ["-n", "shop"] if namespaced else []
            found = api.kubectl("get", short, name, *scope, "-o", "name").stdout.strip()
            assert found.endswith(f"/{name}"), (short, found)


def test_the_all_category_and_api_resources_list_the_real_short_names(tmp_path: Path) -> None:
    """`kubectl get all` shows HPAs and CronJobs; `api-resources` has kube-apiserver's table."""
    with served_world(tmp_path, WEB) as (_world, api):
        api.kubectl("apply", "-f", str(KINDS))
        everything = api.kubectl("get", "all", "-n", "shop", "-o", "name").stdout.split()
        kinds = {line.split("/")[0] for line in everything}
        assert {
            "horizontalpodautoscaler.autoscaling",
            "cronjob.batch",
            "replicationcontroller",
            "deployment.apps",
            "service",
        } <= kinds
        table = api.kubectl("api-resources", "--no-headers").stdout.splitlines()
        rows = {line.split()[0]: line.split() for line in table}
        assert rows["ingresses"][1] == "ing"
        assert rows["horizontalpodautoscalers"][1:3] == ["hpa", "autoscaling/v2"]
        assert rows["poddisruptionbudgets"][1:3] == ["pdb", "policy/v1"]
        assert rows["priorityclasses"][-2:] == ["false", "PriorityClass"]


def test_kubectl_apply_prune_walks_its_default_prune_list(tmp_path: Path) -> None:
    """`apply --prune -l` lists every kind of kubectl's default list and deletes what left."""
    with served_world(tmp_path, WEB) as (_world, api):
        first = tmp_path / "first.yaml"
        first.write_text(
            json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "List",
                    "items": [
                        {
                            "apiVersion": "v1",
                            "kind": "ConfigMap",
                            "metadata": {"name": n, "namespace": "shop", "labels": {"set": "a"}},
                        }
                        for n in ("keep", "drop")
                    ],
                }
            )
        )
        api.kubectl("apply", "-f", str(first))
        second = tmp_path / "second.yaml"
        second.write_text(
            json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": "keep", "namespace": "shop", "labels": {"set": "a"}},
                }
            )
        )
        pruned = api.kubectl("apply", "--prune", "-l", "set=a", "-f", str(second))
        assert "configmap/drop pruned" in pruned.stdout
        names = api.kubectl("get", "configmaps", "-n", "shop", "-l", "set=a", "-o", "name").stdout
        assert names.split() == ["configmap/keep"]
