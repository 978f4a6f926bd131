"""The columns of kube-apiserver v1.37's Tables of the platform kinds that describe the cluster's
own infrastructure (service CIDRs and their IP addresses, trust bundles, CSI nodes, volume
attachments, resource claims, the control plane's component statuses), with their cells; the
chart-facing ones are in
`table_columns_platform.py`. A kind whose Table has no Age column (IPAddress,
ClusterTrustBundle) has none here either."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from simulator.api.table_cells import Reader, spec_of
from simulator.api.table_columns import AGE, NAME, Column

__all__ = ["INFRA_COLUMNS", "INFRA_READERS"]

Obj = dict[str, Any]
_CIDRS_DOC = (
    'cidrs defines the IP blocks in CIDR notation (e.g. "192.168.0.0/24" or "2001:db8::/64") '
    "from which to assign service cluster IPs. Max of two CIDRs is allowed, one of each IP "
    "family. This field is immutable."
)
_SIGNER_DOC = (
    "signerName indicates the associated signer, if any.\n\nIn order to create or update a "
    "ClusterTrustBundle that sets signerName, you must have the following cluster-scoped "
    "permission: group=certificates.k8s.io resource=signers resourceName=<the signer name> "
    "verb=attest.\n\nIf signerName is not empty, then the ClusterTrustBundle object must be "
    "named with the signer name as a prefix (translating slashes to colons). For example, for "
    "the signer name `example.com/foo`, valid ClusterTrustBundle object names include "
    "`example.com:foo:abc` and `example.com:foo:v1`.\n\nIf signerName is empty, then the "
    "ClusterTrustBundle object's name must not have such a prefix.\n\nList/watch requests for "
    "ClusterTrustBundles can filter on this field using a `spec.signerName=NAME` field "
    "selector."
)

INFRA_COLUMNS: dict[tuple[str, str], tuple[Column, ...]] = {
    ("", "componentstatuses"): (
        NAME,
        *(
            (title, "string", "", 0, f"{title} of the component conditions")
            for title in ("Status", "Message", "Error")
        ),
    ),
    ("networking.k8s.io", "servicecidrs"): (NAME, ("CIDRs", "string", "", 0, _CIDRS_DOC), AGE),
    ("networking.k8s.io", "ipaddresses"): (
        NAME,
        (
            "ParentRef",
            "string",
            "",
            0,
            "parentRef references the resource that an IPAddress is attached to. An IPAddress "
            "must reference a parent object.",
        ),
    ),
    ("certificates.k8s.io", "clustertrustbundles"): (
        NAME,
        ("SignerName", "string", "", 0, _SIGNER_DOC),
    ),
    ("storage.k8s.io", "csinodes"): (
        NAME,
        (
            "Drivers",
            "integer",
            "",
            0,
            "Drivers indicates the number of CSI drivers registered on the node",
        ),
        AGE,
    ),
    ("storage.k8s.io", "volumeattachments"): (
        NAME,
        (
            "Attacher",
            "string",
            "",
            0,
            "attacher indicates the name of the volume driver that MUST handle this request. "
            "This is the name returned by GetPluginName().",
        ),
        (
            "PV",
            "string",
            "",
            0,
            "persistentVolumeName represents the name of the persistent volume to attach.",
        ),
        (
            "Node",
            "string",
            "",
            0,
            "nodeName represents the node that the volume should be attached to.",
        ),
        (
            "Attached",
            "boolean",
            "",
            0,
            "attached indicates the volume is successfully attached. This field must only be "
            "set by the entity completing the attach operation, i.e. the external-attacher.",
        ),
        AGE,
    ),
    ("resource.k8s.io", "resourceclaims"): (
        NAME,
        (
            "State",
            "string",
            "",
            0,
            "A summary of the current state (allocated, pending, reserved, etc.).",
        ),
        AGE,
    ),
}


def _parent(obj: Obj, _now: datetime) -> str:
    """group/resource (lower case), then namespace and name, as kubectl prints a parentRef."""
    ref = spec_of(obj).get("parentRef")
    if not isinstance(ref, dict):
        return ""
    group = ref.get("group") or ""
    resource = str(ref.get("resource", ""))
    parts = [f"{resource}.{group}".lower() if group else resource.lower()]
    if ref.get("namespace"):
        parts.append(str(ref["namespace"]))
    return "/".join([*parts, str(ref.get("name", ""))])


def _healthy(obj: Obj) -> Obj | None:
    """A ComponentStatus's first Healthy condition, the one printComponentStatus reads."""
    found = (c for c in obj.get("conditions") or [] if c.get("type") == "Healthy")
    return next(found, None)


def _component_state(obj: Obj, _now: datetime) -> str:
    condition = _healthy(obj)
    if condition is None:
        return "Unknown"
    return "Healthy" if condition.get("status") == "True" else "Unhealthy"


def _claim_state(obj: Obj, _now: datetime) -> str:
    """kube-apiserver's summary: deleted, pending or allocated, reserved or deallocating."""
    status = obj.get("status") or {}
    deleted = bool((obj.get("metadata") or {}).get("deletionTimestamp"))
    states = ["deleted"] if deleted else []
    if not status.get("allocation"):
        if not deleted:
            states.append("pending")
    else:
        states.append("allocated")
        if status.get("reservedFor"):
            states.append("reserved")
        elif deleted:
            states.append("deallocating")
    return ",".join(states)


INFRA_READERS: dict[tuple[str, str], dict[str, Reader]] = {
    ("", "componentstatuses"): {
        "Status": _component_state,
        "Message": lambda obj, _now: str((_healthy(obj) or {}).get("message", "")),
        "Error": lambda obj, _now: str((_healthy(obj) or {}).get("error", "")),
    },
    ("networking.k8s.io", "servicecidrs"): {
        "CIDRs": lambda obj, _now: ",".join(spec_of(obj).get("cidrs") or [])
    },
    ("networking.k8s.io", "ipaddresses"): {"ParentRef": _parent},
    ("certificates.k8s.io", "clustertrustbundles"): {
        "SignerName": lambda obj, _now: str(spec_of(obj).get("signerName") or "<none>")
    },
    ("storage.k8s.io", "csinodes"): {
        "Drivers": lambda obj, _now: len(spec_of(obj).get("drivers") or [])
    },
    ("storage.k8s.io", "volumeattachments"): {
        "Attacher": lambda obj, _now: str(spec_of(obj).get("attacher", "")),
        "PV": lambda obj, _now: str(
            (spec_of(obj).get("source") or {}).get("persistentVolumeName") or ""
        ),
        "Node": lambda obj, _now: str(spec_of(obj).get("nodeName", "")),
        "Attached": lambda obj, _now: bool((obj.get("status") or {}).get("attached")),
    },
    ("resource.k8s.io", "resourceclaims"): {"State": _claim_state},
}
