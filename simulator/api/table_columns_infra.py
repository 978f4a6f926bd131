"""The columns of kube-apiserver v1.37's Tables of the platform kinds that describe the cluster's
own infrastructure (service CIDRs and their IP addresses, trust bundles, CSI nodes, volume
attachments, resource claims, the control plane's component statuses), with their cells; the
chart-facing ones are in
`table_columns_platform.py`. A kind whose Table has no Age column (IPAddress,
ClusterTrustBundle) has none here either."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from simulator.api.table_cells import Reader, human_age, spec_of
from simulator.api.table_columns import AGE, NAME, Column
from simulator.api.table_columns_apps import labels_text

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

_PODCERTIFICATEREQUESTS_PODNAME = (
    "podName is the name of the pod into which the certificate will be mounted."
)
_PODCERTIFICATEREQUESTS_SERVICEACCOUNTNAME = (
    "serviceAccountName is the name of the service account the pod is running as."
)
_PODCERTIFICATEREQUESTS_NODENAME = "nodeName is the name of the node the pod is assigned to."
_PODCERTIFICATEREQUESTS_SIGNERNAME = (
    "signerName indicates the requested signer.\n\nAll signer names beginning with "
    "`kubernetes.io` are reserved for use by the Kubernetes project.  There is currently one "
    "well-known signer documented by the Kubernetes project, `kubernetes.io/kube-apiserver-"
    "client-pod`, which will issue client certificates understood by kube-apiserver.  It is "
    "currently unimplemented."
)
_PODCERTIFICATEREQUESTS_STATE = "Is the request Pending, Issued, Denied, or Failed?"
_PODCERTIFICATEREQUESTS_UNVERIFIEDUSERANNOTATIONS = (
    "unverifiedUserAnnotations allow pod authors to pass additional information to the signer"
    " implementation.  Kubernetes does not restrict or validate this metadata in any way.\n\n"
    "Entries are subject to the same validation as object metadata annotations, with the "
    "addition that all keys must be domain-prefixed. No restrictions are placed on values, "
    "except an overall size limitation on the entire field.\n\nSigners should document the keys"
    " and values they support.  Signers should deny requests that contain keys they do not "
    "recognize."
)
_DEVICETAINTRULES_KEY = "The taint key to be applied to a device. Must be a label name."
_DEVICETAINTRULES_VALUE = "The taint value corresponding to the taint key. Must be a label value."
_DEVICETAINTRULES_EFFECT = (
    "The effect of the taint on claims that do not tolerate the taint and through such claims"
    " on the pods using them.\n\nValid effects are None, NoSchedule and NoExecute. "
    "PreferNoSchedule as used for nodes is not valid here. More effects may get added in the "
    "future. Consumers must treat unknown effects like None."
)
_DEVICETAINTRULES_TIMEADDED = (
    "TimeAdded represents the time at which the taint was added or (only in a "
    "DeviceTaintRule) the effect was modified. Added automatically during create or update if"
    " not set.\n\nIn addition, in a DeviceTaintRule a value provided during an update gets "
    "replaced with the current time if the provided value is the same as the old one and the "
    "new effect is different. Changing the key and/or value while keeping the effect "
    "unchanged is possible and does not update the time stamp because the eviction which uses"
    " it is either already started (NoExecute) or not started yet (NoEffect, NoSchedule)."
)
_STORAGEVERSIONMIGRATIONS_RESOURCE = "GroupResource to migrate"
_STORAGEVERSIONMIGRATIONS_STATUS = "Status of the migration"

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
            "name",  # as the printer writes it
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
    ("certificates.k8s.io", "podcertificaterequests"): (
        NAME,
        ("PodName", "string", "", 0, _PODCERTIFICATEREQUESTS_PODNAME),
        ("ServiceAccountName", "string", "", 0, _PODCERTIFICATEREQUESTS_SERVICEACCOUNTNAME),
        ("NodeName", "string", "", 0, _PODCERTIFICATEREQUESTS_NODENAME),
        ("SignerName", "string", "", 0, _PODCERTIFICATEREQUESTS_SIGNERNAME),
        ("State", "string", "", 0, _PODCERTIFICATEREQUESTS_STATE),
        (
            "UnverifiedUserAnnotations",
            "string",
            "",
            0,
            _PODCERTIFICATEREQUESTS_UNVERIFIEDUSERANNOTATIONS,
        ),
    ),
    ("resource.k8s.io", "devicetaintrules"): (
        NAME,
        ("Key", "string", "", 0, _DEVICETAINTRULES_KEY),
        ("Value", "string", "", 0, _DEVICETAINTRULES_VALUE),
        ("Effect", "string", "", 0, _DEVICETAINTRULES_EFFECT),
        ("TimeAdded", "string", "", 0, _DEVICETAINTRULES_TIMEADDED),
        AGE,
    ),
    ("storagemigration.k8s.io", "storageversionmigrations"): (
        ("Name", "string", "", 0, NAME[4]),  # no name format: the printer leaves it out
        ("Resource", "string", "", 0, _STORAGEVERSIONMIGRATIONS_RESOURCE),
        ("Status", "string", "", 0, _STORAGEVERSIONMIGRATIONS_STATUS),
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


def _certificate_request_state(obj: Obj, _now: datetime) -> str:
    """printPodCertificateRequest: the last of Issued, Denied or Failed among the conditions."""
    state = "Pending"
    for condition in (obj.get("status") or {}).get("conditions") or []:
        state = {"Issued": "Issued", "Denied": "Denied", "Failed": "Failed"}.get(
            str(condition.get("type")), state
        )
    return state


def _taint(obj: Obj) -> Obj:
    return spec_of(obj).get("taint") or {}


def _migrated_resource(obj: Obj, _now: datetime) -> str:
    """GroupResource.String(): `resource.group`, or the resource alone in the core group."""
    resource = spec_of(obj).get("resource") or {}
    name, group = str(resource.get("resource", "")), str(resource.get("group", ""))
    return f"{name}.{group}" if group else name


def _migration_state(obj: Obj, _now: datetime) -> str:
    """The last of Running, Failed or Succeeded that is True, else Unknown."""
    state = "Unknown"
    for condition in (obj.get("status") or {}).get("conditions") or []:
        kind = str(condition.get("type"))
        if condition.get("status") == "True" and kind in ("Running", "Failed", "Succeeded"):
            state = kind
    return state


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
    ("certificates.k8s.io", "podcertificaterequests"): {
        "PodName": lambda obj, _now: str(spec_of(obj).get("podName", "")),
        "ServiceAccountName": lambda obj, _now: str(spec_of(obj).get("serviceAccountName", "")),
        "NodeName": lambda obj, _now: str(spec_of(obj).get("nodeName", "")),
        "SignerName": lambda obj, _now: str(spec_of(obj).get("signerName", "")),
        "State": _certificate_request_state,
        "UnverifiedUserAnnotations": lambda obj, _now: labels_text(
            spec_of(obj).get("unverifiedUserAnnotations")
        ),
    },
    ("resource.k8s.io", "devicetaintrules"): {
        "Key": lambda obj, _now: str(_taint(obj).get("key", "")),
        "Value": lambda obj, _now: str(_taint(obj).get("value", "")),
        "Effect": lambda obj, _now: str(_taint(obj).get("effect", "")),
        "TimeAdded": lambda obj, now: (
            human_age(_taint(obj)["timeAdded"], now) if _taint(obj).get("timeAdded") else ""
        ),
    },
    ("storagemigration.k8s.io", "storageversionmigrations"): {
        "Resource": _migrated_resource,
        "Status": _migration_state,
    },
}
