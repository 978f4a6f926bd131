"""What kustomize-controller v1.9.6 keeps of what a Kustomization applied, and its finalizer.

`status.inventory` lists each applied object as `namespace_name_group_Kind` with its version,
in the order Flux applies them (fluxcd/pkg/ssa's ReconcileOrder: CRDs and Namespaces first,
webhooks last, the rest by kind, then namespace and name). Both Flux controllers put
`finalizers.fluxcd.io` on their objects; deleting a Kustomization that prunes then deletes what
its inventory lists, bar objects marked `kustomize.toolkit.fluxcd.io/prune: disabled` (or
`reconcile: disabled`), before the finalizer goes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from simulator.api.kinds import split_api_version
from simulator.world.objects import condition, obj_key

if TYPE_CHECKING:
    from simulator.world.objects import Objects

__all__ = [
    "FINALIZER",
    "apply_order",
    "apply_stage",
    "change_subject",
    "finalize",
    "inventory_entries",
    "keep_finalizer",
]

Obj = dict[str, Any]
FINALIZER = "finalizers.fluxcd.io"
_FIRST = [
    "CustomResourceDefinition",
    "Namespace",
    "ClusterRole",
    "ClusterClass",
    "RuntimeClass",
    "PriorityClass",
    "StorageClass",
    "VolumeSnapshotClass",
    "IngressClass",
    "GatewayClass",
    "ClusterRoleBinding",
    "ResourceQuota",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "ConfigMap",
    "Secret",
    "Service",
    "LimitRange",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
]
_LAST = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")
_KIND_INDEX = {kind: i - len(_FIRST) for i, kind in enumerate(_FIRST)} | {
    kind: 1 + i for i, kind in enumerate(_LAST)
}
# The cluster definitions ApplyAllStaged applies (and waits for) before anything else.
_DEFINITIONS = {
    ("CustomResourceDefinition", "apiextensions.k8s.io"),
    ("ClusterRole", "rbac.authorization.k8s.io"),
}
_DISABLED = {
    "kustomize.toolkit.fluxcd.io/prune": "disabled",
    "kustomize.toolkit.fluxcd.io/reconcile": "disabled",
}


def _identity(obj: Obj) -> tuple[str, str, str, str, str]:
    """(group, version, kind, namespace, name) of an object."""
    api_version, kind, namespace, name = obj_key(obj)
    return (*split_api_version(api_version), kind, namespace, name)


def apply_stage(obj: Obj) -> int:
    """fluxcd/pkg/ssa's ApplyAllStaged stage of `obj`: 0 for a cluster definition (CRD,
    Namespace, ClusterRole), 1 for a class definition (a kind ending in `Class`), 2 else."""
    group, version, kind, _, _ = _identity(obj)
    if (kind, group) in _DEFINITIONS or (kind == "Namespace" and (group, version) == ("", "v1")):
        return 0
    return 1 if kind.endswith("Class") else 2


def apply_order(obj: Obj) -> tuple[int, int, str, str, str, str]:
    """Where `obj` comes in Flux's apply order (and so in its inventory and change set): its
    stage, then fluxcd/pkg/ssa's sort within it."""
    group, _, kind, namespace, name = _identity(obj)
    return apply_stage(obj), _KIND_INDEX.get(kind, 0), group, kind, namespace, name


def inventory_entries(applied: Iterable[Obj]) -> list[Obj]:
    """`status.inventory.entries` for the objects a Kustomization applied."""
    entries = []
    for obj in sorted(applied, key=apply_order):
        group, version, kind, namespace, name = _identity(obj)
        # cli-utils' ObjMetadata string: a ':' in an RBAC object's name becomes '__'.
        if group == "rbac.authorization.k8s.io":
            name = name.replace(":", "__")
        entries.append({"id": f"{namespace}_{name}_{group}_{kind}", "v": version})
    return entries


def prunes_on_delete(kustomization: Obj) -> bool:
    """finalizerShouldDeleteResources: not suspended, something applied, and the deletion
    policy (default MirrorPrune: as `spec.prune`) says so."""
    spec = kustomization.get("spec") or {}
    inventory = ((kustomization.get("status") or {}).get("inventory") or {}).get("entries")
    if spec.get("suspend") or not inventory:
        return False
    policy = spec.get("deletionPolicy") or "MirrorPrune"
    return policy in ("Delete", "WaitForTermination") or (
        policy == "MirrorPrune" and bool(spec.get("prune"))
    )


def kept_from_pruning(obj: Obj) -> bool:
    """An object whose labels or annotations ask Flux not to prune (or reconcile) it."""
    meta = obj.get("metadata") or {}
    marks = {**(meta.get("labels") or {}), **(meta.get("annotations") or {})}
    return any(marks.get(key) == value for key, value in _DISABLED.items())


def inventory_objects(kustomization: Obj) -> list[Obj]:
    """The objects `status.inventory` names (apiVersion, kind, metadata), in the reverse of
    Flux's apply order, as its DeleteAll deletes them."""
    found = []
    entries = ((kustomization.get("status") or {}).get("inventory") or {}).get("entries") or []
    for entry in entries:
        # cli-utils' ParseObjMetadata: namespace to the first '_', kind and group from the end.
        namespace, _, rest = str(entry.get("id", "")).partition("_")
        rest, _, kind = rest.rpartition("_")
        name, _, group = rest.rpartition("_")
        name = name.replace("__", ":")
        if not (name and kind):
            continue
        version = str(entry.get("v", ""))
        metadata = {"name": name} | ({"namespace": namespace} if namespace else {})
        found.append(
            {
                "apiVersion": f"{group}/{version}" if group else version,
                "kind": kind,
                "metadata": metadata,
            }
        )
    return sorted(found, key=apply_order, reverse=True)


def change_subject(obj: Obj) -> str:
    """fluxcd/pkg/ssa's `Kind/namespace/name` (`Kind/name` for a cluster object)."""
    _, _, kind, namespace, name = _identity(obj)
    return "/".join(part for part in (kind, namespace, name) if part)


def prune(objects: Objects, kustomization: Obj) -> list[str]:
    """Delete what a deleted Kustomization's inventory lists, if it prunes on delete; the
    change set's lines (`Kind/namespace/name deleted`, or `skipped` for an object it does not
    own or may not prune), as kustomize-controller's finalize reports them in an Event."""
    if not prunes_on_delete(kustomization):
        return []
    meta = kustomization.get("metadata") or {}
    owner = {
        "kustomize.toolkit.fluxcd.io/name": meta.get("name"),
        "kustomize.toolkit.fluxcd.io/namespace": meta.get("namespace"),
    }
    changes = []
    for listed in inventory_objects(kustomization):
        at = listed["metadata"]
        live = objects.get(listed["apiVersion"], listed["kind"], at["name"], at.get("namespace"))
        if live is not None:
            labels = (live.get("metadata") or {}).get("labels") or {}
            if any(labels.get(k) != v for k, v in owner.items()) or kept_from_pruning(live):
                changes.append(f"{change_subject(listed)} skipped")
                continue
            objects.delete(live)
        changes.append(f"{change_subject(listed)} deleted")
    return changes


def keep_finalizer(objects: Objects, obj: Obj) -> None:
    """Put Flux's finalizer on a GitRepository or Kustomization that lacks it (the controllers'
    first step with a new object)."""
    finalizers = (obj.get("metadata") or {}).get("finalizers") or []
    if FINALIZER not in finalizers:
        objects.patch(obj, {"metadata": {"finalizers": [*finalizers, FINALIZER]}})


def finalize(objects: Objects, obj: Obj) -> bool:
    """A deleted GitRepository or Kustomization: a Kustomization that prunes deletes what its
    inventory lists and says so in an Event (reason: its Ready reason, as kustomize-controller's
    events take it); then the finalizer goes. False when it is not (or no longer) ours."""
    current = objects.fresh(obj)
    finalizers = ((current or {}).get("metadata") or {}).get("finalizers") or []
    if current is None or FINALIZER not in finalizers:
        return False
    if current.get("kind") == "Kustomization" and (changes := prune(objects, current)):
        reason = str((condition(current, "Ready") or {}).get("reason") or "info")
        objects.event(current, reason, "\n".join(changes), source="kustomize-controller")
    rest = [f for f in finalizers if f != FINALIZER]
    objects.patch(current, {"metadata": {"finalizers": rest or None}})
    return True
