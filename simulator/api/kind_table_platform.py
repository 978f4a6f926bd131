"""The built-in kinds of kube-apiserver's platform groups that the appliance itself never uses but
clients list, create and expect to find: certificates, CSI storage, dynamic resource allocation,
API priority and fairness, service IP ranges, admission configuration, runtime classes and storage
migrations.

Each entry is what a v1.37 kube-apiserver's aggregated discovery lists (scope, short names,
categories, subresources); the objects are stored and served like any other, and nothing acts on
them (no webhook is called, no admission policy evaluated, no CSR signed: docs/simulator-api.md).
"""

from __future__ import annotations

from simulator.api.kinds import KindInfo, builtin_kind

__all__ = ["PLATFORM_KINDS"]


def _kind(  # noqa: PLR0917 - one row of the discovery table
    group: str,
    kind: str,
    plural: str,
    namespaced: bool = False,
    subresources: tuple[str, ...] = (),
    short: tuple[str, ...] = (),
    categories: tuple[str, ...] = (),
) -> KindInfo:
    # All of them v1 with every verb; a status subresource keeps the stored status on writes.
    return builtin_kind(
        group,
        "v1",
        kind,
        plural,
        namespaced=namespaced,
        short=short,
        categories=categories,
        subresources=subresources,
        has_status="status" in subresources,
    )


_CERTS = "certificates.k8s.io"
_STORAGE = "storage.k8s.io"
_DRA = "resource.k8s.io"
_FLOW = "flowcontrol.apiserver.k8s.io"
_NET = "networking.k8s.io"
_ADMISSION = "admissionregistration.k8s.io"
_STATUS = ("status",)
_EXTENSIONS = ("api-extensions",)

PLATFORM_KINDS: tuple[KindInfo, ...] = (
    _kind(
        _CERTS,
        "CertificateSigningRequest",
        "certificatesigningrequests",
        subresources=("approval", "status"),
        short=("csr",),
    ),
    _kind(_CERTS, "ClusterTrustBundle", "clustertrustbundles"),
    _kind(_CERTS, "PodCertificateRequest", "podcertificaterequests", True, _STATUS),
    _kind(_STORAGE, "CSIDriver", "csidrivers"),
    _kind(_STORAGE, "CSINode", "csinodes", subresources=_STATUS),
    _kind(_STORAGE, "CSIStorageCapacity", "csistoragecapacities", namespaced=True),
    _kind(_STORAGE, "VolumeAttachment", "volumeattachments", subresources=_STATUS),
    _kind(_STORAGE, "VolumeAttributesClass", "volumeattributesclasses", short=("vac",)),
    _kind(_DRA, "DeviceClass", "deviceclasses"),
    _kind(_DRA, "DeviceTaintRule", "devicetaintrules", subresources=_STATUS),
    _kind(_DRA, "ResourceClaim", "resourceclaims", True, _STATUS),
    _kind(_DRA, "ResourceClaimTemplate", "resourceclaimtemplates", namespaced=True),
    _kind(_DRA, "ResourceSlice", "resourceslices"),
    _kind(_FLOW, "FlowSchema", "flowschemas", subresources=_STATUS),
    _kind(_FLOW, "PriorityLevelConfiguration", "prioritylevelconfigurations", False, _STATUS),
    _kind(_NET, "IPAddress", "ipaddresses", short=("ip",)),
    _kind(_NET, "ServiceCIDR", "servicecidrs", subresources=_STATUS),
    _kind(
        _ADMISSION,
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        categories=_EXTENSIONS,
    ),
    _kind(
        _ADMISSION,
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        categories=_EXTENSIONS,
    ),
    _kind(
        _ADMISSION,
        "MutatingAdmissionPolicy",
        "mutatingadmissionpolicies",
        categories=_EXTENSIONS,
    ),
    _kind(
        _ADMISSION,
        "MutatingAdmissionPolicyBinding",
        "mutatingadmissionpolicybindings",
        categories=_EXTENSIONS,
    ),
    _kind(
        _ADMISSION,
        "ValidatingAdmissionPolicy",
        "validatingadmissionpolicies",
        subresources=_STATUS,
        categories=_EXTENSIONS,
    ),
    _kind(
        _ADMISSION,
        "ValidatingAdmissionPolicyBinding",
        "validatingadmissionpolicybindings",
        categories=_EXTENSIONS,
    ),
    _kind("node.k8s.io", "RuntimeClass", "runtimeclasses"),
    _kind(
        "storagemigration.k8s.io",
        "StorageVersionMigration",
        "storageversionmigrations",
        subresources=_STATUS,
    ),
)
