"""How the world's controllers create a pod: through the API's admission, as
kube-controller-manager's controllers do, and what they record when it refuses one.

A real controller's create goes through kube-apiserver's admission; the ServiceAccount and
Priority plugins refuse a pod whose account or PriorityClass does not exist (403), Pod Security
one that breaks its namespace's enforced level (simulator/api/store/pod_admission.py). No pod then
exists, and the controller says why (k8s.io/kubernetes v1.37, pkg/controller):
- a Warning `FailedCreate` Event on its object: `Error creating: <refusal>` (ReplicaSet,
  ReplicationController, DaemonSet and Job controllers, controller_utils.go), `Create Pod <pod>
  in StatefulSet <set> failed error: <refusal>` (stateful_pod_control.go);
- on a ReplicaSet, the condition `ReplicaFailure` (reason FailedCreate, the refusal as message),
  removed by its next successful sync; the Deployment controller copies it to the Deployment.
A controller retries the create with a backoff; the world's retry when what was missing is
created, and whenever the owner changes. A ReplicaSet's pods keep the name prefix the real one
gives them (`generateName: <rs>-`), so the refusal names the pod as kube-apiserver does:
`pods "<rs>-" is forbidden: ...`.
"""

from __future__ import annotations

import copy
from typing import Any

from simulator.api.store import ForbiddenError
from simulator.world.daemonsets import pin_to_node
from simulator.world.objects import Objects, meta, set_condition

__all__ = ["REPLICA_FAILURE", "create_pod", "owner_reference", "refused", "replica_failure"]

Obj = dict[str, Any]
REPLICA_FAILURE = "ReplicaFailure"
_FAILED_CREATE = "FailedCreate"
# The controllers whose objects name their pods with a generated suffix.
_GENERATED = frozenset({"ReplicaSet", "ReplicationController", "DaemonSet", "Job"})
_SOURCES = {
    "ReplicaSet": "replicaset-controller",
    "ReplicationController": "replication-controller",
    "DaemonSet": "daemonset-controller",
    "Job": "job-controller",
    "StatefulSet": "statefulset-controller",
}


def create_pod(
    objects: Objects,
    owner: Obj,
    name: str,
    *,
    extra_labels: dict[str, str],
    claims: dict[str, str] | None = None,
    node: str | None = None,
) -> str | None:
    """Create the pod `name` from the owner's template; the refusal's words when admission
    refuses it (after recording it as the owner's controller does), else None."""
    template = copy.deepcopy((owner.get("spec") or {}).get("template") or {})
    tmeta = template.get("metadata") or {}
    spec = template.get("spec") or {}
    if node is not None:
        pin_to_node(spec, node)
    for claim, claim_name in (claims or {}).items():
        spec.setdefault("volumes", []).append(
            {"name": claim, "persistentVolumeClaim": {"claimName": claim_name}}
        )
    kind = str(owner.get("kind"))
    if kind == "StatefulSet":
        spec.setdefault("hostname", name)
    pod_meta: Obj = {
        "name": name,
        "namespace": meta(owner).get("namespace"),
        "labels": {**(tmeta.get("labels") or {}), **extra_labels},
        "annotations": dict(tmeta.get("annotations") or {}),
        "ownerReferences": [owner_reference(owner)],
    }
    if kind in _GENERATED:
        pod_meta["generateName"] = f"{meta(owner)['name']}-"
    try:
        objects.create_admitted(
            {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta, "spec": spec}
        )
    except ForbiddenError as refusal:
        _record(objects, owner, name, str(refusal))
        return str(refusal)
    return None


def owner_reference(obj: Obj) -> Obj:
    """The controller reference a controller puts on what it makes."""
    return {
        "apiVersion": obj.get("apiVersion"),
        "kind": obj.get("kind"),
        "name": meta(obj).get("name"),
        "uid": meta(obj).get("uid"),
        "controller": True,
        "blockOwnerDeletion": True,
    }


def _record(objects: Objects, owner: Obj, pod: str, refusal: str) -> None:
    kind = str(owner.get("kind"))
    if kind == "StatefulSet":
        message = f"Create Pod {pod} in StatefulSet {meta(owner)['name']} failed error: {refusal}"
    else:
        message = f"Error creating: {refusal}"
    source = _SOURCES.get(kind, "kube-controller-manager")
    objects.event(owner, _FAILED_CREATE, message, type="Warning", source=source)


def refused(conditions: list[Obj], refusal: str | None, *, now: Any) -> list[Obj]:
    """A ReplicaSet's conditions after a sync: ReplicaFailure set while its creates are refused
    (its first time kept), removed once they succeed."""
    kept = [c for c in conditions if c.get("type") != REPLICA_FAILURE]
    if refusal is None:
        return kept
    return set_condition(
        conditions, REPLICA_FAILURE, "True", now=now, reason=_FAILED_CREATE, message=refusal
    )


def replica_failure(replica_sets: list[Obj]) -> Obj | None:
    """The ReplicaFailure condition the Deployment controller copies: its ReplicaSets' first."""
    for rs in replica_sets:
        for condition in (rs.get("status") or {}).get("conditions") or []:
            if condition.get("type") == REPLICA_FAILURE and condition.get("status") == "True":
                return dict(condition)
    return None
