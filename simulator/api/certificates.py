"""What kube-apiserver's CertificateSigningRequest strategy assigns on create: the requester.

A signer (and `kubectl get csr`'s REQUESTOR) trusts `spec.username`, `uid`, `groups` and `extra`
only because the API server writes them from the authenticated caller, whatever the body said;
a new request is never born approved (pkg/registry/certificates/certificates/strategy.go).
"""

from __future__ import annotations

from typing import Any

from simulator.api.kinds import KindInfo
from simulator.api.rbac import UserInfo

__all__ = ["stamp_requester"]

_REQUESTER = ("username", "uid", "groups", "extra")


def stamp_requester(info: KindInfo, obj: dict[str, Any], user: UserInfo) -> None:
    """On a CSR's create through the API: the caller as its requester, no status."""
    if (info.group, info.kind) != ("certificates.k8s.io", "CertificateSigningRequest"):
        return
    spec = obj.setdefault("spec", {})
    if not isinstance(spec, dict):
        return  # the typed decoder has refused it already; nothing to stamp
    for key in _REQUESTER:
        spec.pop(key, None)
    spec["username"] = user.name
    if user.uid:
        spec["uid"] = user.uid
    if user.groups:
        spec["groups"] = list(user.groups)
    if user.extra:  # a service account token's id, bound pod and node
        spec["extra"] = {key: list(values) for key, values in user.extra}
    obj.pop("status", None)
