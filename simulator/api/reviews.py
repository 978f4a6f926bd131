"""The reviews: self-subject ones, which every authenticated user may ask (`kubectl auth can-i`:
access and rules reviews; `kubectl auth whoami`: SelfSubjectReview), and those asked about
another user or token (`subject_reviews.py`), which RBAC grants to few."""

from __future__ import annotations

from typing import Any

import msgspec

from simulator.api.asgi import Host, Send
from simulator.api.fields.kinds import track_request
from simulator.api.kinds import KindInfo
from simulator.api.rbac import RequestAttributes, UserInfo, allowed_by, privileged, rules_review
from simulator.api.subject_reviews import check_access_review, subject_of, token_review_status
from simulator.clock import rfc3339

__all__ = ["review"]

_ENC = msgspec.json.Encoder()


async def review(  # noqa: PLR0917 - the request, who asked, and what
    host: Host, send: Send, user: UserInfo, info: KindInfo, obj: dict[str, Any], manager: str
) -> int:
    """Answer a review (`user` asked it) from the RBAC objects and tokens the fake API has."""
    spec = obj.get("spec") or {}
    # A review is typed like any answer, and never stored, so it has no creation time.
    obj["apiVersion"], obj["kind"] = info.api_version, info.kind
    obj.setdefault("metadata", {}).pop("creationTimestamp", None)
    if info.plural == "selfsubjectreviews":  # a new object, stamped, without a spec
        answer = {
            "kind": info.kind,
            "apiVersion": info.api_version,
            "metadata": {"creationTimestamp": rfc3339(host.store.clock.now())},
            "status": {"userInfo": _user_info(user)},
        }
        await host.respond(send, 201, _ENC.encode(answer))
        return 201
    if info.plural == "selfsubjectrulesreviews":  # a new object: the spec is not echoed
        obj["spec"] = {}
        obj["status"] = rules_review(host.store, user, str(spec.get("namespace") or ""))
        await host.respond(send, 201, _ENC.encode(obj))
        return 201
    # An access review answers with the body it was sent, managedFields included.
    now = rfc3339(host.store.clock.now())
    track_request(info.group, info.version, info.kind, "", obj, manager, now)
    if info.plural == "tokenreviews":
        obj["status"] = token_review_status(host.tokens, spec)
        await host.respond(send, 201, _ENC.encode(obj))
        return 201
    if info.plural != "selfsubjectaccessreviews":  # asked about the subject the spec names
        check_access_review(info, obj)
        user = subject_of(spec)
    attrs_in = spec.get("resourceAttributes")
    if attrs_in is None:  # a non-resource URL (discovery, /version, /healthz, ...)
        url = spec.get("nonResourceAttributes") or {}
        attrs = RequestAttributes(verb=str(url.get("verb", "")), path=str(url.get("path", "")))
    else:
        attrs = RequestAttributes(
            verb=str(attrs_in.get("verb", "")),
            group=str(attrs_in.get("group", "")),
            resource=str(attrs_in.get("resource", "")),
            subresource=str(attrs_in.get("subresource", "")),
            namespace=str(attrs_in.get("namespace", "")),
            name=str(attrs_in.get("name", "")),
        )
    # system:masters is allowed before any authorizer is asked, so without a reason; RBAC
    # names the binding that allows.
    reason = None if privileged(user) else allowed_by(host.store, user, attrs)
    obj["status"] = {"allowed": privileged(user) or reason is not None}
    if reason is not None:
        obj["status"]["reason"] = reason
    await host.respond(send, 201, _ENC.encode(obj))
    return 201


def _user_info(user: UserInfo) -> dict[str, Any]:
    """authentication/v1 UserInfo, in its fields' order (uid and extra omitted when empty)."""
    info: dict[str, Any] = {"username": user.name}
    if user.uid:
        info["uid"] = user.uid
    info["groups"] = list(user.groups)
    if user.extra:
        info["extra"] = {key: list(values) for key, values in sorted(user.extra)}
    return info
