"""The `default/kubernetes` Service kube-apiserver keeps for itself.

Every kube-apiserver runs a reconciler (pkg/controlplane/controller/kubernetesservice) that
creates the Service `kubernetes` in `default` with the first address of the service range, and
the Endpoints and EndpointSlice that point at its own advertised address. In-cluster clients
and `kubectl get svc,endpoints -A` see them on every cluster, so a served world shows them too.
"""

from __future__ import annotations

from typing import Any

from simulator.api.store import ObjectStore

__all__ = ["SERVICE_IP", "publish_kubernetes_service"]

# The service range's first address (10.96.0.0/12 on the appliance); the allocator in
# store/defaults.py hands out from the second one.
SERVICE_IP = "10.96.0.1"
_MANAGER = "kube-apiserver"


def _objects(address: str, port: int) -> list[dict[str, Any]]:
    meta = {"name": "kubernetes", "namespace": "default"}
    endpoint_port = {"name": "https", "port": port, "protocol": "TCP"}
    return [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {**meta, "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {
                "type": "ClusterIP",
                "clusterIP": SERVICE_IP,
                "clusterIPs": [SERVICE_IP],
                "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": port}],
                "sessionAffinity": "None",
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Endpoints",
            # The reconciler writes the slice itself, so the mirroring controller must not.
            "metadata": {**meta, "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
            "subsets": [{"addresses": [{"ip": address}], "ports": [endpoint_port]}],
        },
        {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {**meta, "labels": {"kubernetes.io/service-name": "kubernetes"}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": [address], "conditions": {"ready": True}}],
            "ports": [endpoint_port],
        },
    ]


def publish_kubernetes_service(store: ObjectStore, address: str, port: int) -> None:
    """Create what the reconciler keeps (once: a restarted server finds them in place)."""
    for obj in _objects(address, port):
        meta = obj["metadata"]
        if store.get(obj["apiVersion"], obj["kind"], meta["name"], meta["namespace"]) is None:
            store.create(obj, field_manager=_MANAGER)
