"""A ServiceAccount's TokenRequest as kube-apiserver answers it (pkg/registry/core/serviceaccount/
storage/token.go): its validation after defaulting, the object a token may be bound to (a Pod
running as that account, a Secret or a Node, which must exist and be the uid named), and the JWT
whose claims say all that (the server's issuer signs them, issuer_discovery), and the user those
claims authenticate as.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from simulator.api.issuer_discovery import ISSUER
from simulator.api.store import BadRequestError, ObjectStore
from simulator.api.store.errors import ConflictError, InvalidError
from simulator.api.store.rules import not_found

__all__ = [
    "bound_node",
    "bound_object",
    "bound_reference",
    "check_expiration",
    "token_claims",
    "user_extra",
]

_MIN_SECONDS, _MAX_SECONDS = 600, 2**32
# The kinds a token may be bound to, each by its resource.
_BINDABLE = {"Pod": "pods", "Secret": "secrets", "Node": "nodes"}
Obj = dict[str, Any]


def check_expiration(seconds: int) -> None:
    """kube-apiserver's 422 for a lifetime under 10 minutes or over 2^32 seconds."""
    if _MIN_SECONDS <= seconds <= _MAX_SECONDS:
        return
    why = (
        "may not specify a duration less than 10 minutes"
        if seconds < _MIN_SECONDS
        else "may not specify a duration larger than 2^32 seconds"
    )
    raise InvalidError(
        f'TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid '
        f"value: {seconds}: {why}",
        group="authentication.k8s.io",
        kind="TokenRequest",
        causes=[
            {
                "reason": "FieldValueInvalid",
                "message": f"Invalid value: {seconds}: {why}",
                "field": "spec.expirationSeconds",
            }
        ],
    )


def bound_object(
    store: ObjectStore, namespace: str, account: str, ref: dict[str, Any] | None
) -> tuple[str, dict[str, Any]] | None:
    """(kind, object) the token is bound to, or None; kube-apiserver's 400, 404 and 409."""
    if not ref:
        return None
    api_version, kind = str(ref.get("apiVersion") or ""), str(ref.get("kind") or "")
    name = str(ref.get("name") or "")
    group, _, version = api_version.rpartition("/")
    resource = _BINDABLE.get(kind) if not group else None
    if resource is None:  # Go's GroupVersionKind.String(): "/v1, Kind=ConfigMap"
        raise BadRequestError(f"cannot bind token to object of type {group}/{version}, Kind={kind}")
    scope = None if kind == "Node" else namespace
    live = store.get("v1", resource, name, scope)
    if live is None:
        raise not_found(store.kind_info("v1", kind), name)
    if kind == "Pod" and (live.get("spec") or {}).get("serviceAccountName") != account:
        raise BadRequestError(
            f'cannot bind token for serviceaccount "{account}" to pod running with different '
            "serviceaccount name."
        )
    uid = ref.get("uid")
    if uid and uid != live["metadata"].get("uid"):
        raise ConflictError(
            f'Operation cannot be fulfilled on {kind} "{name}": the UID in the bound object '
            f"reference ({uid}) does not match the UID in record. The object might have been "
            "deleted and then recreated",
            name=name,
            kind=kind,
        )
    return kind, live


def bound_reference(bound: tuple[str, dict[str, Any]]) -> tuple[str, str, str]:
    """(resource, name, uid) of the object a token is bound to: what each request checks."""
    kind, obj = bound
    return _BINDABLE[kind], str(obj["metadata"]["name"]), str(obj["metadata"]["uid"])


def bound_node(store: ObjectStore, bound: tuple[str, dict[str, Any]] | None) -> Obj | None:
    """The node a pod the token is bound to runs on, which the token names too
    (ServiceAccountTokenPodNodeInfo): by name alone when it is not found."""
    if bound is None or bound[0] != "Pod":
        return None
    node_name = str((bound[1].get("spec") or {}).get("nodeName") or "")
    if not node_name:
        return None
    node = store.get("v1", "nodes", node_name, None)
    return node or {"metadata": {"name": node_name}}


def token_claims(
    namespace: str,
    account: tuple[str, str],
    audiences: list[str],
    times: tuple[datetime, datetime],
    bound: tuple[str, dict[str, Any]] | None,
    *,
    node: Obj | None = None,
) -> dict[str, Any]:
    """A token's claims as kube-apiserver writes them: the service account (name, uid), the
    object it is bound to and a bound pod's node (clients read `sub`, `exp` and
    `kubernetes.io`)."""
    name, uid = account
    now, expires = times
    private: dict[str, Any] = {
        "namespace": namespace,
        "serviceaccount": {"name": name, "uid": uid},
    }
    if bound is not None:
        kind, obj = bound
        private[kind.lower()] = _ref(obj)
    if node is not None:
        private["node"] = _ref(node)
    return {
        "aud": audiences,
        "exp": int(expires.timestamp()),
        "iat": int(now.timestamp()),
        "iss": ISSUER,
        "jti": str(uuid.uuid4()),
        "kubernetes.io": dict(sorted(private.items())),
        "nbf": int(now.timestamp()),
        "sub": f"system:serviceaccount:{namespace}:{name}",
    }


def user_extra(claims: dict[str, Any]) -> dict[str, list[str]]:
    """What the service-account authenticator adds to the user a token's claims name
    (ServiceAccountInfo.UserInfo): the token's id, and the pod or node it is bound to (names,
    and uids when known), by key."""
    extra: dict[str, list[str]] = {}
    private = claims.get("kubernetes.io") or {}
    for bound in ("pod", "node"):
        ref = private.get(bound)
        if isinstance(ref, dict):
            extra[f"authentication.kubernetes.io/{bound}-name"] = [str(ref.get("name", ""))]
            if ref.get("uid"):
                extra[f"authentication.kubernetes.io/{bound}-uid"] = [str(ref["uid"])]
    if claims.get("jti"):
        extra["authentication.kubernetes.io/credential-id"] = [f"JTI={claims['jti']}"]
    return dict(sorted(extra.items()))


def _ref(obj: Obj) -> dict[str, str]:
    """Go's ref{Name, UID}, each omitted when empty."""
    meta = obj.get("metadata") or {}
    return {k: str(meta[k]) for k in ("name", "uid") if meta.get(k)}
