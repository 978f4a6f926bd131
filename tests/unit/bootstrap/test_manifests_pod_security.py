"""The appliance's own manifests pass the Pod Security admission a Talos appliance runs: Talos
enforces the `baseline` level in every namespace (but kube-system) unless its labels say
otherwise, and baseline forbids the hostPorts the app (3000) and the status service (8080) are
reached on. A workload Pod Security would refuse never starts on a real appliance, whatever
the simulator does (its served worlds do not apply Talos's defaults), so each of our workloads'
pod templates is held here to what its namespace would enforce (the fake API's port of the
admission plugin, judged against kube-apiserver by test_fake_api_vs_apiserver_pod_security.py).
"""

from __future__ import annotations

from typing import Any

from appliance.bootstrap.manifests import build, manifest_dir
from simulator.api.store.pod_security import TALOS, pod_security_refusal

TIERS = ("flux", "platform", "status", "core", "background")


def _objects() -> list[dict[str, Any]]:
    """Every object of every tier, as the bootstrapper builds them (kubectl kustomize)."""
    return [obj for tier in TIERS for obj in build(manifest_dir(tier))]


def _workloads(objects: list[dict[str, Any]]) -> list[tuple[str, str, dict[str, Any]]]:
    """(kind/name, namespace, pod template) of every workload."""
    found = []
    for obj in objects:
        spec = obj.get("spec") or {}
        template = spec.get("template") or ((spec.get("jobTemplate") or {}).get("spec") or {}).get(
            "template"
        )
        if (
            obj.get("kind") in {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"}
            and template
        ):
            meta = obj["metadata"]
            found.append(
                (f"{obj['kind']}/{meta['name']}", meta.get("namespace", "default"), template)
            )
    return found


def test_every_workload_of_ours_is_admitted_as_talos_enforces_pod_security() -> None:
    objects = _objects()
    namespaces = {o["metadata"]["name"]: o for o in objects if o.get("kind") == "Namespace"}
    workloads = _workloads(objects)
    assert {"Deployment/alga-core", "Deployment/appliance-status"} <= {w for w, _, _ in workloads}
    refused = {
        what: refusal
        for what, namespace, template in workloads
        if (
            refusal := pod_security_refusal(
                namespaces.get(namespace), {"kind": "Pod", **template}, TALOS
            )
        )
    }
    assert refused == {}


def test_without_the_namespace_label_talos_would_refuse_the_app() -> None:
    """The premise, on the same objects: the label is what lets the hostPorts through."""
    objects = _objects()
    msp = next(
        o for o in objects if o.get("kind") == "Namespace" and o["metadata"]["name"] == "msp"
    )
    unlabelled = {**msp, "metadata": {"name": "msp", "labels": {}}}
    _, _, template = next(w for w in _workloads(objects) if w[0] == "Deployment/alga-core")
    assert pod_security_refusal(unlabelled, {"kind": "Pod", **template}, TALOS) == (
        'violates PodSecurity "baseline:latest": '
        'hostPort (container "alga-core" uses hostPort 3000)'
    )
