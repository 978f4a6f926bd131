"""What a delete does to an object: remove it now, or mark it and keep it for a while.

A pod is deleted gracefully, as kube-apiserver's pod strategy and `rest.BeforeDelete` do it: a
scheduled pod that has not finished gets `deletionTimestamp` (now plus its grace period: the
request's `gracePeriodSeconds`, else the pod's `terminationGracePeriodSeconds`, 30 when unset)
and `deletionGracePeriodSeconds`, and stays Terminating until its kubelet deletes it again with
a grace period of 0, which `kubectl delete --grace-period=0 --force` also does at once; a later
delete with a shorter period brings the deadline forward, a longer one changes nothing.
Unscheduled and finished pods go at once. Objects with finalizers (foreground deletion adds one)
are marked and kept until their finalizers are gone; a namespace is marked Terminating.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from simulator.api.kinds import KindInfo, is_crd
from simulator.api.store.collection import FOREGROUND
from simulator.api.store.namespaces import held, is_namespace
from simulator.api.store.namespaces import terminating as namespace_terminating
from simulator.api.store.rules import copy_object, marked_for_deletion
from simulator.clock import rfc3339

__all__ = [
    "CRD_CLEANUP",
    "DEFAULT_GRACE_SECONDS",
    "Deletion",
    "crd_cleaned",
    "deleted_by_update",
    "deletion",
    "grace_seconds",
]

DEFAULT_GRACE_SECONDS = 30
# apiextensions-apiserver's finalizer: a deleted CRD stays until its custom resources are gone.
CRD_CLEANUP = "customresourcecleanup.apiextensions.k8s.io"
# DELETED: remove it now; MODIFIED: keep it, marked; TERMINATING: a namespace, marked;
# PENDING: an earlier mark stands, nothing changes.
Deletion = Literal["DELETED", "MODIFIED", "TERMINATING", "PENDING"]


def grace_seconds(info: KindInfo, live: dict[str, Any], requested: int | None) -> int:
    """Seconds the deletion of `live` waits for its kubelet; 0 removes it now."""
    if info.group or info.kind != "Pod":
        return 0
    meta = live.get("metadata") or {}
    if meta.get("deletionTimestamp") and not meta.get("deletionGracePeriodSeconds"):
        return 0  # confirmed already: what remains are finalizers
    spec, status = live.get("spec") or {}, live.get("status") or {}
    if requested is None:
        requested = int(spec.get("terminationGracePeriodSeconds", DEFAULT_GRACE_SECONDS))
    if not spec.get("nodeName") or status.get("phase") in ("Succeeded", "Failed"):
        return 0
    return max(requested, 1) if requested < 0 else requested


def deletion(
    info: KindInfo,
    live: dict[str, Any],
    *,
    foreground: bool,
    grace_period: int | None,
    now: datetime,
) -> tuple[Deletion, dict[str, Any] | None]:
    """What deleting `live` does, and the marked copy when it is kept."""
    now = now.replace(microsecond=0)
    meta = live["metadata"]
    grace = grace_seconds(info, live, grace_period)
    if grace:
        marked = _terminating_pod(live, grace, now)
        return ("PENDING", None) if marked is None else ("MODIFIED", marked)
    new = copy_object(live)
    was_marked = bool(meta.get("deletionTimestamp"))
    if foreground and not was_marked:
        new = marked_for_deletion(new, now)
        finalizers = new["metadata"].setdefault("finalizers", [])
        if FOREGROUND not in finalizers:
            finalizers.append(FOREGROUND)
        return "MODIFIED", new
    if not was_marked and (is_namespace(info) or is_crd(info)):
        # Their controllers' job: mark it, delete the content (a namespace's objects, a CRD's
        # resources), then finalize.
        action: Deletion = "TERMINATING" if is_namespace(info) else "MODIFIED"
        marked = (
            namespace_terminating(new, now) if is_namespace(info) else _crd_terminating(new, now)
        )
        return action, marked
    if not meta.get("finalizers"):
        return "DELETED", None
    if was_marked and not meta.get("deletionGracePeriodSeconds"):
        return "PENDING", None
    if was_marked:
        new["metadata"]["deletionGracePeriodSeconds"] = 0  # a pod's kubelet has confirmed
    else:
        new = marked_for_deletion(new, now)
    return "MODIFIED", new


def _terminating_pod(live: dict[str, Any], grace: int, now: datetime) -> dict[str, Any] | None:
    """`live` marked to go in `grace` seconds (a new copy); None when an earlier mark stands."""
    meta = live["metadata"]
    current = int(meta.get("deletionGracePeriodSeconds") or 0)
    new = copy_object(live)
    if meta.get("deletionTimestamp"):
        if grace >= current:
            return None
        deadline = datetime.fromisoformat(str(meta["deletionTimestamp"])) + timedelta(
            seconds=grace - current
        )
        if deadline < now:
            deadline, grace = now, 1
    else:
        deadline = now + timedelta(seconds=grace)
        if int(meta.get("generation") or 0) > 0:
            new["metadata"]["generation"] = int(meta["generation"]) + 1
    new["metadata"]["deletionTimestamp"] = rfc3339(deadline)
    new["metadata"]["deletionGracePeriodSeconds"] = grace
    return new


def _crd_terminating(crd: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A CRD as apiextensions-apiserver's delete answers it: marked, its cleanup finalizer
    added, a Terminating condition; its finalizing controller then removes the resources and
    the finalizer (`crd_cleaned`)."""
    meta = crd["metadata"]
    meta["deletionTimestamp"] = rfc3339(now)
    finalizers = meta.setdefault("finalizers", [])
    if CRD_CLEANUP not in finalizers:
        finalizers.append(CRD_CLEANUP)
    status = crd.setdefault("status", {})
    status["conditions"] = [
        *(c for c in status.get("conditions") or [] if c.get("type") != "Terminating"),
        {
            "type": "Terminating",
            "status": "True",
            "lastTransitionTime": rfc3339(now),
            "reason": "InstanceDeletionPending",
            "message": "CustomResourceDefinition marked for deletion; CustomResource deletion "
            "will begin soon",
        },
    ]
    return crd


def crd_cleaned(crd: dict[str, Any]) -> dict[str, Any] | None:
    """The finalizing controller's patch of a CRD marked for deletion (its resources are
    removed with it), or None when it is not waiting for that."""
    meta = crd.get("metadata") or {}
    finalizers = meta.get("finalizers") or []
    if not meta.get("deletionTimestamp") or CRD_CLEANUP not in finalizers:
        return None
    return {"metadata": {"finalizers": [f for f in finalizers if f != CRD_CLEANUP]}}


def deleted_by_update(info: KindInfo, new: dict[str, Any]) -> bool:
    """ShouldDeleteDuringUpdate: a write that leaves a marked object nothing that holds it (no
    finalizer, no grace period running; a namespace's spec.finalizers too) deletes it."""
    meta = new["metadata"]
    return bool(meta.get("deletionTimestamp")) and not (
        meta.get("finalizers")
        or meta.get("deletionGracePeriodSeconds")
        or (is_namespace(info) and held(new))
    )
