"""A namespace's life as the API server and the namespace controller run it.

Deleting a namespace marks it `Terminating` (deletionTimestamp, phase); its content
is deleted, each object by its own rules (finalizers keep an object, and so the namespace, until
they are removed); the namespace goes once it is empty. While it terminates, creates in it are
refused with the NamespaceLifecycle admission's 403, world writes included; a namespace that was
deleted is not brought back by a world write (only by creating the Namespace itself). `default`,
`kube-system` and `kube-public` are never deleted (the same admission's 403).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from simulator.api.kinds import KindInfo
from simulator.api.names import resource_label
from simulator.api.store.buckets import Buckets
from simulator.api.store.errors import ForbiddenError, NotFoundError
from simulator.clock import rfc3339

__all__ = ["admit", "is_namespace", "refuse_immortal", "terminating", "terminating_forbidden"]

# What NamespaceLifecycle never lets go (kube-apiserver registers it with these three).
_IMMORTAL = frozenset({"default", "kube-system", "kube-public"})


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
