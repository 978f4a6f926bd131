"""Issue 12: a Pod's addresses read as kube-apiserver answers them.

kube-apiserver keeps a Pod's status addresses only as lists (`podIPs`, `hostIPs`) and converts on
every write and read (pkg/apis/core/v1/conversion.go): a status written with only the singular
field (as an older kubelet writes it) reads back with the list, and the other way round. Found
running the official client's e2e suite against a served world: pods were Running with an IP,
yet `kubectl get pods -o wide` (which reads `podIPs`) showed `<none>`.
"""

from __future__ import annotations

from pathlib import Path

from kubernetes import client

from tests.integration.served_world import served_world, wait_for


def _running_pod(core: client.CoreV1Api) -> client.V1Pod | None:
    pods = core.list_namespaced_pod("shop", label_selector="app=web").items
    return next((p for p in pods if p.status.phase == "Running"), None)


def test_a_running_pod_reads_with_its_address_lists(tmp_path: Path) -> None:
    """The world's kubelet writes podIP/hostIP; clients and kubectl see the lists too."""
    with served_world(tmp_path) as (_world, api):
        core = client.CoreV1Api(api.client())
        pod = wait_for(lambda: _running_pod(core), what="a running web pod")
        status = pod.status
        assert status.pod_ip
        assert [a.ip for a in status.pod_ips] == [status.pod_ip]
        assert status.host_ip
        assert [a.ip for a in status.host_ips] == [status.host_ip]
        wide = api.kubectl("get", "pod", pod.metadata.name, "-n", "shop", "-o", "wide").stdout
        assert status.pod_ip in wide.splitlines()[1].split()


def test_a_status_write_of_either_form_reads_back_with_both(tmp_path: Path) -> None:
    """Singular only fills the list; a differing singular wins; a list alone fills the singular."""
    with served_world(tmp_path) as (_world, api):
        core = client.CoreV1Api(api.client())
        name = wait_for(lambda: _running_pod(core), what="a running web pod").metadata.name

        def write(status: dict[str, object]) -> client.V1PodStatus:
            return core.patch_namespaced_pod_status(name, "shop", {"status": status}).status

        older = write({"podIP": "10.244.0.77", "podIPs": None})
        assert (older.pod_ip, [a.ip for a in older.pod_ips]) == ("10.244.0.77", ["10.244.0.77"])
        differing = write({"podIP": "10.244.0.78", "podIPs": [{"ip": "10.244.0.79"}]})
        assert [a.ip for a in differing.pod_ips] == ["10.244.0.78"]
        listed = write({"hostIP": None, "hostIPs": [{"ip": "192.0.2.10"}]})
        # The patch merges hostIPs by ip (their patch strategy): the new one first.
        assert (listed.host_ip, listed.host_ips[0].ip) == ("192.0.2.10", "192.0.2.10")
        again = core.read_namespaced_pod(name, "shop").status
        assert (again.pod_ip, again.host_ip) == ("10.244.0.78", "192.0.2.10")
