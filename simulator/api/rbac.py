"""Bearer-token users and RBAC authorisation from the Roles and bindings in the store."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from simulator.api.issuer_discovery import TokenIssuer
from simulator.api.rbac_index import Grant, first_granting, grants
from simulator.api.store import ObjectStore

__all__ = [
    "ADMIN",
    "RequestAttributes",
    "TokenBinding",
    "TokenBook",
    "UserInfo",
    "allowed_by",
    "authorize",
    "forbidden_message",
    "privileged",
    "rules_review",
    "service_account_user",
]


@dataclass(frozen=True)
class UserInfo:
    """An authenticated caller."""

    name: str
    groups: tuple[str, ...] = ()
    admin: bool = False
    # An impersonated user's uid and extras (`--as-uid`, `--as-user-extra`), as asked.
    uid: str = ""
    extra: tuple[tuple[str, tuple[str, ...]], ...] = ()


class RequestAttributes(NamedTuple):
    """What a request wants to do, in RBAC terms: a resource, or a non-resource URL (`path`).

    A NamedTuple (immutable, built at a third of a frozen dataclass's cost: every request).
    """

    verb: str
    group: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    path: str = ""


def _rule_matches(rule: dict[str, Any], attrs: RequestAttributes) -> bool:
    verbs = rule.get("verbs") or []
    if "*" not in verbs and attrs.verb not in verbs:
        return False
    if attrs.path:  # a URL matches exactly, or by a prefix ending in `*`
        return any(
            url == attrs.path or (url.endswith("*") and attrs.path.startswith(url[:-1]))
            for url in rule.get("nonResourceURLs") or []
        )
    groups = rule.get("apiGroups") or []
    if "*" not in groups and attrs.group not in groups:
        return False
    combined = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
    resources = rule.get("resources") or []
    if not any(
        r in ("*", combined) or (attrs.subresource and r == f"*/{attrs.subresource}")
        for r in resources
    ):
        return False
    names = rule.get("resourceNames") or []
    return not names or attrs.name in names


def authorize(store: ObjectStore, user: UserInfo, attrs: RequestAttributes) -> bool:
    """True when the user may do `attrs` under the RBAC objects currently in the store."""
    return privileged(user) or allowed_by(store, user, attrs) is not None


def privileged(user: UserInfo) -> bool:
    """system:masters, which kube-apiserver allows everything before RBAC is asked."""
    return user.admin or "system:masters" in user.groups


def allowed_by(store: ObjectStore, user: UserInfo, attrs: RequestAttributes) -> str | None:
    """RBAC's reason for allowing `attrs` (the first binding whose role grants it), or None.

    Everything, self-reviews and discovery included, is granted by the stored policy
    (system:basic-user, system:discovery, ... bound to system:authenticated).
    """

    def allows(grant: Grant) -> bool:
        return any(_rule_matches(rule, attrs) for rule in grant.rules)

    caller = (user.name, user.groups)
    grant = first_granting(store, caller, attrs, attrs.namespace, allows)
    return None if grant is None else f"RBAC: allowed by {grant.source}"


def forbidden_message(user: UserInfo, attrs: RequestAttributes) -> str:
    """The API server's wording for a 403."""
    if attrs.path:
        return f'forbidden: User "{user.name}" cannot {attrs.verb} path "{attrs.path}"'
    resource = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
    label = attrs.resource if not attrs.group else f"{attrs.resource}.{attrs.group}"
    subject = f'{label} "{attrs.name}"' if attrs.name else label
    scope = f'in the namespace "{attrs.namespace}"' if attrs.namespace else "at the cluster scope"
    return (
        f'{subject} is forbidden: User "{user.name}" cannot {attrs.verb} resource "{resource}" '
        f'in API group "{attrs.group}" {scope}'
    )


@dataclass(frozen=True)
class TokenBinding:
    """What a ServiceAccount token is bound to, as kube-apiserver checks it on every request:
    the account (by uid: one deleted and made again is another), the object a TokenRequest
    bound it to (kind, name, uid), and when it expires on the cluster's clock."""

    namespace: str
    account: str
    account_uid: str
    bound: tuple[str, str, str] | None = None
    expires: datetime | None = None


@dataclass
class TokenBook:
    """Bearer tokens -> users. The admin token has every right; others go through RBAC, and a
    bound ServiceAccount token only while what it is bound to lives (`store`: where to look)."""

    admin_token: str
    users: dict[str, UserInfo] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    store: ObjectStore | None = None
    bindings: dict[str, TokenBinding] = field(default_factory=dict)
    # Signs the tokens issued here and publishes the key that verifies them.
    issuer: TokenIssuer = field(default_factory=TokenIssuer)

    def lookup(self, token: str) -> UserInfo | None:
        """The user a token belongs to, or None (401)."""
        if token == self.admin_token:
            return ADMIN
        with self.lock:
            user, binding = self.users.get(token), self.bindings.get(token)
        if user is None or binding is None or self.store is None:
            return user
        return user if _still_bound(self.store, binding) else None

    def add(self, token: str, user: UserInfo, binding: TokenBinding | None = None) -> None:
        """Register another token (bound: valid only while `binding` holds)."""
        with self.lock:
            self.users[token] = user
            if binding is not None:
                self.bindings[token] = binding


def _still_bound(store: ObjectStore, binding: TokenBinding) -> bool:
    """kube-apiserver's checks of a bound token: not expired, its account and its bound object
    still the ones it was issued for (same uid), a bound pod not past its deletion."""
    if binding.expires is not None and store.clock.now() >= binding.expires:
        return False
    account = store.get("v1", "serviceaccounts", binding.account, binding.namespace)
    if account is None or account["metadata"].get("uid") != binding.account_uid:
        return False
    if binding.bound is None:
        return True
    resource, name, uid = binding.bound
    scope = None if resource == "nodes" else binding.namespace
    bound = store.get("v1", resource, name, scope)
    if bound is None or bound["metadata"].get("uid") != uid:
        return False
    deleted = bound["metadata"].get("deletionTimestamp")
    return not deleted or datetime.fromisoformat(str(deleted)) > store.clock.now()


ADMIN = UserInfo("admin", ("system:masters", "system:authenticated"), admin=True)


def service_account_user(
    namespace: str, name: str, *, uid: str = "", extra: dict[str, list[str]] | None = None
) -> UserInfo:
    """The user a service account's tokens authenticate as: its uid, and what its token says
    of itself (id, bound pod and node) as extras, when they are known."""
    return UserInfo(
        f"system:serviceaccount:{namespace}:{name}",
        ("system:serviceaccounts", f"system:serviceaccounts:{namespace}", "system:authenticated"),
        uid=uid,
        extra=tuple((key, tuple(values)) for key, values in sorted((extra or {}).items())),
    )


def rules_review(store: ObjectStore, user: UserInfo, namespace: str) -> dict[str, Any]:
    """The status of a SelfSubjectRulesReview: what `user` may do in `namespace`.

    Only RBAC lists rules (kube-apiserver's privileged-group authorizer lists none), so
    system:masters sees cluster-admin's through the bootstrap binding, as on a real cluster.
    """
    resource_rules: list[dict[str, Any]] = []
    non_resource: list[dict[str, Any]] = []
    for rule in _granted_rules(store, user, namespace):
        if rule.get("nonResourceURLs"):  # the stored list: the status is encoded, never kept
            non_resource.append(
                {"verbs": list(rule.get("verbs") or []), "nonResourceURLs": rule["nonResourceURLs"]}
            )
        else:
            resource_rules.append(_rule_entry(rule))
    return {"resourceRules": resource_rules, "nonResourceRules": non_resource, "incomplete": False}


def _rule_entry(rule: dict[str, Any]) -> dict[str, Any]:
    entry = {k: list(rule.get(k) or []) for k in ("verbs", "apiGroups", "resources")}
    if rule.get("resourceNames"):
        entry["resourceNames"] = list(rule["resourceNames"])
    return entry


def _granted_rules(store: ObjectStore, user: UserInfo, namespace: str) -> Iterable[dict[str, Any]]:
    for grant in _grants(store, user, namespace):
        yield from grant.rules


def _grants(store: ObjectStore, user: UserInfo, namespace: str) -> tuple[Grant, ...]:
    """The bindings naming `user`, in kube-apiserver's order (see rbac_index)."""
    return grants(store, user.name, user.groups, namespace)
