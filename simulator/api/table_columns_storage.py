"""The columns kube-apiserver v1.37 puts in the Tables of storage and network kinds
(PersistentVolumes, StorageClasses, CSIStorageCapacities, Ingresses, IngressClasses,
NetworkPolicies, EndpointSlices), with their cells, as `pkg/printers/internalversion/
printers.go` makes them (a kind it has no printer for, CSIStorageCapacity, gets the default
convertor's Name and Created At). A description is its field's documentation without the enum
values the OpenAPI documents append."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from simulator.api.selectors import selector_text
from simulator.api.store.default_classes import (
    BETA_STORAGE_CLASS,
    DEFAULT_INGRESS_CLASS,
    DEFAULT_STORAGE_CLASS,
    newest_default,
)
from simulator.api.table_cells import Reader, access_modes, spec_of
from simulator.api.table_columns import AGE, NAME, Column
from simulator.api.table_columns_policy import CREATED_AT, created_at

__all__ = ["STORAGE_COLUMNS", "STORAGE_READERS", "default_storage_class"]

Obj = dict[str, Any]
_CREATED_AT = CREATED_AT

_PERSISTENTVOLUMES_CAPACITY = (
    "capacity is the description of the persistent volume's resources and capacity. More "
    "info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#capacity"
)
_PERSISTENTVOLUMES_ACCESS_MODES = (
    "accessModes contains all ways the volume can be mounted. More info: "
    "https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes"
)
_PERSISTENTVOLUMES_RECLAIM_POLICY = (
    "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released "
    "from its claim. Valid options are Retain (default for manually created "
    "PersistentVolumes), Delete (default for dynamically provisioned PersistentVolumes), and "
    "Recycle (deprecated). Recycle must be supported by the volume plugin underlying this "
    "PersistentVolume. More info: https://kubernetes.io/docs/concepts/storage/persistent-"
    "volumes#reclaiming"
)
_PERSISTENTVOLUMES_STATUS = (
    "phase indicates if a volume is available, bound to a claim, or released by a claim. More"
    " info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#phase"
)
_PERSISTENTVOLUMES_CLAIM = (
    "claimRef is part of a bi-directional binding between PersistentVolume and "
    "PersistentVolumeClaim. Expected to be non-nil when bound. claim.VolumeName is the "
    "authoritative bind between PV and PVC. More info: "
    "https://kubernetes.io/docs/concepts/storage/persistent-volumes#binding"
)
_PERSISTENTVOLUMES_STORAGECLASS = "StorageClass of the pv"
_PERSISTENTVOLUMES_VOLUMEATTRIBUTESCLASS = "VolumeAttributesClass of the pv"
_PERSISTENTVOLUMES_REASON = (
    "reason is a brief CamelCase string that describes any failure and is meant for machine "
    "parsing and tidy display in the CLI."
)
_PERSISTENTVOLUMES_VOLUMEMODE = (
    "volumeMode defines if a volume is intended to be used with a formatted filesystem or to "
    "remain in raw block state. Value of Filesystem is implied when not included in spec."
)
_STORAGECLASSES_PROVISIONER = "provisioner indicates the type of the provisioner."
_STORAGECLASSES_RECLAIMPOLICY = (
    "reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes "
    "of this storage class. Defaults to Delete."
)
_STORAGECLASSES_VOLUMEBINDINGMODE = (
    "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound."
    "  When unset, VolumeBindingImmediate is used. This field is only honored by servers that"
    " enable the VolumeScheduling feature."
)
_STORAGECLASSES_ALLOWVOLUMEEXPANSION = (
    "allowVolumeExpansion shows whether the storage class allow volume expand."
)
_INGRESSES_CLASS = (
    "The name of the IngressClass resource that should be used for additional configuration"
)
_INGRESSES_HOSTS = "Hosts that incoming requests are matched against before the ingress rule"
_INGRESSES_ADDRESS = "Address is a list containing ingress points for the load-balancer"
_INGRESSES_PORTS = "Ports of TLS configurations that open"
_INGRESSCLASSES_CONTROLLER = "Controller that is responsible for handling this class"
_INGRESSCLASSES_PARAMETERS = "A reference to a resource with additional parameters"
_NETWORKPOLICIES_POD_SELECTOR = (
    "podSelector selects the pods to which this NetworkPolicy object applies. The array of "
    "rules is applied to any pods selected by this field. An empty selector matches all pods "
    "in the policy's namespace. Multiple network policies can select the same set of pods. In"
    " this case, the ingress rules for each are combined additively. This field is optional. "
    "If it is not specified, it defaults to an empty selector."
)
_ENDPOINTSLICES_ADDRESSTYPE = (
    "addressType specifies the type of address carried by this EndpointSlice. All addresses "
    "in this slice must be the same type. This field is immutable after creation. The "
    "following address types are currently supported: * IPv4: Represents an IPv4 Address. * "
    "IPv6: Represents an IPv6 Address. * FQDN: Represents a Fully Qualified Domain Name. "
    "(Deprecated) The EndpointSlice controller only generates, and kube-proxy only processes,"
    ' slices of addressType "IPv4" and "IPv6". No semantics are defined for the "FQDN" type.'
)
_ENDPOINTSLICES_PORTS = (
    "ports specifies the list of network ports exposed by each endpoint in this slice. Each "
    "port must have a unique name. Each slice may include a maximum of 100 ports. Services "
    "always have at least 1 port, so EndpointSlices generated by the EndpointSlice controller"
    " will likewise always have at least 1 port. EndpointSlices used for other purposes may "
    "have an empty ports list."
)
_ENDPOINTSLICES_ENDPOINTS = (
    "endpoints is a list of unique endpoints in this slice. Each slice may include a maximum "
    "of 1000 endpoints."
)

STORAGE_COLUMNS: dict[tuple[str, str], tuple[Column, ...]] = {
    ("", "persistentvolumes"): (
        NAME,
        ("Capacity", "string", "", 0, _PERSISTENTVOLUMES_CAPACITY),
        ("Access Modes", "string", "", 0, _PERSISTENTVOLUMES_ACCESS_MODES),
        ("Reclaim Policy", "string", "", 0, _PERSISTENTVOLUMES_RECLAIM_POLICY),
        ("Status", "string", "", 0, _PERSISTENTVOLUMES_STATUS),
        ("Claim", "string", "", 0, _PERSISTENTVOLUMES_CLAIM),
        ("StorageClass", "string", "", 0, _PERSISTENTVOLUMES_STORAGECLASS),
        ("VolumeAttributesClass", "string", "", 0, _PERSISTENTVOLUMES_VOLUMEATTRIBUTESCLASS),
        ("Reason", "string", "", 0, _PERSISTENTVOLUMES_REASON),
        AGE,
        ("VolumeMode", "string", "", 1, _PERSISTENTVOLUMES_VOLUMEMODE),
    ),
    ("storage.k8s.io", "storageclasses"): (
        NAME,
        ("Provisioner", "string", "", 0, _STORAGECLASSES_PROVISIONER),
        ("ReclaimPolicy", "string", "", 0, _STORAGECLASSES_RECLAIMPOLICY),
        ("VolumeBindingMode", "string", "", 0, _STORAGECLASSES_VOLUMEBINDINGMODE),
        ("AllowVolumeExpansion", "string", "", 0, _STORAGECLASSES_ALLOWVOLUMEEXPANSION),
        AGE,
    ),
    ("storage.k8s.io", "csistoragecapacities"): (NAME, _CREATED_AT),
    ("networking.k8s.io", "ingresses"): (
        NAME,
        ("Class", "string", "", 0, _INGRESSES_CLASS),
        ("Hosts", "string", "", 0, _INGRESSES_HOSTS),
        ("Address", "string", "", 0, _INGRESSES_ADDRESS),
        ("Ports", "string", "", 0, _INGRESSES_PORTS),
        AGE,
    ),
    ("networking.k8s.io", "ingressclasses"): (
        NAME,
        ("Controller", "string", "", 0, _INGRESSCLASSES_CONTROLLER),
        ("Parameters", "string", "", 0, _INGRESSCLASSES_PARAMETERS),
        AGE,
    ),
    ("networking.k8s.io", "networkpolicies"): (
        NAME,
        ("Pod-Selector", "string", "", 0, _NETWORKPOLICIES_POD_SELECTOR),
        AGE,
    ),
    ("discovery.k8s.io", "endpointslices"): (
        NAME,
        ("AddressType", "string", "", 0, _ENDPOINTSLICES_ADDRESSTYPE),
        ("Ports", "string", "", 0, _ENDPOINTSLICES_PORTS),
        ("Endpoints", "string", "", 0, _ENDPOINTSLICES_ENDPOINTS),
        AGE,
    ),
}


def default_storage_class(items: list[Obj]) -> str:
    """getEffectiveDefaultStorageClass: the default of a listed page's classes; '' for none."""
    return newest_default(items, DEFAULT_STORAGE_CLASS) or ""


def _status(obj: Obj) -> Obj:
    return obj.get("status") or {}


def _volume_claim(obj: Obj, _now: datetime) -> str:
    ref = spec_of(obj).get("claimRef")
    return f"{ref.get('namespace', '')}/{ref.get('name', '')}" if isinstance(ref, dict) else ""


def _volume_phase(obj: Obj, _now: datetime) -> str:
    if (obj.get("metadata") or {}).get("deletionTimestamp"):
        return "Terminating"
    return str(_status(obj).get("phase", ""))


def _volume_class(obj: Obj, _now: datetime) -> str:
    """GetPersistentVolumeClass: the field, else the beta annotation."""
    spec = spec_of(obj)
    if spec.get("storageClassName"):
        return str(spec["storageClassName"])
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    return str(annotations.get(BETA_STORAGE_CLASS, ""))


def _ingress_hosts(obj: Obj, _now: datetime) -> str:
    """formatHosts: hosts until three are listed, then how many rules are left; `*` for none."""
    rules = spec_of(obj).get("rules") or []
    hosts: list[str] = []
    more = False
    for rule in rules:
        more = more or len(hosts) == 3
        if not more and rule.get("host"):
            hosts.append(str(rule["host"]))
    if not hosts:
        return "*"
    return ",".join(hosts) + (f" + {len(rules) - 3} more..." if more else "")


def _ingress_address(obj: Obj, _now: datetime) -> str:
    """ingressLoadBalancerStatusStringer, wide: every IP (else hostname), sorted, unique."""
    entries = (_status(obj).get("loadBalancer") or {}).get("ingress") or []
    found = {
        str(e.get("ip") or e.get("hostname")) for e in entries if e.get("ip") or e.get("hostname")
    }
    return ",".join(sorted(found))


def _ingress_class_parameters(obj: Obj, _now: datetime) -> str:
    params = spec_of(obj).get("parameters")
    if not isinstance(params, dict):
        return "<none>"
    kind = str(params.get("kind", ""))
    if params.get("apiGroup") is not None:
        kind = f"{kind}.{params['apiGroup']}"
    return f"{kind}/{params.get('name', '')}"


def _with_default(annotations: tuple[str, ...]) -> Reader:
    """The Name cell with ` (default)` for a class annotated as the default."""

    def read(obj: Obj, _now: datetime) -> str:
        meta = obj.get("metadata") or {}
        given = meta.get("annotations") or {}
        default = any(given.get(annotation) == "true" for annotation in annotations)
        return f"{meta.get('name', '')} (default)" if default else str(meta.get("name", ""))

    return read


def _listed(values: list[str]) -> str:
    """listWithMoreString: three, then how many more; `<unset>` for none."""
    if len(values) > 3:
        return f"{','.join(values[:3])} + {len(values) - 3} more..."
    return ",".join(values) or "<unset>"


def _slice_ports(obj: Obj, _now: datetime) -> str:
    ports = obj.get("ports") or []
    return _listed(
        [str(p["port"]) if p.get("port") is not None else str(p.get("name") or "*") for p in ports]
    )


def _slice_endpoints(obj: Obj, _now: datetime) -> str:
    return _listed([str(a) for e in obj.get("endpoints") or [] for a in e.get("addresses") or []])


STORAGE_READERS: dict[tuple[str, str], dict[str, Reader]] = {
    ("", "persistentvolumes"): {
        "Capacity": lambda o, _n: str((spec_of(o).get("capacity") or {}).get("storage") or "0"),
        "Access Modes": lambda o, _n: access_modes(spec_of(o).get("accessModes")),
        "Reclaim Policy": lambda o, _n: str(spec_of(o).get("persistentVolumeReclaimPolicy", "")),
        "Status": _volume_phase,
        "Claim": _volume_claim,
        "StorageClass": _volume_class,
        "VolumeAttributesClass": lambda o, _n: str(
            spec_of(o).get("volumeAttributesClassName") or "<unset>"
        ),
        "Reason": lambda o, _n: str(_status(o).get("reason", "")),
        "VolumeMode": lambda o, _n: str(spec_of(o).get("volumeMode") or "<unset>"),
    },
    ("storage.k8s.io", "storageclasses"): {
        "Provisioner": lambda o, _n: str(o.get("provisioner", "")),
        "ReclaimPolicy": lambda o, _n: str(o.get("reclaimPolicy") or "Delete"),
        "VolumeBindingMode": lambda o, _n: str(o.get("volumeBindingMode") or "Immediate"),
        "AllowVolumeExpansion": lambda o, _n: bool(o.get("allowVolumeExpansion")),
    },
    ("storage.k8s.io", "csistoragecapacities"): {"Created At": created_at},
    ("networking.k8s.io", "ingresses"): {
        "Class": lambda o, _n: str(spec_of(o).get("ingressClassName") or "<none>"),
        "Hosts": _ingress_hosts,
        "Address": _ingress_address,
        "Ports": lambda o, _n: "80, 443" if spec_of(o).get("tls") else "80",
    },
    ("networking.k8s.io", "ingressclasses"): {
        "Name": _with_default(DEFAULT_INGRESS_CLASS),
        "Controller": lambda o, _n: str(spec_of(o).get("controller", "")),
        "Parameters": _ingress_class_parameters,
    },
    ("networking.k8s.io", "networkpolicies"): {
        "Pod-Selector": lambda o, _n: (
            selector_text(spec_of(o).get("podSelector") or {}) or "<none>"
        ),
    },
    ("discovery.k8s.io", "endpointslices"): {
        "AddressType": lambda o, _n: str(o.get("addressType", "")),
        "Ports": _slice_ports,
        "Endpoints": _slice_endpoints,
    },
}
