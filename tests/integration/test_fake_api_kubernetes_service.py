"""Issue 12: the `default/kubernetes` Service every kube-apiserver keeps for itself.

kube-apiserver's reconciler creates the Service `kubernetes` in `default` (the service range's
first address, port 443 to its secure port) with an Endpoints and an EndpointSlice at its
advertised address. Found running the official client's e2e suite against a served world: the
fake API had none of them (`list_endpoints_for_all_namespaces` came back empty).
"""

from __future__ import annotations

from pathlib import Path

from kubernetes import client

from tests.integration.served_world import served_world


def test_the_kubernetes_service_points_at_the_node(tmp_path: Path) -> None:
    """Service, Endpoints and EndpointSlice as the reconciler writes them; allocations skip it."""
    with served_world(tmp_path) as (world, api):
        core = client.CoreV1Api(api.client())
        service = core.read_namespaced_service("kubernetes", "default")
        assert service.spec.cluster_ip == "10.96.0.1"
        assert service.metadata.labels == {"component": "apiserver", "provider": "kubernetes"}
        port = service.spec.ports[0]
        assert (port.name, port.port, port.target_port) == ("https", 443, 6443)
        assert core.read_namespaced_service("web", "shop").spec.cluster_ip != "10.96.0.1"

        endpoints = core.list_endpoints_for_all_namespaces().items
        ours = next(e for e in endpoints if e.metadata.name == "kubernetes")
        assert [a.ip for a in ours.subsets[0].addresses] == [world.node_ip]
        assert ours.subsets[0].ports[0].port == 6443

        slices = client.DiscoveryV1Api(api.client()).list_namespaced_endpoint_slice(
            "default", label_selector="kubernetes.io/service-name=kubernetes"
        )
        assert [s.endpoints[0].addresses for s in slices.items] == [[world.node_ip]]

        row = api.kubectl("get", "svc", "kubernetes", "-n", "default").stdout.splitlines()[1]
        assert row.split()[:5] == ["kubernetes", "ClusterIP", "10.96.0.1", "<none>", "443/TCP"]
        row = api.kubectl("get", "endpoints", "kubernetes", "-n", "default").stdout.splitlines()
        assert row[0].split() == ["NAME", "ENDPOINTS", "AGE"]
        assert row[1].split()[:2] == ["kubernetes", f"{world.node_ip}:6443"]
