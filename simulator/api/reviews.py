"""Self-subject reviews, which every authenticated user may ask: `kubectl auth can-i` (access and
rules reviews) and `kubectl auth whoami` (SelfSubjectReview)."""

from __future__ import annotations

from typing import Any

import msgspec

from simulator.api.asgi import Host, Send
from simulator.api.kinds import KindInfo
from simulator.api.rbac import RequestAttributes, UserInfo, authorize, rules_review

__all__ = ["review"]

_ENC = msgspec.json.Encoder()


async def review(
    host: Host, send: Send, user: UserInfo, info: KindInfo, obj: dict[str, Any]
) -> int:
    """Answer a self-subject review for `user` from the RBAC objects in the store."""
    spec = obj.get("spec") or {}
    if info.plural == "selfsubjectreviews":
        obj["status"] = {"userInfo": {"username": user.name, "groups": list(user.groups)}}
        obj.setdefault("metadata", {})["creationTimestamp"] = None
        await host.respond(send, 201, _ENC.encode(obj))
        return 201
    if info.plural == "selfsubjectrulesreviews":
        obj["status"] = rules_review(host.store, user, str(spec.get("namespace") or ""))
        obj.setdefault("metadata", {})["creationTimestamp"] = None
        await host.respond(send, 201, _ENC.encode(obj))
        return 201
    attrs_in = spec.get("resourceAttributes")
    if attrs_in is None:
        allowed = True  # non-resource URLs (discovery, /version) are open to every user
    else:
        plural = str(attrs_in.get("resource", ""))
        allowed = authorize(
            host.store,
            user,
            RequestAttributes(
                verb=str(attrs_in.get("verb", "")),
                group=str(attrs_in.get("group", "")),
                resource=plural,
                subresource=str(attrs_in.get("subresource", "")),
                namespace=str(attrs_in.get("namespace", "")),
                name=str(attrs_in.get("name", "")),
            ),
        )
    obj["status"] = {"allowed": allowed}
    if allowed:
        obj["status"]["reason"] = "allowed by system:masters" if user.admin else "allowed by RBAC"
    obj.setdefault("metadata", {})["creationTimestamp"] = None
    await host.respond(send, 201, _ENC.encode(obj))
    return 201
