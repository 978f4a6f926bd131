"""The APIServices kube-apiserver's aggregator registers on start: one for each built-in group
version it serves (`kubectl get apiservices`: `v1.`, `v1.apps`, ... each `Local`, Available).

Their priorities are cmd/kube-apiserver/app/aggregator.go's apiVersionPriorities (v1.37.2); the
spec and the `automanaged: onstart` label are kube-apiserver's fields, the Available condition
the availability controller's (no manager). Only the group versions this fake API serves get
one: autoscaling/v1, which it does not serve, has none here. Not yet: the APIServices the
crdregistration controller makes for a CRD's group versions (`automanaged: "true"`).
"""

from __future__ import annotations

from simulator.api.fields import field_manager
from simulator.api.store import AlreadyExistsError, ObjectStore
from simulator.clock import rfc3339

__all__ = ["publish_api_services"]

_API_VERSION = "apiregistration.k8s.io/v1"
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
    info = store.kind_info(_API_VERSION, "APIService")
    now = rfc3339(store.clock.now())
    served = [("", "v1"), *((g, v) for g, versions in store.registry.groups() for v in versions)]
    for group, version in served:
        if (priorities := _PRIORITIES.get((group, version))) is None:
            continue  # a custom resource's group: the crdregistration controller's
        spec: dict[str, str | int] = {"group": group} if group else {}
        spec |= {"groupPriorityMinimum": priorities[0], "version": version}
        spec["versionPriority"] = priorities[1]
        service = {
            "apiVersion": _API_VERSION,
            "kind": "APIService",
            "metadata": {
                "name": f"{version}.{group}",
                "labels": {"kube-aggregator.kubernetes.io/automanaged": "onstart"},
            },
            "spec": spec,
        }
        field_manager(info, "").update(None, service, _MANAGER, now)
        service["status"] = {"conditions": [{**_AVAILABLE, "lastTransitionTime": now}]}
        try:
            store.create(service)
        except AlreadyExistsError:  # kept from before a restart
            continue
