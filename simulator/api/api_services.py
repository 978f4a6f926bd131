"""The APIServices kube-apiserver's aggregator registers: on start one for each built-in group
version it serves (`kubectl get apiservices`: `v1.`, `v1.apps`, ... each `Local`, Available),
and, as its crdregistration controller keeps them, one for each group version a CRD serves.

The built-in ones' priorities are cmd/kube-apiserver/app/aggregator.go's apiVersionPriorities
(v1.37.2), labelled `automanaged: onstart`; a CRD's are 1000 and 100, labelled `automanaged:
"true"`, and go when no CRD serves their group version any more. The spec and the label are
kube-apiserver's fields, the Available condition the availability controller's (no manager).
Only the group versions this fake API serves get one: autoscaling/v1, which it does not serve,
has none here.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

from simulator.api.fields import field_manager
from simulator.api.store import AlreadyExistsError, NotFoundError, ObjectStore
from simulator.clock import rfc3339

__all__ = ["CrdApiServices", "publish_api_services"]

_API_VERSION = "apiregistration.k8s.io/v1"
_CRD_VERSION = "apiextensions.k8s.io/v1"
_MANAGED = "kube-aggregator.kubernetes.io/automanaged"
# A CRD's group versions rank below every built-in one, and among themselves by version.
_CRD_PRIORITIES = (1000, 100)
_MANAGER = "kube-apiserver"
# (group, version) -> (groupPriorityMinimum, versionPriority), of the group versions v1.37.2
# serves by default.
_PRIORITIES = {
    ("", "v1"): (18000, 1),
    ("events.k8s.io", "v1"): (17750, 15),
    ("authentication.k8s.io", "v1"): (17700, 15),
    ("authorization.k8s.io", "v1"): (17600, 15),
    ("certificates.k8s.io", "v1"): (17300, 15),
    ("rbac.authorization.k8s.io", "v1"): (17000, 15),
    ("apiextensions.k8s.io", "v1"): (16700, 15),
    ("admissionregistration.k8s.io", "v1"): (16700, 15),
    ("coordination.k8s.io", "v1"): (16500, 15),
    ("discovery.k8s.io", "v1"): (16200, 15),
    ("flowcontrol.apiserver.k8s.io", "v1"): (16100, 21),
    ("storagemigration.k8s.io", "v1"): (15800, 15),
    ("apps", "v1"): (17800, 15),
    ("autoscaling", "v1"): (17500, 15),
    ("autoscaling", "v2"): (17500, 30),
    ("batch", "v1"): (17400, 15),
    ("networking.k8s.io", "v1"): (17200, 15),
    ("policy", "v1"): (17100, 15),
    ("storage.k8s.io", "v1"): (16800, 15),
    ("scheduling.k8s.io", "v1"): (16600, 15),
    ("node.k8s.io", "v1"): (16300, 15),
    ("resource.k8s.io", "v1"): (16200, 21),
}
_AVAILABLE = {
    "type": "Available",
    "status": "True",
    "reason": "Local",
    "message": "Local APIServices are always available",
}


def publish_api_services(store: ObjectStore) -> None:
    """Create the APIService of each built-in group version served, where absent."""
    served = [("", "v1"), *((g, v) for g, versions in store.registry.groups() for v in versions)]
    for group, version in served:
        if (priorities := _PRIORITIES.get((group, version))) is not None:
            _register(store, group, version, priorities, "onstart")


def _register(
    store: ObjectStore, group: str, version: str, priorities: tuple[int, int], managed: str
) -> None:
    """Create the APIService of `group`/`version` as the autoregister controller does."""
    info = store.kind_info(_API_VERSION, "APIService")
    now = rfc3339(store.clock.now())
    spec: dict[str, str | int] = {"group": group} if group else {}
    spec |= {"groupPriorityMinimum": priorities[0], "version": version}
    spec["versionPriority"] = priorities[1]
    service = {
        "apiVersion": _API_VERSION,
        "kind": "APIService",
        "metadata": {"name": f"{version}.{group}", "labels": {_MANAGED: managed}},
        "spec": spec,
    }
    field_manager(info, "").update(None, service, _MANAGER, now)
    service["status"] = {"conditions": [{**_AVAILABLE, "lastTransitionTime": now}]}
    with contextlib.suppress(AlreadyExistsError):  # kept from before a restart
        store.create(service)


class CrdApiServices:
    """The crdregistration controller: an APIService while a CRD serves its group version.

    Runs in the thread of the CRD change it hears (outside the store's lock), one sync at a
    time; it hears only a change to the versions a CRD serves (a CRD's other writes, such as
    its status, are not its business), and each sync compares every CRD's served versions,
    read as stored (no copies), with the APIServices it made.
    """

    def __init__(self, store: ObjectStore) -> None:
        self.store = store
        self._unsubscribe: Callable[[], None] | None = None
        self._syncing = threading.Lock()
        self._served: dict[str, frozenset[tuple[str, str]]] = {}  # by CRD name, as last synced

    def start(self) -> None:
        """Follow the CRDs, and register those already there."""
        if self._unsubscribe is None:
            self._unsubscribe = self.store.changes.subscribe(self._changed, wants=self._wants)
        self._changed("ADDED", {})

    def stop(self) -> None:
        """Stop following: the APIServices made stay."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _wants(self, event_type: str, obj: dict[str, Any]) -> bool:
        if obj.get("kind") != "CustomResourceDefinition":
            return False
        name = str(obj["metadata"].get("name"))
        return event_type == "DELETED" or _served(obj) != self._served.get(name)

    def _changed(self, _event_type: str, _obj: dict[str, Any]) -> None:
        with self._syncing:
            crds, _ = self.store.list_refs(
                self.store.kind_info(_CRD_VERSION, "CustomResourceDefinition")
            )
            self._served = {str(crd["metadata"]["name"]): _served(crd) for crd in crds}
            wanted = {
                f"{version}.{group}": (group, version)
                for versions in self._served.values()
                for group, version in versions
            }
            services, _ = self.store.list_refs(self.store.kind_info(_API_VERSION, "APIService"))
            made = {
                str(s["metadata"]["name"])
                for s in services
                if (s["metadata"].get("labels") or {}).get(_MANAGED) == "true"
            }
            for name in sorted(wanted.keys() - made):
                _register(self.store, *wanted[name], _CRD_PRIORITIES, "true")
            for name in made - wanted.keys():
                with contextlib.suppress(NotFoundError):
                    self.store.delete(_API_VERSION, "APIService", name)


def _served(crd: dict[str, Any]) -> frozenset[tuple[str, str]]:
    """The (group, version) pairs a CRD serves."""
    spec = crd.get("spec") or {}
    return frozenset(
        (str(spec.get("group")), str(v.get("name")))
        for v in spec.get("versions") or []
        if v.get("served")
    )
