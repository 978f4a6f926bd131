"""Server-side Tables: the columns kubectl prints, in virtual time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from simulator.api.kind_registry import KindRegistry
from simulator.api.tables import human_age, table

NOW = datetime(2026, 1, 1, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (5, "5s"),
        (119, "119s"),
        (150, "2m30s"),
        (600, "10m"),
        (4 * 3600, "4h"),
        (3 * 86400, "3d"),
        (700 * 86400, "700d"),
        (730 * 86400, "2y"),
        (1065 * 86400, "2y335d"),
        (3000 * 86400, "8y"),
        (-1, "0s"),
        (-5, "<invalid>"),
    ],
)
def test_human_age(seconds: int, expected: str) -> None:
    """Ages follow kubectl's short human duration (apimachinery's HumanDuration: years past
    two years, `<invalid>` for a time more than a second ahead)."""
    then = (NOW - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert human_age(then, NOW) == expected


def _pod(waiting: str | None, phase: str = "Pending") -> dict[str, object]:
    status: dict[str, object] = {"phase": phase}
    if waiting:
        status["containerStatuses"] = [
            {
                "name": "db",
                "ready": False,
                "restartCount": 2,
                "state": {"waiting": {"reason": waiting}},
            }
        ]
    return {
        "metadata": {
            "name": "db-0",
            "namespace": "alga",
            "creationTimestamp": "2026-01-01T00:00:00Z",
        },
        "spec": {"containers": [{"name": "db"}]},
        "status": status,
    }


def test_pod_status_column_shows_the_waiting_reason() -> None:
    """STATUS is the container's waiting reason (CreateContainerConfigError), as kubectl shows."""
    info = KindRegistry().by_kind("v1", "Pod")
    assert info is not None
    doc = table(info, [_pod("CreateContainerConfigError")], NOW, "7")
    names = [c["name"] for c in doc["columnDefinitions"]]
    row = dict(zip(names, doc["rows"][0]["cells"], strict=True))
    assert row["Status"] == "CreateContainerConfigError"
    assert (row["Ready"], row["Restarts"], row["Age"]) == ("0/1", "2", "60m")
    assert doc["rows"][0]["object"]["metadata"]["namespace"] == "alga"


def test_pod_status_column_falls_back_to_the_phase() -> None:
    """Without a waiting reason STATUS is the phase."""
    info = KindRegistry().by_kind("v1", "Pod")
    assert info is not None
    row = table(info, [_pod(None, "Running")], NOW, "7")["rows"][0]["cells"]
    assert "Running" in row


def _row(plural: str, api_version: str, kind: str, obj: dict[str, object]) -> dict[str, object]:
    info = KindRegistry().by_kind(api_version, kind)
    assert info is not None
    assert info.plural == plural
    doc = table(info, [obj], NOW, "7")
    names = [c["name"] for c in doc["columnDefinitions"]]
    return dict(zip(names, doc["rows"][0]["cells"], strict=True))


def test_columns_are_kube_apiservers_with_their_descriptions() -> None:
    """ConfigMaps count data and binaryData; every column says what it shows."""
    info = KindRegistry().by_kind("v1", "ConfigMap")
    assert info is not None
    doc = table(info, [], NOW, "7")
    assert [c["name"] for c in doc["columnDefinitions"]] == ["Name", "Data", "Age"]
    assert all(c["description"] for c in doc["columnDefinitions"])
    row = _row(
        "configmaps",
        "v1",
        "ConfigMap",
        {"metadata": {"name": "c"}, "data": {"a": "1"}, "binaryData": {"b": "AA=="}},
    )
    assert row["Data"] == 2


def test_a_service_row_shows_its_ports_external_ip_and_selector() -> None:
    row = _row(
        "services",
        "v1",
        "Service",
        {
            "metadata": {"name": "web"},
            "spec": {
                "type": "NodePort",
                "clusterIPs": ["10.96.0.9"],
                "selector": {"tier": "web", "app": "shop"},
                "ports": [
                    {"port": 80, "nodePort": 30080, "protocol": "TCP"},
                    {"port": 53, "protocol": "UDP"},
                ],
            },
        },
    )
    assert (row["Cluster-IP"], row["External-IP"]) == ("10.96.0.9", "<none>")
    assert row["Port(s)"] == "80:30080/TCP,53/UDP"
    assert row["Selector"] == "app=shop,tier=web"


def test_a_deployment_row_lists_containers_images_and_its_selector() -> None:
    row = _row(
        "deployments",
        "apps/v1",
        "Deployment",
        {
            "metadata": {"name": "d"},
            "spec": {
                "replicas": 2,
                "selector": {
                    "matchLabels": {"app": "w"},
                    "matchExpressions": [
                        {"key": "tier", "operator": "NotIn", "values": ["z", "a"]}
                    ],
                },
                "template": {"spec": {"containers": [{"name": "w", "image": "busybox:1.36"}]}},
            },
            "status": {"readyReplicas": 1, "updatedReplicas": 2},
        },
    )
    assert (row["Ready"], row["Up-to-date"], row["Available"]) == ("1/2", 2, 0)
    assert (row["Containers"], row["Images"]) == ("w", "busybox:1.36")
    assert row["Selector"] == "app=w,tier notin (a,z)"


def test_a_replication_controller_row_is_a_workloads() -> None:
    """kube-apiserver prints RCs as ReplicaSets, with the selector as a plain label map."""
    row = _row(
        "replicationcontrollers",
        "v1",
        "ReplicationController",
        {
            "metadata": {"name": "mock"},
            "spec": {
                "replicas": 2,
                "selector": {"app": "mock"},
                "template": {"spec": {"containers": [{"name": "m", "image": "pause:3.10"}]}},
            },
            "status": {"replicas": 2, "readyReplicas": 1},
        },
    )
    assert (row["Desired"], row["Current"], row["Ready"]) == (2, 2, 1)
    assert (row["Containers"], row["Images"], row["Selector"]) == ("m", "pause:3.10", "app=mock")


@pytest.mark.parametrize(
    ("subsets", "expected"),
    [
        ([], "<none>"),
        ([{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 6443}]}], "10.0.0.1:6443"),
        ([{"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}]}], "10.0.0.1,10.0.0.2"),
        ([{"addresses": [{"ip": "fd00::1"}], "ports": [{"port": 80}]}], "[fd00::1]:80"),
        (
            [
                {
                    "addresses": [{"ip": f"10.0.0.{i}"} for i in (1, 2, 3)],
                    "ports": [{"port": 80}, {"port": 443}],
                }
            ],
            "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 3 more...",
        ),
    ],
)
def test_an_endpoints_row_lists_three_addresses_then_counts(
    subsets: list[object], expected: str
) -> None:
    """printers.go's formatEndpoints: address:port pairs, the first three, then how many more."""
    row = _row("endpoints", "v1", "Endpoints", {"metadata": {"name": "e"}, "subsets": subsets})
    assert row["Endpoints"] == expected


def test_a_role_binding_row_shows_its_role_and_subjects_by_kind() -> None:
    subjects = [
        {"kind": "User", "name": "alice"},
        {"kind": "Group", "name": "devs"},
        {"kind": "ServiceAccount", "name": "sa1", "namespace": "default"},
        {"kind": "ServiceAccount", "name": "sa2", "namespace": "other"},
    ]
    binding = {
        "metadata": {"name": "mixed", "creationTimestamp": "2026-01-01T00:00:00Z"},
        "roleRef": {"kind": "ClusterRole", "name": "view"},
        "subjects": subjects,
    }
    row = _row("rolebindings", "rbac.authorization.k8s.io/v1", "RoleBinding", binding)
    assert row == {
        "Name": "mixed",
        "Role": "ClusterRole/view",
        "Age": "60m",
        "Users": "alice",
        "Groups": "devs",
        "ServiceAccounts": "default/sa1, other/sa2",
    }
    role = _row("clusterroles", "rbac.authorization.k8s.io/v1", "ClusterRole", binding)
    assert role == {"Name": "mixed", "Created At": "2026-01-01T00:00:00Z"}


def test_a_priority_class_row_shows_its_value_default_and_policy() -> None:
    priority = {
        "metadata": {"name": "system-node-critical"},
        "value": 2000001000,
        "preemptionPolicy": "PreemptLowerPriority",
    }
    row = _row("priorityclasses", "scheduling.k8s.io/v1", "PriorityClass", priority)
    assert (row["Value"], row["Global-Default"], row["PreemptionPolicy"]) == (
        2000001000,
        False,
        "PreemptLowerPriority",
    )


def test_a_quota_row_pairs_used_and_hard_limits_apart_from_requests() -> None:
    """printResourceQuota: sorted by resource, a missing `used` is 0, `limits.*` in Limit."""
    quota = {
        "metadata": {"name": "q", "creationTimestamp": "2026-01-01T00:00:00Z"},
        "status": {
            "hard": {"services": "3", "limits.cpu": "4", "requests.memory": "1Gi", "pods": "10"},
            "used": {"pods": "2", "limits.cpu": "500m"},
        },
    }
    row = _row("resourcequotas", "v1", "ResourceQuota", quota)
    assert row == {
        "Name": "q",
        "Request": "pods: 2/10, requests.memory: 0/1Gi, services: 0/3",
        "Limit": "limits.cpu: 500m/4",
        "Age": "60m",
    }
    fresh = _row("resourcequotas", "v1", "ResourceQuota", {"metadata": {"name": "new"}})
    assert (fresh["Request"], fresh["Limit"]) == ("", "")


def test_a_disruption_budget_row_shows_its_bounds_and_allowed_disruptions() -> None:
    budget = {
        "metadata": {"name": "web"},
        "spec": {"maxUnavailable": "30%"},
        "status": {"disruptionsAllowed": 1},
    }
    row = _row("poddisruptionbudgets", "policy/v1", "PodDisruptionBudget", budget)
    assert (row["Min Available"], row["Max Unavailable"], row["Allowed Disruptions"]) == (
        "N/A",
        "30%",
        1,
    )
    stamped = {"metadata": {"name": "l", "creationTimestamp": "2026-01-01T00:00:00Z"}}
    limits = _row("limitranges", "v1", "LimitRange", stamped)
    assert limits == {"Name": "l", "Created At": "2026-01-01T00:00:00Z"}


def test_an_ip_address_row_has_the_age_cell_its_printer_writes_without_a_column() -> None:
    """printIPAddress appends an Age cell; its column definitions stop at ParentRef."""
    info = KindRegistry().by_kind("networking.k8s.io/v1", "IPAddress")
    assert info is not None
    address = {
        "metadata": {"name": "10.96.0.1", "creationTimestamp": "2026-01-01T00:59:00Z"},
        "spec": {"parentRef": {"resource": "services", "namespace": "default", "name": "web"}},
    }
    doc = table(info, [address], NOW, "7")
    assert [c["name"] for c in doc["columnDefinitions"]] == ["Name", "ParentRef"]
    assert doc["rows"][0]["cells"] == ["10.96.0.1", "services/default/web", "60s"]
