"""The warning kube-apiserver adds to every answer of a deprecated kind's handlers
(k8s.io/apiserver endpoints/deprecation, from k8s.io/api's lifecycle.go): of the kinds the fake API
serves, v1 Endpoints is deprecated in v1.37 (since v1.33, for discovery.k8s.io/v1
EndpointSlice), and v1 ComponentStatus (since v1.19, with no replacement named). `kubectl get
endpoints` prints it as `Warning: ...`.
"""

from __future__ import annotations

from simulator.api.kinds import KindInfo
from simulator.api.warning_headers import warning_header

__all__ = ["deprecation_warning"]

_DEPRECATED = {
    ("", "endpoints"): warning_header(
        "v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice"
    ),
    ("", "componentstatuses"): warning_header("v1 ComponentStatus is deprecated in v1.19+"),
}


def deprecation_warning(info: KindInfo) -> bytes | None:
    """The `Warning` header's value for a request to `info`'s resource, if it is deprecated."""
    return _DEPRECATED.get((info.group, info.plural))
