"""The columns of kube-apiserver v1.37's Tables of the platform kinds (`kind_table_platform.py`):
runtime classes, webhook configurations, flow control, CSI drivers and certificate signing
requests, with the cells they show (see `table_columns.py` for the form)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from simulator.api.selectors import selector_text
from simulator.api.table_cells import Reader, human_duration, spec_of
from simulator.api.table_columns import AGE, NAME, Column

__all__ = ["PLATFORM_COLUMNS", "PLATFORM_READERS"]

Obj = dict[str, Any]
# The field descriptions kube-apiserver's printers name, as v1.37 words them.
_HANDLER_DOC = ""
_WEBHOOKS_DOC = "Webhooks indicates the number of webhooks registered in this configuration"
_PRIORITY_LEVEL_DOC = (
    "`name` is the name of the priority level configuration being referenced Required."
)
_MATCHING_PRECEDENCE_DOC = (
    "`matchingPrecedence` is used to choose among the FlowSchemas that match a "
    "given request. The chosen FlowSchema is among those with the numerically "
    "lowest (which we take to be logically highest) MatchingPrecedence.  Each "
    "MatchingPrecedence value must be ranged in [1,10000]. Note that if the "
    "precedence is not specified, it will be set to 1000 as default."
)
_DISTINGUISHER_METHOD_DOC = (
    "`distinguisherMethod` defines how to compute the flow distinguisher for "
    "requests that match this schema. `nil` specifies that the distinguisher is "
    "disabled and thus will always be the empty string."
)
_MISSING_LEVEL_DOC = "references a broken or non-existent PriorityLevelConfiguration"
_TYPE_DOC = (
    "`type` indicates whether this priority level is subject to limitation on "
    'request execution.  A value of `"Exempt"` means that requests of this '
    "priority level are not subject to a limit (and thus are never queued) and "
    "do not detract from the capacity made available to other priority levels.  "
    'A value of `"Limited"` means that (a) requests of this priority level _are_ '
    "subject to limits and (b) some of the server's limited capacity is made "
    "available exclusively to this priority level. Required."
)
_NOMINAL_CONCURRENCY_SHARES_DOC = (
    "`nominalConcurrencyShares` (NCS) contributes to the computation of the "
    "NominalConcurrencyLimit (NominalCL) of this level. This is the number of "
    "execution seats available at this priority level. This is used both for "
    "requests dispatched from this priority level as well as requests dispatched "
    "from other priority levels borrowing seats from this level. The server's "
    "concurrency limit (ServerCL) is divided among the Limited priority levels "
    "in proportion to their NCS values:\n\nNominalCL(i)  = ceil( ServerCL * NCS(i) "
    "/ sum_ncs ) sum_ncs = sum[priority level k] NCS(k)\n\nBigger numbers mean a "
    "larger nominal concurrency limit, at the expense of every other priority "
    "level.\n\nIf not specified, this field defaults to a value of 30.\n\nSetting "
    'this field to zero supports the construction of a "jail" for this priority '
    "level that is used to hold some request(s)"
)
_QUEUES_DOC = (
    "`queues` is the number of queues for this priority level. The queues exist "
    "independently at each apiserver. The value must be positive.  Setting it to "
    "1 effectively precludes shufflesharding and thus makes the distinguisher "
    "method of associated flow schemas irrelevant.  This field has a default "
    "value of 64."
)
_HAND_SIZE_DOC = (
    "`handSize` is a small positive number that configures the shuffle sharding "
    "of requests into queues.  When enqueuing a request at this priority level "
    "the request's flow identifier (a string pair) is hashed and the hash value "
    "is used to shuffle the list of queues and deal a hand of the size specified "
    "here.  The request is put into one of the shortest queues in that hand. "
    "`handSize` must be no larger than `queues`, and should be significantly "
    "smaller (so that a few heavy flows do not saturate most of the queues).  "
    "See the user-facing documentation for more extensive guidance on setting "
    "this field.  This field has a default value of 8."
)
_QUEUE_LENGTH_LIMIT_DOC = (
    "`queueLengthLimit` is the maximum number of requests allowed to be waiting "
    "in a given queue of this priority level at a time; excess requests are "
    "rejected.  This value must be positive.  If not specified, it will be "
    "defaulted to 50."
)
_ATTACH_REQUIRED_DOC = (
    "attachRequired indicates this CSI volume driver requires an attach "
    "operation (because it implements the CSI ControllerPublishVolume() method), "
    "and that the Kubernetes attach detach controller should call the attach "
    "volume interface which checks the volumeattachment status and waits until "
    "the volume is attached before proceeding to mounting. The CSI "
    "external-attacher coordinates with CSI volume driver and updates the "
    "volumeattachment status when the attach operation is complete. If the value "
    "is specified to false, the attach operation will be skipped. Otherwise the "
    "attach operation will be called.\n\nThis field is immutable."
)
_POD_INFO_ON_MOUNT_DOC = (
    "podInfoOnMount indicates this CSI volume driver requires additional pod "
    "information (like podName, podUID, etc.) during mount operations, if set to "
    "true. If set to false, pod information will not be passed on mount. Default "
    "is false.\n\nThe CSI driver specifies podInfoOnMount as part of driver "
    "deployment. If true, Kubelet will pass pod information as VolumeContext in "
    "the CSI NodePublishVolume() calls. The CSI driver is responsible for "
    "parsing and validating the information passed in as VolumeContext.\n\nThe "
    "following VolumeContext will be passed if podInfoOnMount is set to true. "
    "This list might grow, but the prefix will be used. "
    '"csi.storage.k8s.io/pod.name": pod.Name "csi.storage.k8s.io/pod.namespace": '
    'pod.Namespace "csi.storage.k8s.io/pod.uid": string(pod.UID) '
    '"csi.storage.k8s.io/ephemeral": "true" if the volume is an ephemeral inline '
    "volume\n                                defined by a CSIVolumeSource, "
    'otherwise "false"\n\n"csi.storage.k8s.io/ephemeral" is a new feature in '
    "Kubernetes 1.16. It is only required for drivers which support both the "
    '"Persistent" and "Ephemeral" VolumeLifecycleMode. Other drivers can leave '
    "pod info disabled and/or ignore this field. As Kubernetes 1.15 doesn't "
    "support this field, drivers can only support one mode when deployed on such "
    "a cluster and the deployment determines which mode that is, for example via "
    "a command line parameter of the driver.\n\nThis field was immutable in "
    "Kubernetes < 1.29 and now is mutable."
)
_STORAGE_CAPACITY_DOC = (
    "storageCapacity indicates that the CSI volume driver wants pod scheduling "
    "to consider the storage capacity that the driver deployment will report by "
    "creating CSIStorageCapacity objects with capacity information, if set to "
    "true.\n\nThe check can be enabled immediately when deploying a driver. In "
    "that case, provisioning new volumes with late binding will pause until the "
    "driver deployment has published some suitable CSIStorageCapacity "
    "object.\n\nAlternatively, the driver can be deployed with the field unset or "
    "false and it can be flipped later when storage capacity information has "
    "been published.\n\nThis field was immutable in Kubernetes <= 1.22 and now is "
    "mutable."
)
_AUDIENCES_DOC = (  # TokenRequests: the audiences a CSI driver wants tokens for
    "tokenRequests indicates the CSI driver needs pods' service account tokens "
    "it is mounting volume for to do necessary authentication. Kubelet will pass "
    "the tokens in VolumeContext in the CSI NodePublishVolume calls. The CSI "
    "driver should parse and validate the following VolumeContext: "
    '"csi.storage.k8s.io/serviceAccount.tokens": {\n  "<audience>": {\n    '
    '"token": <token>,\n    "expirationTimestamp": <expiration timestamp in '
    "RFC3339>,\n  },\n  ...\n}\n\nNote: Audience in each TokenRequest should be "
    "different and at most one token is empty string. To receive a new token "
    "after expiry, RequiresRepublish can be used to trigger NodePublishVolume "
    "periodically."
)
_REQUIRES_REPUBLISH_DOC = (
    "requiresRepublish indicates the CSI driver wants `NodePublishVolume` being "
    "periodically called to reflect any possible change in the mounted volume. "
    "This field defaults to false.\n\nNote: After a successful initial "
    "NodePublishVolume call, subsequent calls to NodePublishVolume should only "
    "update the contents of the volume. New mount points will not be seen by a "
    "running container."
)
_MODES_DOC = (
    "volumeLifecycleModes defines what kind of volumes this CSI volume driver "
    'supports. The default if the list is empty is "Persistent", which is the '
    "usage defined by the CSI specification and implemented in Kubernetes via "
    'the usual PV/PVC mechanism.\n\nThe other mode is "Ephemeral". In this mode, '
    "volumes are defined inline inside the pod spec with CSIVolumeSource and "
    "their lifecycle is tied to the lifecycle of that pod. A driver has to be "
    "aware of this because it is only going to get a NodePublishVolume call for "
    "such a volume.\n\nFor more information about implementing this mode, see "
    "https://kubernetes-csi.github.io/docs/ephemeral-local-volumes.html A driver "
    "can support one or more of these modes and more modes may be added in the "
    "future.\n\nThis field is beta. This field is immutable."
)
_SIGNER_NAME_DOC = (
    "Requested signer for the request. It is a qualified name in the form: "
    "`scope-hostname.io/name`. If empty, it will be defaulted:\n 1. If it's a "
    "kubelet client certificate, it is assigned\n    "
    '"kubernetes.io/kube-apiserver-client-kubelet".\n 2. If it\'s a kubelet '
    'serving certificate, it is assigned\n    "kubernetes.io/kubelet-serving".\n '
    '3. Otherwise, it is assigned "kubernetes.io/legacy-unknown".\nDistribution '
    "of trust for signers happens out of band. You can select on this field "
    "using `spec.signerName`."
)
_REQUESTOR_DOC = "Base64-encoded PKCS#10 CSR data"
_REQUESTED_DURATION_DOC = (
    "expirationSeconds is the requested duration of validity of the issued "
    "certificate. The certificate signer may issue a certificate with a "
    "different validity duration so a client must check the delta between the "
    "notBefore and and notAfter fields in the issued certificate to determine "
    "the actual duration.\n\nThe v1.22+ in-tree implementations of the well-known "
    "Kubernetes signers will honor this field as long as the requested duration "
    "is not greater than the maximum duration they will honor per the "
    "--cluster-signing-duration CLI flag to the Kubernetes controller "
    "manager.\n\nCertificate signers may not honor this field for various "
    "reasons:\n\n  1. Old signer that is unaware of the field (such as the "
    "in-tree\n     implementations prior to v1.22)\n  2. Signer whose configured "
    "maximum is shorter than the requested duration\n  3. Signer whose configured "
    "minimum is longer than the requested duration\n\nThe minimum valid value for "
    "expirationSeconds is 600, i.e. 10 minutes."
)
_CONDITION_DOC = "Conditions applied to the request, such as approval or denial."
_PARAM_KIND_DOC = "ParamKind specifies the kind of resources used to parameterize this policy"
_POLICY_NAME_DOC = "PolicyName indicates the policy definition which the policy binding binded to"
_PARAM_REF_DOC = "ParamRef indicates the param resource which sets the configuration param"
_BINDING_COLUMNS: tuple[Column, ...] = (
    NAME,
    ("PolicyName", "string", "", 0, _POLICY_NAME_DOC),
    ("ParamRef", "string", "", 0, _PARAM_REF_DOC),
    AGE,
)
_SLICE_FIELD_RULE = (
    "A field selector can be used to list only ResourceSlice objects belonging to a certain "
)
_ADMISSION = "admissionregistration.k8s.io"

PLATFORM_COLUMNS: dict[tuple[str, str], tuple[Column, ...]] = {
    (_ADMISSION, "validatingadmissionpolicies"): (
        NAME,
        (
            "Validations",
            "integer",
            "",
            0,
            "Validations indicates the number of validation rules defined in this configuration",
        ),
        ("ParamKind", "string", "", 0, _PARAM_KIND_DOC),
        AGE,
    ),
    (_ADMISSION, "mutatingadmissionpolicies"): (
        NAME,
        (
            "Mutations",
            "integer",
            "",
            0,
            "Mutation indicates the number of mutations rules defined in this configuration",
        ),
        ("ParamKind", "string", "", 0, _PARAM_KIND_DOC),
        AGE,
    ),
    (_ADMISSION, "validatingadmissionpolicybindings"): _BINDING_COLUMNS,
    (_ADMISSION, "mutatingadmissionpolicybindings"): _BINDING_COLUMNS,
    ("storage.k8s.io", "volumeattributesclasses"): (
        NAME,
        (
            "DriverName",
            "string",
            "",
            0,
            "driverName is the name of the CSI driver This field is immutable.",
        ),
        AGE,
    ),
    ("resource.k8s.io", "resourceslices"): (
        NAME,
        (
            "Node",
            "string",
            "",
            0,
            "NodeName identifies the node which provides the resources in this pool. "
            + _SLICE_FIELD_RULE
            + "node.\n\nThis field can be used to limit access from nodes to ResourceSlices "
            "with the same node name. It also indicates to autoscalers that adding new nodes of "
            "the same type as some old node might also make new resources available.\n\n"
            "Exactly one of NodeName, NodeSelector, AllNodes, and PerDeviceNodeSelection must "
            "be set. This field is immutable.",
        ),
        (
            "Driver",
            "string",
            "",
            0,
            "Driver identifies the DRA driver providing the capacity information. "
            + _SLICE_FIELD_RULE.replace("belonging to a certain ", "with a certain driver name.")
            + "\n\nMust be a DNS subdomain and should end with a DNS domain owned by the vendor "
            "of the driver. It should use only lower case characters. This field is immutable.",
        ),
        (
            "Pool",
            "string",
            "",
            0,
            "Name is used to identify the pool. For node-local devices, this is often the node "
            "name, but this is not required. "
            + _SLICE_FIELD_RULE
            + "pool.\n\nIt must not be longer than 253 characters and must consist of one or "
            "more DNS sub-domains separated by slashes. This field is immutable.",
        ),
        AGE,
    ),
    ("node.k8s.io", "runtimeclasses"): (
        NAME,
        ("Handler", "string", "", 0, _HANDLER_DOC),
        AGE,
    ),
    ("admissionregistration.k8s.io", "validatingwebhookconfigurations"): (
        NAME,
        ("Webhooks", "integer", "", 0, _WEBHOOKS_DOC),
        AGE,
    ),
    ("admissionregistration.k8s.io", "mutatingwebhookconfigurations"): (
        NAME,
        ("Webhooks", "integer", "", 0, _WEBHOOKS_DOC),
        AGE,
    ),
    ("flowcontrol.apiserver.k8s.io", "flowschemas"): (
        NAME,
        ("PriorityLevel", "string", "", 0, _PRIORITY_LEVEL_DOC),
        ("MatchingPrecedence", "string", "", 0, _MATCHING_PRECEDENCE_DOC),
        ("DistinguisherMethod", "string", "", 0, _DISTINGUISHER_METHOD_DOC),
        AGE,
        ("MissingPL", "string", "", 0, _MISSING_LEVEL_DOC),
    ),
    ("flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations"): (
        NAME,
        ("Type", "string", "", 0, _TYPE_DOC),
        ("NominalConcurrencyShares", "string", "", 0, _NOMINAL_CONCURRENCY_SHARES_DOC),
        ("Queues", "string", "", 0, _QUEUES_DOC),
        ("HandSize", "string", "", 0, _HAND_SIZE_DOC),
        ("QueueLengthLimit", "string", "", 0, _QUEUE_LENGTH_LIMIT_DOC),
        AGE,
    ),
    ("storage.k8s.io", "csidrivers"): (
        NAME,
        ("AttachRequired", "boolean", "", 0, _ATTACH_REQUIRED_DOC),
        ("PodInfoOnMount", "boolean", "", 0, _POD_INFO_ON_MOUNT_DOC),
        ("StorageCapacity", "boolean", "", 0, _STORAGE_CAPACITY_DOC),
        ("TokenRequests", "string", "", 0, _AUDIENCES_DOC),
        ("RequiresRepublish", "boolean", "", 0, _REQUIRES_REPUBLISH_DOC),
        ("Modes", "string", "", 0, _MODES_DOC),
        AGE,
    ),
    # kube-aggregator's own ConvertToTable (pkg/registry/apiservice/etcd).
    ("apiregistration.k8s.io", "apiservices"): (
        NAME,
        ("Service", "string", "", 0, "The reference to the service that hosts this API endpoint."),
        ("Available", "string", "", 0, "Whether this service is available."),
        AGE,
    ),
    ("certificates.k8s.io", "certificatesigningrequests"): (
        NAME,
        AGE,
        ("SignerName", "string", "", 0, _SIGNER_NAME_DOC),
        ("Requestor", "string", "", 0, _REQUESTOR_DOC),
        ("RequestedDuration", "string", "", 0, _REQUESTED_DURATION_DOC),
        ("Condition", "string", "", 0, _CONDITION_DOC),
    ),
}


def _api_service_host(obj: Obj, _now: datetime) -> str:
    service = spec_of(obj).get("service")
    return f"{service.get('namespace')}/{service.get('name')}" if service else "Local"


def _api_service_available(obj: Obj, _now: datetime) -> str:
    """The Available condition's status, with its reason when it is not True."""
    conditions = (obj.get("status") or {}).get("conditions") or []
    found = next((c for c in conditions if c.get("type") == "Available"), None)
    if found is None:
        return "Unknown"
    status, reason = str(found.get("status", "")), found.get("reason")
    return status if status == "True" or not reason else f"{status} ({reason})"


def _webhooks(obj: Obj, _now: datetime) -> int:
    return len(obj.get("webhooks") or [])


def _missing_level(obj: Obj, _now: datetime) -> str:
    """The Dangling condition API priority and fairness' controller writes; "?" until it has
    (the fake API runs no such controller)."""
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Dangling":
            return str(condition.get("status", "?"))
    return "?"


def _queuing(key: str) -> Reader:
    def read(obj: Obj, _now: datetime) -> Any:
        limited = spec_of(obj).get("limited")
        if not isinstance(limited, dict):
            return "<none>"
        queuing = (limited.get("limitResponse") or {}).get("queuing")
        return queuing.get(key, 0) if isinstance(queuing, dict) else "<none>"

    return read


def _shares(obj: Obj, _now: datetime) -> Any:
    limited = spec_of(obj).get("limited")
    return limited.get("nominalConcurrencyShares", 0) if isinstance(limited, dict) else "<none>"


def _token_requests(obj: Obj, _now: datetime) -> str:
    requests = spec_of(obj).get("tokenRequests")
    if requests is None:
        return "<unset>"
    return ",".join(str(r.get("audience", "")) for r in requests)


def _csr_condition(obj: Obj, _now: datetime) -> str:
    """kubectl's CSR status word: Denied, else Approved, else Pending; then Failed, Issued."""
    status = obj.get("status") or {}
    kinds = {c.get("type") for c in status.get("conditions") or []}
    word = "Denied" if "Denied" in kinds else "Approved" if "Approved" in kinds else "Pending"
    if "Failed" in kinds:
        word += ",Failed"
    return word + (",Issued" if status.get("certificate") else "")


def _requested_duration(obj: Obj, _now: datetime) -> str:
    seconds = spec_of(obj).get("expirationSeconds")
    return "<none>" if seconds is None else human_duration(float(seconds))


def _spec_field(key: str, default: Any) -> Reader:
    return lambda obj, _now: spec_of(obj).get(key, default)


def _param_kind(obj: Obj, _now: datetime) -> str:
    kind = spec_of(obj).get("paramKind")
    if not isinstance(kind, dict):
        return "<unset>"
    return f"{kind.get('apiVersion', '')}/{kind.get('kind', '')}"


def _param_ref(obj: Obj, _now: datetime) -> str:
    """kubectl's words for a binding's parameters: namespace/name, */name, or the selector."""
    ref = spec_of(obj).get("paramRef")
    if not isinstance(ref, dict):
        return "<unset>"
    if ref.get("name"):
        return f"{ref.get('namespace') or '*'}/{ref['name']}"
    selector = selector_text(ref.get("selector"))
    return selector or "<unset>"


_BINDING_READERS: dict[str, Reader] = {
    "PolicyName": _spec_field("policyName", ""),
    "ParamRef": _param_ref,
}

PLATFORM_READERS: dict[tuple[str, str], dict[str, Reader]] = {
    ("apiregistration.k8s.io", "apiservices"): {
        "Service": _api_service_host,
        "Available": _api_service_available,
    },
    (_ADMISSION, "validatingadmissionpolicies"): {
        "Validations": lambda obj, _now: len(spec_of(obj).get("validations") or []),
        "ParamKind": _param_kind,
    },
    (_ADMISSION, "mutatingadmissionpolicies"): {
        "Mutations": lambda obj, _now: len(spec_of(obj).get("mutations") or []),
        "ParamKind": _param_kind,
    },
    (_ADMISSION, "validatingadmissionpolicybindings"): _BINDING_READERS,
    (_ADMISSION, "mutatingadmissionpolicybindings"): _BINDING_READERS,
    ("storage.k8s.io", "volumeattributesclasses"): {
        "DriverName": lambda obj, _now: obj.get("driverName", "")
    },
    ("resource.k8s.io", "resourceslices"): {
        "Node": _spec_field("nodeName", ""),
        "Driver": _spec_field("driver", ""),
        "Pool": lambda obj, _now: str((spec_of(obj).get("pool") or {}).get("name", "")),
    },
    ("node.k8s.io", "runtimeclasses"): {"Handler": lambda obj, _now: obj.get("handler", "")},
    ("admissionregistration.k8s.io", "validatingwebhookconfigurations"): {"Webhooks": _webhooks},
    ("admissionregistration.k8s.io", "mutatingwebhookconfigurations"): {"Webhooks": _webhooks},
    ("flowcontrol.apiserver.k8s.io", "flowschemas"): {
        "PriorityLevel": lambda obj, _now: str(
            (spec_of(obj).get("priorityLevelConfiguration") or {}).get("name", "")
        ),
        "MatchingPrecedence": _spec_field("matchingPrecedence", 0),
        "DistinguisherMethod": lambda obj, _now: str(
            (spec_of(obj).get("distinguisherMethod") or {}).get("type") or "<none>"
        ),
        "MissingPL": _missing_level,
    },
    ("flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations"): {
        "Type": _spec_field("type", ""),
        "NominalConcurrencyShares": _shares,
        "Queues": _queuing("queues"),
        "HandSize": _queuing("handSize"),
        "QueueLengthLimit": _queuing("queueLengthLimit"),
    },
    ("storage.k8s.io", "csidrivers"): {
        "AttachRequired": _spec_field("attachRequired", True),
        "PodInfoOnMount": _spec_field("podInfoOnMount", False),
        "StorageCapacity": _spec_field("storageCapacity", False),
        "TokenRequests": _token_requests,
        "RequiresRepublish": _spec_field("requiresRepublish", False),
        "Modes": lambda obj, _now: (
            ",".join(spec_of(obj).get("volumeLifecycleModes") or []) or "<none>"
        ),
    },
    ("certificates.k8s.io", "certificatesigningrequests"): {
        "SignerName": _spec_field("signerName", ""),
        "Requestor": _spec_field("username", ""),
        "RequestedDuration": _requested_duration,
        "Condition": _csr_condition,
    },
}
