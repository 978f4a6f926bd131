"""The columns and cells of kube-apiserver v1.37's RBAC, PriorityClass and namespace policy
(ResourceQuota, LimitRange, PodDisruptionBudget) Tables.

As `table_columns.py` (names, types, priorities and descriptions from
`pkg/printers/internalversion/printers.go`), with their cells: a Role shows when it was created
as a date, a binding its role as `Kind/name` and, with `-o wide`, its subjects by kind
(ServiceAccounts as `namespace/name`, `rbac.SubjectsStrings`); a PriorityClass its value,
whether it is the global default and its preemption policy. The bootstrap policy and the system
PriorityClasses make these the first things `kubectl get clusterroles,pc` shows. A quota shows
its status as `resource: used/hard` pairs (`limits.*` in the Limit column), a limit range when
it was created, a disruption budget its spec's bounds (`N/A` when unset) and what its status
allows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from simulator.api.table_cells import Reader
from simulator.api.table_columns import AGE, NAME, Column

__all__ = ["CREATED_AT", "POLICY_COLUMNS", "POLICY_READERS", "created_at"]

CREATED_AT: Column = ("Created At", "date", "", 0, AGE[4])
_CLUSTER_ROLE_REF = (
    "roleRef can only reference a ClusterRole in the global namespace. If the RoleRef cannot be "
    "resolved, the Authorizer must return an error."
)
_ROLE_REF = (
    "roleRef can reference a Role in the current namespace or a ClusterRole in the global "
    "namespace. If the RoleRef cannot be resolved, the Authorizer must return an error."
)


def _binding(role_doc: str, kind: str) -> tuple[Column, ...]:
    return (
        NAME,
        ("Role", "string", "", 0, role_doc),
        AGE,
        ("Users", "string", "", 1, f"Users in the {kind}"),
        ("Groups", "string", "", 1, f"Groups in the {kind}"),
        ("ServiceAccounts", "string", "", 1, f"ServiceAccounts in the {kind}"),
    )


_RBAC = "rbac.authorization.k8s.io"
POLICY_COLUMNS: dict[tuple[str, str], tuple[Column, ...]] = {
    (_RBAC, "clusterroles"): (NAME, CREATED_AT),
    (_RBAC, "roles"): (NAME, CREATED_AT),
    (_RBAC, "clusterrolebindings"): _binding(_CLUSTER_ROLE_REF, "clusterRoleBinding"),
    (_RBAC, "rolebindings"): _binding(_ROLE_REF, "roleBinding"),
    ("", "resourcequotas"): (
        NAME,
        (
            "Request",
            "string",
            "",
            0,
            "Request represents a minimum amount of cpu/memory that a container may consume.",
        ),
        (
            "Limit",
            "string",
            "",
            0,
            "Limits control the maximum amount of cpu/memory that a container may use "
            "independent of contention on the node.",
        ),
        AGE,
    ),
    ("", "limitranges"): (NAME, CREATED_AT),
    ("policy", "poddisruptionbudgets"): (
        NAME,
        ("Min Available", "string", "", 0, "The minimum number of pods that must be available."),
        ("Max Unavailable", "string", "", 0, "The maximum number of pods that may be unavailable."),
        (
            "Allowed Disruptions",
            "integer",
            "",
            0,
            "Calculated number of pods that may be disrupted at this time.",
        ),
        AGE,
    ),
    ("scheduling.k8s.io", "priorityclasses"): (
        NAME,
        (
            "Value",
            "integer",
            "",
            0,
            "value represents the integer value of this priority class. This is the actual "
            "priority that pods receive when they have the name of this class in their pod spec.",
        ),
        (
            "Global-Default",
            "boolean",
            "",
            0,
            "globalDefault specifies whether this PriorityClass should be considered as the "
            "default priority for pods that do not have any priority class. Only one "
            "PriorityClass can be marked as `globalDefault`. However, if more than one "
            "PriorityClasses exists with their `globalDefault` field set to true, the smallest "
            "value of such global default PriorityClasses will be used as the default priority.",
        ),
        AGE,
        (
            "PreemptionPolicy",
            "string",
            "",
            0,
            "preemptionPolicy is the Policy for preempting pods with lower priority. One of "
            "Never, PreemptLowerPriority. Defaults to PreemptLowerPriority if unset.",
        ),
    ),
}


def created_at(obj: dict[str, Any], _now: datetime) -> str:
    """The object's creation time as written (RFC 3339): a Created At cell."""
    return str((obj.get("metadata") or {}).get("creationTimestamp") or "")


def _role_ref(obj: dict[str, Any], _now: datetime) -> str:
    ref = obj.get("roleRef") or {}
    return f"{ref.get('kind', '')}/{ref.get('name', '')}"


def _subjects(kind: str) -> Reader:
    def read(obj: dict[str, Any], _now: datetime) -> str:
        named = [
            f"{s.get('namespace', '')}/{s.get('name', '')}"
            if kind == "ServiceAccount"
            else str(s.get("name", ""))
            for s in obj.get("subjects") or []
            if s.get("kind") == kind
        ]
        return ", ".join(named)

    return read


def _quota(limits: bool) -> Reader:
    """printResourceQuota: `resource: used/hard` for each hard limit in the status, sorted by
    name, the `limits.*` ones in the Limit column and the rest in Request."""

    def read(obj: dict[str, Any], _now: datetime) -> str:
        status = obj.get("status") or {}
        hard, used = status.get("hard") or {}, status.get("used") or {}
        return ", ".join(
            f"{name}: {used.get(name, '0')}/{value}"
            for name, value in sorted(hard.items())
            if (name.split(".")[0] == "limits" and "." in name) == limits
        )

    return read


def _bound(field: str) -> Reader:
    """A disruption budget's minAvailable or maxUnavailable (an int or a percentage)."""

    def read(obj: dict[str, Any], _now: datetime) -> str:
        value = (obj.get("spec") or {}).get(field)
        return "N/A" if value is None else str(value)

    return read


_BINDING_READERS: dict[str, Reader] = {
    "Role": _role_ref,
    "Users": _subjects("User"),
    "Groups": _subjects("Group"),
    "ServiceAccounts": _subjects("ServiceAccount"),
}
POLICY_READERS: dict[tuple[str, str], dict[str, Reader]] = {
    (_RBAC, "clusterroles"): {"Created At": created_at},
    (_RBAC, "roles"): {"Created At": created_at},
    (_RBAC, "clusterrolebindings"): _BINDING_READERS,
    (_RBAC, "rolebindings"): _BINDING_READERS,
    ("", "resourcequotas"): {"Request": _quota(limits=False), "Limit": _quota(limits=True)},
    ("", "limitranges"): {"Created At": created_at},
    ("policy", "poddisruptionbudgets"): {
        "Min Available": _bound("minAvailable"),
        "Max Unavailable": _bound("maxUnavailable"),
        "Allowed Disruptions": lambda o, _n: int(
            (o.get("status") or {}).get("disruptionsAllowed") or 0
        ),
    },
    ("scheduling.k8s.io", "priorityclasses"): {
        "Value": lambda o, _n: int(o.get("value") or 0),
        "Global-Default": lambda o, _n: bool(o.get("globalDefault")),
        "PreemptionPolicy": lambda o, _n: str(o.get("preemptionPolicy") or ""),
    },
}
