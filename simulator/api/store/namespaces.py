"""A namespace's life as the API server and the namespace controller run it.

Deleting a namespace marks it `Terminating` (deletionTimestamp, phase); its content
is deleted, each object by its own rules (finalizers keep an object, and so the namespace, until
they are removed); the namespace goes once it is empty. While it terminates, creates in it are
refused with the NamespaceLifecycle admission's 403, world writes included; a namespace that was
deleted is not brought back by a world write (only by creating the Namespace itself). `default`,
`kube-system` and `kube-public` are never deleted (the same admission's 403).

A namespace's `spec.finalizers` hold it as pkg/registry/core/namespace has them: a create always
adds `kubernetes`, an update keeps them as stored, only a PUT of its `finalize` subresource
changes them; once its content is gone the namespace controller writes its conditions and
finalizes `kubernetes` away, and the namespace goes when no finalizer of either list is left.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime
from typing import Any

from simulator.api.fields import field_manager
from simulator.api.kinds import KindInfo
from simulator.api.names import kube_finalizer_refused, label_key_errors, resource_label
from simulator.api.store.buckets import Buckets
from simulator.api.store.errors import ForbiddenError, NotFoundError
from simulator.clock import rfc3339

__all__ = [
    "admit",
    "controller_pass",
    "finalizer_errors",
    "held",
    "is_namespace",
    "prepare_update",
    "refuse_immortal",
    "terminating",
    "terminating_forbidden",
]

# What NamespaceLifecycle never lets go (kube-apiserver registers it with these three).
_IMMORTAL = frozenset({"default", "kube-system", "kube-public"})
# The namespace controller's own finalizer.
KUBERNETES = "kubernetes"
_CONTROLLER = "kube-controller-manager"
# The conditions the namespace controller keeps, in its order, each with the reason and message
# it has when nothing is wrong (pkg/controller/namespace/deletion/status_condition_utils.go,
# conditionTypes, okReasons and okMessages).
_CONTENT_GONE = (
    ("NamespaceDeletionDiscoveryFailure", "ResourcesDiscovered",
     "All resources successfully discovered"),
    ("NamespaceDeletionGroupVersionParsingFailure", "ParsedGroupVersions",
     "All legacy kube types successfully parsed"),
    ("NamespaceDeletionContentFailure", "ContentDeleted",
     "All content successfully deleted, may be waiting on finalization"),
    ("NamespaceContentRemaining", "ContentRemoved", "All content successfully removed"),
    ("NamespaceFinalizersRemaining", "ContentHasNoFinalizers",
     "All content-preserving finalizers finished"),
)  # fmt: skip


def is_namespace(info: KindInfo) -> bool:
    """Whether `info` is core/v1 Namespace."""
    return info.group == "" and info.plural == "namespaces"


def terminating(namespace: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The namespace (a copy the caller owns) marked for deletion, as kube-apiserver answers the
    delete: a deletionTimestamp and phase Terminating. The namespace controller's conditions come
    later on a real cluster, and only while content remains (here it is deleted at once)."""
    namespace["metadata"]["deletionTimestamp"] = rfc3339(now)
    namespace["status"] = {"phase": "Terminating"}
    return namespace


def terminating_forbidden(info: KindInfo, name: str, namespace: str) -> ForbiddenError:
    """The NamespaceLifecycle admission's refusal of a create in a terminating namespace."""
    subject = f'{resource_label(info)} "{name}"' if name else resource_label(info)
    return ForbiddenError(
        f"{subject} is forbidden: unable to create new content in namespace {namespace} "
        "because it is being terminated",
        name=name,
        group=info.group,
        kind=info.plural,
        causes=[
            {
                "reason": "NamespaceTerminating",
                "message": f"namespace {namespace} is being terminated",
                "field": "metadata.namespace",
            }
        ],
    )


def refuse_immortal(info: KindInfo, name: str) -> None:
    """NamespaceLifecycle's 403 for a delete of `default`, `kube-system` or `kube-public`, dry
    run or not, whoever asks."""
    if is_namespace(info) and name in _IMMORTAL:
        raise ForbiddenError(
            f'namespaces "{name}" is forbidden: this namespace may not be deleted',
            name=name,
            kind="namespaces",
        )


def admit(
    buckets: Buckets, deleted: set[str], info: KindInfo, meta: dict[str, Any], strict: bool
) -> bool:
    """NamespaceLifecycle for a create: 404 in a missing namespace (for the HTTP path, or when
    it was deleted), 403 in a terminating one; True when a lenient write should create it."""
    ns = str(meta.get("namespace", ""))
    namespace = buckets.namespace(ns)
    if namespace is None:
        if strict or ns in deleted:
            raise NotFoundError(f'namespaces "{ns}" not found', name=ns, kind="namespaces")
        return True
    if namespace["metadata"].get("deletionTimestamp"):
        raise terminating_forbidden(info, str(meta.get("name") or ""), ns)
    return False


def finalizer_errors(namespace: dict[str, Any], *, indexed: bool) -> list[str]:
    """validateFinalizerName for each of spec.finalizers: a qualified name, and one without a
    prefix only if it is a standard one; ValidateNamespace names the list (`indexed` False, a
    create), ValidateNamespaceFinalizeUpdate each entry."""
    errors = []
    for index, name in enumerate(_spec_finalizers(namespace)):
        path = f"spec.finalizers[{index}]" if indexed else "spec.finalizers"
        errors += [f'{path}: Invalid value: "{name}": {e}' for e in label_key_errors(name)]
        if kube_finalizer_refused(name):
            errors.append(
                f'{path}: Invalid value: "{name}": name is neither a standard finalizer name '
                "nor is it fully qualified"
            )
    return errors


def prepare_update(live: dict[str, Any], new: dict[str, Any], subresource: str | None) -> list[str]:
    """An API write of a namespace: through `finalize`, the errors of its spec.finalizers
    (ValidateNamespaceFinalizeUpdate); any other keeps the stored ones, whatever it sent (the
    namespace strategy's PrepareForUpdate, in place)."""
    spec = new.get("spec")
    if subresource == "finalize":  # the strategy's Canonicalize labels it, as any write
        name = str(live["metadata"]["name"])
        new["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = name
        if isinstance(spec, dict) and spec.get("finalizers") == []:
            del spec["finalizers"]  # omitempty: the decoded list is stored as none
        return finalizer_errors(new, indexed=True)
    if not isinstance(spec, dict):
        spec = new["spec"] = {}
    if kept := _spec_finalizers(live):
        spec["finalizers"] = kept
    else:
        spec.pop("finalizers", None)
    return []


def held(namespace: dict[str, Any]) -> bool:
    """Whether spec.finalizers still hold a terminating namespace (ShouldDeleteNamespace-
    DuringUpdate: a write that empties them, with no metadata.finalizers, deletes it)."""
    return bool(_spec_finalizers(namespace))


def controller_pass(
    info: KindInfo,
    namespace: dict[str, Any],
    read_content: Callable[[], list[tuple[KindInfo, dict[str, Any]]]],
    now: datetime,
) -> list[tuple[str, dict[str, Any]]]:
    """The namespace controller's writes to a terminating namespace (nothing for another, whose
    content is not read: every namespaced object's removal asks), each (event, a new copy, its
    fields managed by kube-controller-manager): while its content (`read_content`) remains, its
    conditions naming what remains and the finalizers holding it, through /status when they
    change; once it is gone, the all-clear conditions, then `kubernetes` finalized away through
    /finalize, which deletes it when no finalizer is left in either list
    (ShouldDeleteNamespaceDuringUpdate)."""
    if not namespace["metadata"].get("deletionTimestamp"):
        return []
    if content := read_content():
        conditioned = _conditioned(info, namespace, _remaining(content), now)
        return [] if conditioned is None else [("MODIFIED", conditioned)]
    writes: list[tuple[str, dict[str, Any]]] = []
    finalized = copy.deepcopy(namespace)
    if held(namespace):
        conditioned = _conditioned(info, namespace, {}, now) or namespace
        if conditioned is not namespace:
            writes.append(("MODIFIED", conditioned))
        finalized = copy.deepcopy(conditioned)
        left = [f for f in _spec_finalizers(namespace) if f != KUBERNETES]
        finalized["spec"] = {"finalizers": left} if left else {}
        field_manager(info, "finalize").update(conditioned, finalized, _CONTROLLER, rfc3339(now))
    if held(finalized) or finalized["metadata"].get("finalizers"):
        return [*writes, ("MODIFIED", finalized)] if writes else []
    return [*writes, ("DELETED", finalized)]


def _remaining(content: list[tuple[KindInfo, dict[str, Any]]]) -> dict[str, tuple[str, str]]:
    """ProcessContentTotals: the (reason, message) of the two conditions for what is left, by
    resource (`configmaps.` for the core group) and by finalizer; pods alone while any is left
    (deleteAllContent waits for them before it deletes the rest)."""
    pods = [(kind, obj) for kind, obj in content if (kind.group, kind.plural) == ("", "pods")]
    by_resource: dict[str, int] = {}
    by_finalizer: dict[str, int] = {}
    for kind, obj in pods or content:
        resource = f"{kind.plural}.{kind.group}"
        by_resource[resource] = by_resource.get(resource, 0) + 1
        for finalizer in obj["metadata"].get("finalizers") or []:
            by_finalizer[finalizer] = by_finalizer.get(finalizer, 0) + 1
    found = {
        "NamespaceContentRemaining": (
            "SomeResourcesRemain",
            "Some resources are remaining: "
            + ", ".join(sorted(f"{r} has {n} resource instances" for r, n in by_resource.items())),
        )
    }
    if by_finalizer:
        listed = sorted(f"{f} in {n} resource instances" for f, n in by_finalizer.items())
        found["NamespaceFinalizersRemaining"] = (
            "SomeFinalizersRemain",
            "Some content in the namespace has finalizers remaining: " + ", ".join(listed),
        )
    return found


def _conditioned(
    info: KindInfo,
    namespace: dict[str, Any],
    failing: dict[str, tuple[str, str]],
    now: datetime,
) -> dict[str, Any] | None:
    """updateConditions: each of the controller's five conditions True with its (reason,
    message) in `failing`, else its all-clear; a new copy written through /status when any
    changed (its transition time only when its status did), else None."""
    conditioned = copy.deepcopy(namespace)
    status = conditioned.setdefault("status", {})
    conditions = status.setdefault("conditions", [])
    changed = False
    for kind, ok_reason, ok_message in _CONTENT_GONE:
        state, (reason, message) = (
            ("True", failing[kind]) if kind in failing else ("False", (ok_reason, ok_message))
        )
        old = next((c for c in conditions if c.get("type") == kind), None)
        if old is None:
            conditions.append(
                {
                    "type": kind,
                    "status": state,
                    "lastTransitionTime": rfc3339(now),
                    "reason": reason,
                    "message": message,
                }
            )
        elif (old.get("status"), old.get("reason"), old.get("message")) != (state, reason, message):
            if old.get("status") != state:
                old["lastTransitionTime"] = rfc3339(now)
            old.update(status=state, reason=reason, message=message)
        else:
            continue
        changed = True
    if not changed:
        return None
    field_manager(info, "status").update(namespace, conditioned, _CONTROLLER, rfc3339(now))
    return conditioned


def _spec_finalizers(namespace: dict[str, Any]) -> list[str]:
    spec = namespace.get("spec")
    finalizers = spec.get("finalizers") if isinstance(spec, dict) else None
    return [str(f) for f in finalizers] if isinstance(finalizers, list) else []
