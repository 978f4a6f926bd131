"""What kube-controller-manager's DaemonSet controller writes (pkg/controller/daemon): one pod per
node, pinned there by node affinity, with the tolerations every daemon pod gets, labelled with
the template's revision hash and generation; and the status that counts them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simulator.world.objects import Objects, meta, pod_is_ready

__all__ = ["pin_to_node", "reconcile_daemonset"]

Obj = dict[str, Any]

# util.AddOrUpdateDaemonPodTolerations: a daemon pod runs through these node conditions.
_TOLERATIONS = [
    {"key": f"node.kubernetes.io/{key}", "operator": "Exists", "effect": effect}
    for key, effect in (
        ("not-ready", "NoExecute"),
        ("unreachable", "NoExecute"),
        ("disk-pressure", "NoSchedule"),
        ("memory-pressure", "NoSchedule"),
        ("pid-pressure", "NoSchedule"),
        ("unschedulable", "NoSchedule"),
    )
]


def pin_to_node(spec: Obj, node: str) -> None:
    """util.ReplaceDaemonSetPodNodeNameNodeAffinity and the daemon tolerations, in place."""
    term = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}
    affinity = spec.setdefault("affinity", {}).setdefault("nodeAffinity", {})
    affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": [term]}
    tolerations = spec.setdefault("tolerations", [])
    for toleration in _TOLERATIONS:
        if not any(t.get("key") == toleration["key"] for t in tolerations):
            tolerations.append(dict(toleration))


def reconcile_daemonset(
    objects: Objects,
    ds: Obj,
    revision: str,
    owned: Callable[..., list[Obj]],
    create_pod: Callable[..., str | None],
) -> None:
    """A pod on each node without one (`owned`/`create_pod`: the controllers' own), then the
    status; `revision` names the template's ControllerRevision (`<ds>-<hash>`)."""
    pod_hash = revision.rsplit("-", 1)[-1]
    nodes = [str(meta(n).get("name")) for n in objects.list("v1", "Node", None)]
    served = {daemon_node(p) for p in owned(ds, terminating_too=True)}
    generation = str(meta(ds).get("generation", 1))
    for node in (n for n in nodes if n not in served):
        name = f"{meta(ds)['name']}-{objects.suffix()}"
        labels = {"controller-revision-hash": pod_hash, "pod-template-generation": generation}
        if create_pod(ds, name, extra_labels=labels, node=node) is not None:
            break  # refused: the controller recorded why, and tries again later
        objects.event(ds, "SuccessfulCreate", f"Created pod: {name}", source="daemonset-controller")
    objects.patch_status(ds, daemonset_status(ds, owned(ds), len(nodes), pod_hash))


def daemon_node(pod: Obj) -> str | None:
    """The node a daemon pod is pinned to (or already runs on)."""
    spec = pod.get("spec") or {}
    required = (spec.get("affinity") or {}).get("nodeAffinity") or {}
    terms = (required.get("requiredDuringSchedulingIgnoredDuringExecution") or {}).get(
        "nodeSelectorTerms"
    ) or [{}]
    fields = terms[0].get("matchFields") or [{}]
    node = spec.get("nodeName") or (fields[0].get("values") or [None])[0]
    return None if node is None else str(node)


def daemonset_status(ds: Obj, pods: list[Obj], nodes: int, pod_hash: str) -> Obj:
    """The status the controller writes once it has counted the daemon pods."""
    ready = sum(1 for p in pods if pod_is_ready(p))
    updated = sum(
        1 for p in pods if meta(p).get("labels", {}).get("controller-revision-hash") == pod_hash
    )
    return {
        "currentNumberScheduled": len(pods),
        "desiredNumberScheduled": nodes,
        "numberMisscheduled": 0,
        "numberReady": ready,
        "numberAvailable": ready,
        "updatedNumberScheduled": updated,
        "observedGeneration": meta(ds).get("generation", 1),
        **({"numberUnavailable": nodes - ready} if nodes > ready else {}),
    }
