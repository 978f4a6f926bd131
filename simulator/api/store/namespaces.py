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
    "content_gone",
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
# The conditions the namespace controller writes once a namespace's content is all gone
# (pkg/controller/namespace/deletion/status_condition_utils.go, okReasons and okMessages).
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


def content_gone(
    info: KindInfo, namespace: dict[str, Any], now: datetime
) -> list[tuple[str, dict[str, Any]]]:
    """The namespace controller's writes once a terminating namespace's content is gone, each
    (event, a new copy, its fields managed by kube-controller-manager): its conditions through
    /status, then `kubernetes` finalized away through /finalize, which deletes it when no
    finalizer is left in either list (ShouldDeleteNamespaceDuringUpdate). Nothing for a
    namespace that is not terminating."""
    writes: list[tuple[str, dict[str, Any]]] = []
    if not namespace["metadata"].get("deletionTimestamp"):
        return writes
    finalized = copy.deepcopy(namespace)
    if held(namespace):
        conditioned = copy.deepcopy(namespace)
        status = conditioned.setdefault("status", {})
        known = {c.get("type") for c in status.get("conditions") or []}
        status["conditions"] = [*(status.get("conditions") or [])] + [
            {
                "type": kind,
                "status": "False",
                "lastTransitionTime": rfc3339(now),
                "reason": reason,
                "message": message,
            }
            for kind, reason, message in _CONTENT_GONE
            if kind not in known
        ]
        field_manager(info, "status").update(namespace, conditioned, _CONTROLLER, rfc3339(now))
        writes.append(("MODIFIED", conditioned))
        finalized = copy.deepcopy(conditioned)
        left = [f for f in _spec_finalizers(namespace) if f != KUBERNETES]
        finalized["spec"] = {"finalizers": left} if left else {}
        field_manager(info, "finalize").update(conditioned, finalized, _CONTROLLER, rfc3339(now))
    if held(finalized) or finalized["metadata"].get("finalizers"):
        return [*writes, ("MODIFIED", finalized)] if writes else []
    return [*writes, ("DELETED", finalized)]


def _spec_finalizers(namespace: dict[str, Any]) -> list[str]:
    spec = namespace.get("spec")
    finalizers = spec.get("finalizers") if isinstance(spec, dict) else None
    return [str(f) for f in finalizers] if isinstance(finalizers, list) else []
