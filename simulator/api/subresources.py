"""Subresources with a kind of their own: `scale`, `pods/eviction`, `pods/binding`,
`serviceaccounts/token`; and `pods/ephemeralcontainers`, a Pod of which one field is written.

`kubectl scale` reads and patches an autoscaling/v1 Scale; `kubectl drain` evicts through
policy/v1 Eviction (a PodDisruptionBudget that allows no disruption answers 429);
`kubectl create token` and projected service-account tokens ask for an authentication.k8s.io/v1
TokenRequest, whose token then authenticates as the service account.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, cast

import msgspec

from simulator.api.asgi import Host, Request, Route
from simulator.api.component_statuses import component_statuses
from simulator.api.crud import PATCH_TYPES, decode_object, field_manager_of
from simulator.api.fields.kinds import track_request
from simulator.api.issuer_discovery import ISSUER
from simulator.api.kinds import KindInfo
from simulator.api.patching import apply_merge_patch
from simulator.api.protobuf import PROTOBUF
from simulator.api.rbac import TokenBinding, UserInfo, service_account_user
from simulator.api.request_errors import (
    MethodNotAllowedError,
    check_patch_syntax,
    decode_typed_body,
    unsupported_patch_media_type,
)
from simulator.api.selectors import parse_label_selector, selector_text
from simulator.api.store import BadRequestError, ConflictError, NotFoundError, StoreError
from simulator.api.store.applying import mutation
from simulator.api.store.protocol import PatchType
from simulator.api.store.rules import not_found, parse_patch_body
from simulator.api.token_requests import (
    bound_node,
    bound_object,
    bound_reference,
    check_expiration,
    token_claims,
    user_extra,
)
from simulator.clock import rfc3339

__all__ = ["ACTIONS", "SUBRESOURCES"]

_ENC = msgspec.json.Encoder()
_DEC = msgspec.json.Decoder()
Obj = dict[str, Any]
# The kinds the subresources take, as kube-apiserver decodes their bodies.
_SCALE, _EVICTION, _BINDING, _TOKEN_REQUEST = (
    KindInfo(group=group, version="v1", kind=kind, plural=plural, namespaced=True)
    for group, kind, plural in (
        ("autoscaling", "Scale", "scale"),
        ("policy", "Eviction", "eviction"),
        ("", "Binding", "binding"),
        ("authentication.k8s.io", "TokenRequest", "token"),
    )
)
Handler = Callable[[Host, Request, Route, UserInfo], Awaitable[int]]


class TooManyRequestsError(StoreError):
    """429: an eviction the disruption budget does not allow now."""

    code = 429
    reason = "TooManyRequests"


def _posted(host: Host, req: Request, kind: KindInfo) -> Obj:
    """The body of a subresource that only takes creates, decoded as kube-apiserver's Go
    decoder decodes it (protobuf as protobuf); 405 for any other verb."""
    if req.method != "POST":
        raise MethodNotAllowedError
    content_type = req.header(b"content-type")
    if content_type.startswith(PROTOBUF):
        return decode_object(req.body, content_type)
    return decode_typed_body(req.body or b"{}", kind, host.store.registry)


def _live(host: Host, route: Route) -> Obj:
    info = route.info
    obj = host.store.get(info.api_version, info.plural, route.name, route.namespace or None)
    if obj is None:
        raise not_found(info, route.name)
    return obj


def _scale(info: KindInfo, obj: Obj) -> Obj:
    """The autoscaling/v1 Scale of a workload, or of a custom resource by its CRD's paths."""
    meta = obj["metadata"]
    scale: Obj = {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            k: meta[k]
            for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
            if k in meta
        },
    }
    if info.scale is not None:
        return scale | _custom_scale(info.scale, obj)
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return scale | {
        "spec": {"replicas": int(spec.get("replicas", 1))},
        "status": {
            "replicas": int(status.get("replicas") or 0),
            "selector": selector_text(spec.get("selector")),
        },
    }


# What apiextensions' scaleFromCustomResource says of a custom resource without spec replicas
# (the smallest int32: a write must then set them).
_UNSET = -2147483648


def _custom_scale(paths: Obj, obj: Obj) -> Obj:
    """`scaleFromCustomResource`: replicas and selector read at the CRD's paths (absent
    replicas: 0, or `_UNSET` for the spec's; an absent selector is left out)."""
    wanted, found = _at(obj, str(paths.get("specReplicasPath", "")))
    status, _ = _at(obj, str(paths.get("statusReplicasPath", "")))
    selector, _ = _at(obj, str(paths.get("labelSelectorPath") or ""))
    scale_status: Obj = {"replicas": status if isinstance(status, int) else 0}
    if isinstance(selector, str) and selector:
        scale_status["selector"] = selector
    spec_replicas = wanted if found and isinstance(wanted, int) else _UNSET
    return {"spec": {"replicas": spec_replicas}, "status": scale_status}


def _at(obj: Obj, path: str) -> tuple[Any, bool]:
    """The value at a CRD's `.spec.replicas`-style path, and whether it is there."""
    node: Any = obj
    for key in [part for part in path.split(".") if part] or [""]:
        if not isinstance(node, dict) or key not in node:
            return None, False
        node = node[key]
    return node, True


def _nested(path: str, value: Any) -> Obj:
    """`{"spec": {"replicas": value}}` for `.spec.replicas`."""
    nested: Any = value
    for key in reversed([part for part in path.split(".") if part]):
        nested = {key: nested}
    return nested if isinstance(nested, dict) else {}


def _unset_replicas(paths: Obj) -> StoreError:
    """kube-apiserver's 500 for a custom resource's Scale whose spec replicas are absent."""
    problem = f'the spec replicas field "{paths.get("specReplicasPath", "")}" does not exist'
    return StoreError(f"Internal error occurred: {problem}", causes=[{"message": problem}])


async def scale(host: Host, req: Request, route: Route, user: UserInfo) -> int:
    """GET, PUT or PATCH a workload's autoscaling/v1 Scale (only spec.replicas is written), or
    a custom resource's (its CRD's spec replicas path)."""
    info, live = route.info, _live(host, route)
    current = _scale(info, live)
    if req.method == "GET":
        if current["spec"]["replicas"] == _UNSET and info.scale is not None:
            raise _unset_replicas(info.scale)
        await host.respond(req.send, 200, _ENC.encode(current))
        return 200
    if req.method == "PUT":
        wanted = decode_typed_body(req.body or b"{}", _SCALE, host.store.registry)
    else:
        # A Scale patch is refused as the object's own patches are (never a 500).
        patch_type = PATCH_TYPES.get(req.header(b"content-type").split(";")[0].strip())
        if patch_type is None:
            raise unsupported_patch_media_type()
        check_patch_syntax(req.body, patch_type)
        body = parse_patch_body(req.body, patch_type)
        # An apply of a Scale sets what it names, as a merge patch does.
        change = mutation(
            patch_type, body, info=_SCALE, name=route.name, apply=apply_merge_patch, typed=True
        )
        wanted = change(current)
    replicas = (wanted.get("spec") or {}).get("replicas")
    if info.scale is not None and replicas == _UNSET:
        path = info.scale.get("specReplicasPath", "")
        raise BadRequestError(f'the spec replicas field "{path}" cannot be empty')
    if not isinstance(replicas, int) or replicas < 0:
        raise BadRequestError("spec.replicas: Invalid value: must be a non-negative integer")
    path = str(info.scale.get("specReplicasPath", "")) if info.scale else ".spec.replicas"
    updated = host.store.patch(
        info.api_version,
        info.plural,
        route.name,
        _nested(path, replicas),
        "merge",
        route.namespace or None,
        "scale",
        strict=True,
        dry_run="All" in req.query.get("dryRun", []),
        field_manager=field_manager_of(
            req, "UpdateOptions" if req.method == "PUT" else "PatchOptions"
        ),
    )
    await host.respond(req.send, 200, _ENC.encode(_scale(info, updated)))
    return 200


def _scaled(value: Any, total: int) -> int:
    """An int-or-percent of `total`, rounded up (as the disruption controller does)."""
    if isinstance(value, str) and value.endswith("%"):
        return math.ceil(int(value[:-1]) * total / 100)
    return int(value)


def _ready(pod: Obj) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _disruption_allowed(host: Host, pod: Obj) -> bool:
    """Whether every PodDisruptionBudget selecting the pod allows one more disruption now,
    computed as the disruption controller does from the pods it selects."""
    namespace = pod["metadata"].get("namespace")
    try:
        budgets = host.store.list("policy/v1", "PodDisruptionBudget", namespace)
    except NotFoundError:
        return True
    for budget in budgets:
        spec = budget.get("spec") or {}
        selector = parse_label_selector(selector_text(spec.get("selector")) or None)
        if not selector.matches(pod["metadata"].get("labels") or {}):
            continue
        pods = [
            p
            for p in host.store.list("v1", "Pod", namespace)
            if selector.matches(p["metadata"].get("labels") or {})
        ]
        healthy = sum(1 for p in pods if _ready(p))
        if "minAvailable" in spec:
            desired = _scaled(spec["minAvailable"], len(pods))
        else:
            desired = len(pods) - _scaled(spec.get("maxUnavailable", 0), len(pods))
        if healthy - max(desired, 0) < 1:
            return False
    return True


async def eviction(host: Host, req: Request, route: Route, user: UserInfo) -> int:
    """POST a policy/v1 Eviction: the pod is deleted unless a disruption budget forbids it."""
    _posted(host, req, _EVICTION)
    pod = _live(host, route)
    if not _disruption_allowed(host, pod):
        raise TooManyRequestsError(
            "Cannot evict pod as it would violate the pod's disruption budget.",
            causes=[
                {
                    "reason": "DisruptionBudget",
                    "message": "The disruption budget needs more healthy pods to allow this",
                }
            ],
        )
    host.store.delete(
        "v1", "Pod", route.name, route.namespace, dry_run="All" in req.query.get("dryRun", [])
    )
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}
    await host.respond(req.send, 201, _ENC.encode(body))
    return 201


async def binding(host: Host, req: Request, route: Route, user: UserInfo) -> int:
    """POST a Binding: the scheduler's decision puts the pod on a node (once)."""
    return await _bind(host, req, route, _posted(host, req, _BINDING))


async def bindings(host: Host, req: Request, route: Route, user: UserInfo) -> int:
    """POST `/api/v1/namespaces/<ns>/bindings`: the older form of `pods/binding` (kube-apiserver
    serves both from one storage), the pod named by the Binding's own name."""
    posted = _posted(host, req, _BINDING)
    pods = host.store.registry.by_resource("", "v1", "pods")
    assert pods is not None  # a built-in kind
    name = str((posted.get("metadata") or {}).get("name") or "")
    return await _bind(host, req, Route(pods, route.namespace, name, "binding"), posted)


async def _bind(host: Host, req: Request, route: Route, posted: Obj) -> int:
    target = (posted.get("target") or {}).get("name")
    pod = _live(host, route)
    if not target:
        raise BadRequestError("Binding.target.name is required")
    if (pod.get("spec") or {}).get("nodeName"):
        raise ConflictError(  # kube-apiserver's NewConflict on pods/binding
            f'Operation cannot be fulfilled on pods/binding "{route.name}": pod {route.name} is '
            f'already assigned to node "{pod["spec"]["nodeName"]}"',
            name=route.name,
            kind="pods/binding",
        )
    host.store.patch(
        "v1", "Pod", route.name, {"spec": {"nodeName": target}}, "merge", route.namespace
    )
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}
    await host.respond(req.send, 201, _ENC.encode(body))
    return 201


async def token(host: Host, req: Request, route: Route, user: UserInfo) -> int:
    """POST a TokenRequest: a bearer token that authenticates as the service account."""
    request = _posted(host, req, _TOKEN_REQUEST)
    account = _live(host, route)
    spec = dict(request.get("spec") or {})
    seconds = int(spec.get("expirationSeconds") or 3600)
    check_expiration(seconds)
    bound = bound_object(host.store, route.namespace, route.name, spec.get("boundObjectRef"))
    now = host.store.clock.now()
    expires = now + timedelta(seconds=seconds)
    # The request as the field manager saw it, before the token's defaults were filled in.
    asked = {**request, "metadata": dict(request.get("metadata") or {})}
    manager = field_manager_of(req, "CreateOptions")
    track_request(
        "authentication.k8s.io", "v1", "TokenRequest", "token", asked, manager, rfc3339(now)
    )
    spec.setdefault("audiences", [ISSUER])
    spec["expirationSeconds"] = seconds
    spec.setdefault("boundObjectRef", None)
    uid = str(account["metadata"].get("uid", ""))
    claims = token_claims(
        route.namespace,
        (route.name, uid),
        list(spec["audiences"]),
        (now, expires),
        bound,
        node=bound_node(host.store, bound),
    )
    issued = host.tokens.issuer.sign(claims)
    bound_to = None if bound is None else bound_reference(bound)
    binding = TokenBinding(route.namespace, route.name, uid, bound_to, expires)
    authenticated = service_account_user(
        route.namespace, route.name, uid=uid, extra=user_extra(claims)
    )
    host.tokens.add(issued, authenticated, binding)
    meta: dict[str, Any] = {
        "name": route.name,
        "namespace": route.namespace,
        "uid": uid,  # the service account's: the token is bound to that very account
        "creationTimestamp": rfc3339(now),
    }
    if asked["metadata"].get("managedFields"):
        meta["managedFields"] = asked["metadata"]["managedFields"]
    answer = {
        "kind": "TokenRequest",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": meta,
        "spec": spec,
        "status": {"token": issued, "expirationTimestamp": rfc3339(expires)},
    }
    await host.respond(req.send, 201, _ENC.encode(answer))
    return 201


async def ephemeral_containers(host: Host, req: Request, route: Route, user: UserInfo) -> int:
    """GET, PUT or PATCH a pod through pods/ephemeralcontainers (`kubectl debug`): only its
    spec.ephemeralContainers are written, added to and never changed (pod_rules)."""
    info, live = route.info, _live(host, route)
    if req.method == "GET":
        await host.respond(req.send, 200, _ENC.encode(live))
        return 200
    dry_run = "All" in req.query.get("dryRun", [])
    if req.method == "PUT":
        pod = decode_typed_body(req.body or b"{}", info, host.store.registry)
        manager = field_manager_of(req, "UpdateOptions")
        written = host.store.replace(
            pod, subresource=route.subresource, dry_run=dry_run, strict=True, field_manager=manager
        )
    else:
        patch_type = PATCH_TYPES.get(req.header(b"content-type").split(";")[0].strip())
        if patch_type is None or patch_type == "apply":
            raise unsupported_patch_media_type()
        check_patch_syntax(req.body, patch_type)
        written = host.store.patch(
            info.api_version,
            info.plural,
            route.name,
            req.body,
            cast(PatchType, patch_type),
            route.namespace or None,
            route.subresource,
            dry_run=dry_run,
            strict=True,
            field_manager=field_manager_of(req, "PatchOptions"),
        )
    await host.respond(req.send, 200, _ENC.encode(written))
    return 200


SUBRESOURCES: dict[str, Handler] = {
    "scale": scale,
    "ephemeralcontainers": ephemeral_containers,
    "eviction": eviction,
    "binding": binding,
    "token": token,
}
# Resources that are verbs on another kind's objects, or made on each read, by (group, resource).
ACTIONS: dict[tuple[str, str], Handler] = {
    ("", "bindings"): bindings,
    ("", "componentstatuses"): component_statuses,
}
