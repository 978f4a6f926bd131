"""Reviews asked on someone else's behalf: SubjectAccessReview and LocalSubjectAccessReview (what
the named user and groups may do, answered by the fake API's own RBAC authorizer) and
TokenReview (who a bearer token is, answered from the fake API's token book). Operators and
webhook servers ask them (controller-runtime's authn/authz filters, kube-rbac-proxy); who may ask
is RBAC's business (system:auth-delegator in the stored bootstrap policy), checked before this.

The checks and words are kube-apiserver v1.37's (pkg/apis/authorization/validation,
pkg/registry/authentication/tokenreview), compared with a real one by
tests/integration/test_fake_api_vs_apiserver_platform.py.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from simulator.api.issuer_discovery import ISSUER
from simulator.api.kinds import KindInfo
from simulator.api.rbac import TokenBook, UserInfo
from simulator.api.store.errors import InvalidError
from simulator.api.token_requests import user_extra

__all__ = ["SUBJECT_REVIEWS", "check_access_review", "subject_of", "token_review_status"]

SUBJECT_REVIEWS = frozenset({"subjectaccessreviews", "localsubjectaccessreviews", "tokenreviews"})
# The API server's own audience (`--api-audiences`, defaulting to its issuer): what a token
# review without audiences checks against.
_API_AUDIENCES = (ISSUER,)


def _go_value(value: Any) -> str:
    """A field value as apimachinery's field.Invalid prints it: a string quoted, a Go struct
    (NonResourceAttributes) with its Go field names, an absent one as null."""
    if value is None:
        return "null"
    if isinstance(value, dict):
        go = {key[:1].upper() + key[1:]: v for key, v in sorted(value.items())}
        return json.dumps(go, separators=(",", ":"))
    return json.dumps(value)


def check_access_review(info: KindInfo, obj: dict[str, Any]) -> None:
    """kube-apiserver's 422 for a (Local)SubjectAccessReview it would not answer."""
    spec = obj.get("spec") or {}
    resource, url = spec.get("resourceAttributes"), spec.get("nonResourceAttributes")
    errors: list[tuple[str, str, str]] = []
    if (resource is None) == (url is None):
        message = "exactly one of nonResourceAttributes or resourceAttributes must be specified"
        errors.append(("spec", _go_value(url), message))
    if not spec.get("user") and not spec.get("groups"):
        errors.append(("spec.user", '""', "at least one of user or group must be specified"))
    if info.plural == "localsubjectaccessreviews":
        if url is not None:
            errors.append(
                ("spec.nonResourceAttributes", _go_value(url), "disallowed on this kind of request")
            )
        namespace = (obj.get("metadata") or {}).get("namespace") or ""
        if resource is not None and (resource.get("namespace") or "") != namespace:
            errors.append(
                (
                    "spec.resourceAttributes.namespace",
                    _go_value(resource.get("namespace") or ""),
                    "must match metadata.namespace",
                )
            )
    if errors:
        raise _invalid(info, errors)


def _invalid(info: KindInfo, errors: list[tuple[str, str, str]]) -> InvalidError:
    """One 422 naming every error, several in brackets, as kube-apiserver aggregates them."""
    lines = [f"{field}: Invalid value: {value}: {why}" for field, value, why in errors]
    summary = lines[0] if len(lines) == 1 else f"[{', '.join(lines)}]"
    causes = [
        {"reason": "FieldValueInvalid", "message": f"Invalid value: {value}: {why}", "field": field}
        for field, value, why in errors
    ]
    # kube-apiserver names the kind from the decoded review, whose kind decoding has cleared:
    # `.authorization.k8s.io "" is invalid`, no kind in the details (kubectl: "The request is
    # invalid").
    return InvalidError(f'.{info.group} "" is invalid: {summary}', group=info.group, causes=causes)


def subject_of(spec: dict[str, Any]) -> UserInfo:
    """The user a review asks about: exactly the name and groups it gives (kube-apiserver adds
    none, not even system:authenticated)."""
    return UserInfo(str(spec.get("user") or ""), tuple(str(g) for g in spec.get("groups") or ()))


def _claims(token: str) -> dict[str, Any]:
    """The payload of a service-account JWT the token book already accepted; {} for the
    static tokens (the admin's, `issue_user_token`'s), which are no JWTs."""
    parts = token.split(".")
    if len(parts) != 3:  # header, payload, signature
        return {}
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError):
        return {}
    return payload if isinstance(payload, dict) else {}


def token_review_status(tokens: TokenBook, spec: dict[str, Any]) -> dict[str, Any]:
    """A TokenReview's status: the user the token authenticates as, or kube-apiserver's error."""
    token = str(spec.get("token") or "")
    user = tokens.lookup(token) if token else None
    if user is None:
        return {"user": {}, "error": "invalid bearer token"}
    claims = _claims(token)
    token_audiences = [str(a) for a in claims.get("aud") or _API_AUDIENCES]
    wanted = [str(a) for a in spec.get("audiences") or _API_AUDIENCES]
    shared = [a for a in wanted if a in token_audiences]
    if not shared:
        quoted = " ".join(json.dumps(a) for a in token_audiences)
        targets = " ".join(json.dumps(a) for a in wanted)
        return {
            "user": {},
            "error": f"[invalid bearer token, token audiences [{quoted}] is invalid for the "
            f"target audiences [{targets}]]",
        }
    answer: dict[str, Any] = {"username": user.name}
    # A service account's uid: the JWT names it; `issue_token`'s opaque tokens, their binding.
    account = (claims.get("kubernetes.io") or {}).get("serviceaccount") or {}
    with tokens.lock:
        binding = tokens.bindings.get(token)
    uid = account.get("uid") or (binding.account_uid if binding is not None else "")
    if uid:
        answer["uid"] = str(uid)
    answer["groups"] = list(user.groups)
    if extra := user_extra(claims):
        answer["extra"] = extra
    return {"authenticated": True, "user": answer, "audiences": shared}
