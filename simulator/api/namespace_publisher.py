"""What kube-controller-manager puts in every namespace: `default` ServiceAccount, root CA.

Two of its controllers keep, in each active namespace,
- the ServiceAccount `default` (the serviceaccount controller, pkg/controller/serviceaccount),
  with nothing but its name: since Kubernetes 1.24 no token Secret is made for it;
- the ConfigMap `kube-root-ca.crt` whose `ca.crt` is the CA bundle that verifies the API server
  (root-ca-cert-publisher, pkg/controller/certificates/rootcacertpublisher), so that in-cluster
  clients can trust `kubernetes.default.svc`.
Both are re-made when deleted while their namespace lives, the ConfigMap is put back when its
data or description is changed, and both go with their namespace. `kubectl get sa,cm -A` shows
them on every cluster, so the fake API keeps them too, from the moment it serves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simulator.api.store import (
    AlreadyExistsError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    ObjectStore,
)

__all__ = ["DESCRIPTION", "DESCRIPTION_ANNOTATION", "ROOT_CA_CONFIGMAP", "NamespacePublisher"]

ROOT_CA_CONFIGMAP = "kube-root-ca.crt"
DESCRIPTION_ANNOTATION = "kubernetes.io/description"
# rootcacertpublisher.Description, word for word.
DESCRIPTION = (
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal "
    "endpoints such as the internal service IP or kubernetes.default.svc. No other usage is "
    "guaranteed across distributions of Kubernetes clusters."
)
SERVICE_ACCOUNT = "default"
# Both controllers write with kube-controller-manager's user agent, which names their fields.
_MANAGER = "kube-controller-manager"
# A namespace being deleted is left alone, as the controllers leave it, and a create racing
# its deletion or another writer's create is not an error (the controllers ignore those too).
_RACES = (AlreadyExistsError, ConflictError, ForbiddenError, NotFoundError)


class NamespacePublisher:
    """Keeps the `default` ServiceAccount and, with a CA, `kube-root-ca.crt` in every namespace.

    Runs in the thread of the change it hears (the store calls its subscribers outside its
    lock, so they may write); `ca_pem` None (plain http) publishes no ConfigMap, there being no
    CA that signs the server.
    """

    def __init__(self, store: ObjectStore, ca_pem: bytes | None) -> None:
        self.store = store
        self.ca = ca_pem.decode() if ca_pem is not None else None
        self._unsubscribe: Callable[[], None] | None = None

    def start(self) -> None:
        """Follow the store, and fill the namespaces already there (the informers' first list)."""
        if self._unsubscribe is None:
            self._unsubscribe = self.store.changes.subscribe(self._changed, wants=_concerns_us)
        for namespace in self.store.list("v1", "Namespace"):
            self.sync(str(namespace["metadata"]["name"]))

    def stop(self) -> None:
        """Stop following: what is published stays, as after kube-controller-manager stops."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def sync(self, namespace: str) -> None:
        """Create or mend both objects in `namespace` unless it is gone or terminating."""
        live = self.store.get("v1", "Namespace", namespace)
        if live is None or live["metadata"].get("deletionTimestamp"):
            return
        try:
            self._ensure_service_account(namespace)
            if self.ca is not None:
                self._ensure_root_ca(namespace, self.ca)
        except _RACES:
            return

    def _changed(self, event_type: str, obj: dict[str, Any]) -> None:
        namespace = _namespace_to_sync(event_type, obj)
        if namespace is not None:
            self.sync(namespace)

    def _ensure_service_account(self, namespace: str) -> None:
        if self.store.get("v1", "ServiceAccount", SERVICE_ACCOUNT, namespace) is None:
            account = {"metadata": {"name": SERVICE_ACCOUNT, "namespace": namespace}}
            self._create({"apiVersion": "v1", "kind": "ServiceAccount", **account})

    def _ensure_root_ca(self, namespace: str, ca: str) -> None:
        live = self.store.get("v1", "ConfigMap", ROOT_CA_CONFIGMAP, namespace)
        if live is None:
            meta = {
                "name": ROOT_CA_CONFIGMAP,
                "namespace": namespace,
                "annotations": {DESCRIPTION_ANNOTATION: DESCRIPTION},
            }
            self._create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, **_data(ca)})
            return
        annotations = live["metadata"].get("annotations") or {}
        if live.get("data") == _data(ca)["data"] and annotations.get(DESCRIPTION_ANNOTATION):
            return
        # An update of the whole object (the publisher's Update), so a stale read conflicts.
        live["metadata"]["annotations"] = {**annotations, DESCRIPTION_ANNOTATION: DESCRIPTION}
        live.update(_data(ca))
        self.store.replace(live, strict=True, field_manager=_MANAGER)

    def _create(self, obj: dict[str, Any]) -> None:
        self.store.create(obj, strict=True, field_manager=_MANAGER)


def _namespace_to_sync(event_type: str, obj: dict[str, Any]) -> str | None:
    """The namespace a change asks the controllers to look at again, or None."""
    meta = obj.get("metadata") or {}
    kind, name = obj.get("kind"), meta.get("name")
    if kind == "Namespace" and event_type != "DELETED":
        return str(name)
    if (kind, name, event_type) == ("ServiceAccount", SERVICE_ACCOUNT, "DELETED") or (
        kind == "ConfigMap" and name == ROOT_CA_CONFIGMAP and event_type != "ADDED"
    ):
        return str(meta.get("namespace", ""))
    return None


def _concerns_us(event_type: str, obj: dict[str, Any]) -> bool:
    return _namespace_to_sync(event_type, obj) is not None


def _data(ca: str) -> dict[str, Any]:
    return {"data": {"ca.crt": ca}}
