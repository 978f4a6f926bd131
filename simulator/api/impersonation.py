"""Impersonation (`kubectl --as`, `--as-group`, `--as-uid`): kube-apiserver's filter in front of
every request (k8s.io/apiserver/pkg/endpoints/filters/impersonation.go).

An admin checks what an account may do by acting as it (`kubectl auth can-i list secrets
--as=system:serviceaccount:appliance-system:appliance-status`); a fake API that ignored the
headers would answer for the admin, and say yes to everything. The requester must be allowed to
impersonate each thing it asks to be: the user (or the ServiceAccount), each group, the uid and
each extra value (in that order: user, uid, groups, extras), by v1.37's constrained checks or
the legacy `impersonate` verb, the requester's last successful mode first (so a refusal by both
names that mode's failed check). Then the request is the impersonated user's, groups as
kube-apiserver completes them.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import unquote

from simulator.api.rbac import RequestAttributes, UserInfo, authorize, forbidden_message
from simulator.api.store import ObjectStore
from simulator.api.store.errors import BadRequestError, ForbiddenError

__all__ = ["impersonated", "wants_impersonation"]

_USER = b"impersonate-user"
_GROUP = b"impersonate-group"
_UID = b"impersonate-uid"
_EXTRA = b"impersonate-extra-"
_SERVICE_ACCOUNT = "system:serviceaccount:"
_AUTHN = "authentication.k8s.io"
_ANONYMOUS = "system:anonymous"
_AUTHENTICATED = "system:authenticated"
_UNAUTHENTICATED = "system:unauthenticated"
# Per API server (its store): each requester's last successful mode.
_LAST_MODES: weakref.WeakKeyDictionary[ObjectStore, dict[str, str]] = weakref.WeakKeyDictionary()


def wants_impersonation(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """The request carries an `Impersonate-*` header (asked of every request: a plain loop
    over the names' first twelve bytes, without a generator or a lowered copy of each name)."""
    for name, _ in headers:  # noqa: SIM110 - any() over a generator costs half as much again
        if name[:12].lower() == b"impersonate-":
            return True
    return False


def impersonated(
    store: ObjectStore,
    requester: UserInfo,
    headers: Iterable[tuple[bytes, bytes]],
    action: RequestAttributes,
) -> UserInfo:
    """The user the request acts as; ForbiddenError when `requester` may not impersonate it.

    `action` is what the request does (a resource, or a path such as /version). Kubernetes
    1.37 first asks constrained impersonation (KEP-5284): `impersonate-on:<mode>:<verb>` on the
    action, then `impersonate:<mode>` on each identity, in authentication.k8s.io. When that
    fails it asks the legacy `impersonate` verb; when both fail, the 403 names the constrained
    check that failed."""
    asked = _asked(headers)
    service_account = _split_service_account(asked.user)
    constrained = "serviceaccount" if service_account is not None else "user-info"
    modes = {
        constrained: _constrained(asked, service_account, action),
        "legacy": _identities(asked, service_account),
    }
    # The mode this requester last impersonated with is tried first (modeIndexCache, keyed by
    # the requester's name): when every mode refuses, the first refusal is the one answered.
    last = _LAST_MODES.setdefault(store, {})
    order = sorted(modes, key=lambda mode: mode != last.get(requester.name))
    refusals: list[RequestAttributes] = []
    for mode in order:
        refused = _first_refused(store, requester, modes[mode])
        if refused is None:
            last[requester.name] = mode
            break
        refusals.append(refused)
    else:
        first = refusals[0]
        raise ForbiddenError(
            forbidden_message(requester, first),
            name=first.name,
            group=first.group,
            kind=first.resource,
        )
    groups = asked.groups
    if service_account is not None and not groups:
        # A ServiceAccount's groups are a fixed mapping: named for it when none are asked for.
        groups = ["system:serviceaccounts", f"system:serviceaccounts:{service_account[0]}"]
    extra: dict[str, list[str]] = {}
    for key, value in asked.extras:
        extra.setdefault(key, []).append(value)
    return UserInfo(
        asked.user,
        tuple(_completed(asked.user, groups)),
        uid=asked.uid,
        extra=tuple((key, tuple(values)) for key, values in extra.items()),
    )


@dataclass
class _Asked:
    """What the Impersonate-* headers ask for."""

    user: str = ""
    groups: list[str] = field(default_factory=list)
    uid: str = ""
    extras: list[tuple[str, str]] = field(default_factory=list)


def _asked(headers: Iterable[tuple[bytes, bytes]]) -> _Asked:
    asked = _Asked()
    for name, value in headers:
        lowered, text = name.lower(), value.decode("latin-1")
        if lowered == _USER and not asked.user:
            asked.user = text
        elif lowered == _GROUP:
            asked.groups.append(text)
        elif lowered == _UID and not asked.uid:
            asked.uid = text
        elif lowered.startswith(_EXTRA):
            asked.extras.append((unquote(lowered[len(_EXTRA) :].decode("latin-1")), text))
    if not asked.user:
        raise BadRequestError(f"requested {_go_user_info(asked)} without impersonating a user name")
    return asked


def _constrained(
    asked: _Asked, service_account: tuple[str, str] | None, action: RequestAttributes
) -> list[RequestAttributes]:
    """The action first, then each identity; all identities in authentication.k8s.io."""
    mode = "user-info" if service_account is None else "serviceaccount"
    identities = [
        check._replace(verb=f"impersonate:{mode}", group=_AUTHN)
        for check in _identities(asked, service_account)
    ]
    return [action._replace(verb=f"impersonate-on:{mode}:{action.verb}"), *identities]


def _identities(asked: _Asked, service_account: tuple[str, str] | None) -> list[RequestAttributes]:
    """The legacy checks: `impersonate` on the user (or ServiceAccount), the uid (in
    authentication.k8s.io), each group (core), each extra value (authentication.k8s.io)."""
    if service_account is not None:
        namespace, account = service_account
        checks = [_acting_as("serviceaccounts", account, namespace=namespace)]
    else:
        checks = [_acting_as("users", asked.user)]
    if asked.uid:  # the mode's order: user, uid, groups, extras (impersonation/mode.go)
        checks.append(_acting_as("uids", asked.uid, group=_AUTHN))
    checks.extend(_acting_as("groups", group) for group in asked.groups)
    checks.extend(
        _acting_as("userextras", value, group=_AUTHN, subresource=key)
        for key, value in asked.extras
    )
    return checks


def _first_refused(
    store: ObjectStore, requester: UserInfo, checks: list[RequestAttributes]
) -> RequestAttributes | None:
    return next((attrs for attrs in checks if not authorize(store, requester, attrs)), None)


def _acting_as(
    resource: str,
    name: str,
    *,
    namespace: str = "",
    group: str = "",
    subresource: str = "",
) -> RequestAttributes:
    return RequestAttributes(
        verb="impersonate",
        group=group,
        resource=resource,
        subresource=subresource,
        namespace=namespace,
        name=name,
    )


def _split_service_account(user_name: str) -> tuple[str, str] | None:
    """(namespace, name) of `system:serviceaccount:<namespace>:<name>`, else None."""
    if not user_name.startswith(_SERVICE_ACCOUNT):
        return None
    parts = user_name[len(_SERVICE_ACCOUNT) :].split(":")
    if len(parts) != 2 or not all(parts):
        return None
    return parts[0], parts[1]


def _completed(user_name: str, groups: list[str]) -> list[str]:
    """kube-apiserver adds system:authenticated (system:unauthenticated for the anonymous
    user) unless the groups asked for already say which one."""
    if user_name != _ANONYMOUS:
        if not {_AUTHENTICATED, _UNAUTHENTICATED} & set(groups):
            return [*groups, _AUTHENTICATED]
    elif _UNAUTHENTICATED not in groups:
        return [*groups, _UNAUTHENTICATED]
    return groups


def _go_user_info(asked: _Asked) -> str:
    """What was asked for, as kube-apiserver's 400 prints it (Go's `%#v` of a user.DefaultInfo)."""
    extras: dict[str, list[str]] = {}
    for key, value in asked.extras:
        extras.setdefault(key, []).append(value)
    extra = ", ".join(f"{json.dumps(key)}:{_go_strings(extras[key])}" for key in sorted(extras))
    return (
        f'&user.DefaultInfo{{Name:"", UID:{json.dumps(asked.uid)}, '
        f"Groups:{_go_strings(asked.groups)}, "
        f"Extra:{f'map[string][]string{{{extra}}}' if extras else 'map[string][]string(nil)'}}}"
    )


def _go_strings(values: list[str]) -> str:
    return f"[]string{{{', '.join(map(json.dumps, values))}}}" if values else "[]string(nil)"
