"""RBAC's bindings filed by the users and groups they name, kept until a binding or role changes.

kube-apiserver's RBAC authorizer visits every ClusterRoleBinding, then every RoleBinding of the
request's namespace, and grants by the first whose subject is the caller and whose role has a
matching rule. With the bootstrap policy stored (54 ClusterRoleBindings), visiting them all and
copying each granting role cost about 90 µs a request. Here each binding is filed under the user
or group each of its subjects names (a ServiceAccount under its user name,
`system:serviceaccount:<namespace>:<name>`), with the words kube-apiserver's allow reason names it
by and its role's rules as stored; a request reads only what is filed under its user and groups,
in the authorizer's order, and which of those first allows a request it asks again (a status
poll, a controller's writes) is remembered. Bindings and roles change rarely and requests come all
the time, so any change to either drops everything filed and remembered, and the next request files
the store's objects again.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any

from simulator.api.store import ObjectStore

__all__ = ["Caller", "Grant", "first_granting", "grants"]

_GROUP = "rbac.authorization.k8s.io"
_RBAC = f"{_GROUP}/v1"
_KINDS = frozenset({"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"})
# Namespaces, callers and requests are named by clients: past this many of each, what is
# remembered starts afresh, so that a client naming ever new ones cannot grow it without bound.
_MEMO_LIMIT = 1024

Rules = list[dict[str, Any]]
Caller = tuple[str, tuple[str, ...]]  # a user's name and groups


@dataclass(frozen=True, slots=True)
class Grant:
    """A binding naming a caller: how the allow reason names it, and its role's stored rules."""

    source: str
    rules: Rules  # the stored role's rules themselves: read-only, like every stored object


def grants(
    store: ObjectStore, name: str, groups: tuple[str, ...], namespace: str
) -> tuple[Grant, ...]:
    """The bindings naming user `name` or one of `groups`: ClusterRoleBindings, then the
    RoleBindings of `namespace` (when given), each by name, as kube-apiserver visits them."""
    return _index_of(store).current(store).grants(store, (name, groups), namespace)


def first_granting(
    store: ObjectStore,
    caller: Caller,
    request: Hashable,
    namespace: str,
    allows: Callable[[Grant], bool],
) -> Grant | None:
    """The first of `grants` that `allows` the request, remembered until the next RBAC change.

    `request` is what `allows` decides by (the request's attributes, its namespace among them):
    a caller asks the same few things again and again (a status poll, a controller's writes).
    """
    filed = _index_of(store).current(store)
    key = (caller, request)
    try:
        return filed.decisions[key]
    except KeyError:
        pass
    found = next((g for g in filed.grants(store, caller, namespace) if allows(g)), None)
    _remember(filed.decisions, key, found)
    return found


@dataclass(frozen=True, slots=True)
class _Entry:
    binding: int  # its place among the scope's bindings
    subject: int  # its place among the binding's subjects
    grant: Grant


class _Scope:
    """One scope's bindings (the cluster's, or one namespace's) by the caller they name."""

    def __init__(self, bindings: list[dict[str, Any]], namespace: str, roles: _Roles) -> None:
        self._by_user: dict[str, list[_Entry]] = {}
        self._by_group: dict[str, list[_Entry]] = {}
        self._memo: dict[Caller, tuple[Grant, ...]] = {}
        for place, binding in enumerate(bindings):
            # A lenient write may store anything: a malformed binding grants nothing, and
            # must not fail every request (filing reads all bindings, not only the caller's).
            ref = binding.get("roleRef")
            ref = ref if isinstance(ref, dict) else {}
            rules = roles.rules(ref, namespace)
            subjects = binding.get("subjects")
            for order, subject in enumerate(subjects if isinstance(subjects, list) else []):
                if isinstance(subject, dict) and (key := _filed_under(subject, namespace)):
                    source = _source(binding, ref, subject, namespace)
                    where = self._by_user if key[0] == "user" else self._by_group
                    where.setdefault(key[1], []).append(_Entry(place, order, Grant(source, rules)))

    def grants(self, caller: Caller) -> tuple[Grant, ...]:
        """Each binding naming the caller once, by its first subject that does, in order."""
        known = self._memo.get(caller)
        if known is not None:
            return known
        name, groups = caller
        first: dict[int, _Entry] = {}
        for entries in (self._by_user.get(name, ()), *(self._by_group.get(g, ()) for g in groups)):
            for entry in entries:
                seen = first.get(entry.binding)
                if seen is None or entry.subject < seen.subject:
                    first[entry.binding] = entry
        found = tuple(first[place].grant for place in sorted(first))
        _remember(self._memo, caller, found)
        return found


def _filed_under(subject: dict[str, Any], namespace: str) -> tuple[str, str] | None:
    """("user", name) or ("group", name): whom the subject names, as the authorizer matches it."""
    kind, name = subject.get("kind"), subject.get("name")
    if kind == "ServiceAccount":  # a subject without a namespace means the binding's
        return "user", f"system:serviceaccount:{subject.get('namespace') or namespace}:{name}"
    if kind in ("User", "Group") and isinstance(name, str):
        return ("user" if kind == "User" else "group"), name
    return None


@dataclass(frozen=True, slots=True)
class _Roles:
    """The stored rules of the ClusterRoles and of the Roles of the namespace being filed."""

    cluster: dict[str, Rules]
    local: dict[str, Rules]

    def rules(self, ref: Mapping[str, Any], namespace: str) -> Rules:
        """A roleRef's rules: a ClusterRoleBinding's always name a ClusterRole; a RoleBinding's
        a ClusterRole or a Role of its namespace. A missing role grants nothing."""
        by_name = self.cluster if not namespace or ref.get("kind") == "ClusterRole" else self.local
        return by_name.get(str(ref.get("name")), [])


def _rules_by_name(store: ObjectStore, kind: str, namespace: str | None) -> dict[str, Rules]:
    roles, _ = store.list_refs(store.kind_info(_RBAC, kind), namespace=namespace)
    return {str(r["metadata"]["name"]): _listed(r.get("rules")) for r in roles}


def _listed(rules: Any) -> Rules:
    return [rule for rule in rules if isinstance(rule, dict)] if isinstance(rules, list) else []


def _bindings(store: ObjectStore, kind: str, namespace: str | None) -> list[dict[str, Any]]:
    """The stored bindings (read-only, not copied), by name."""
    return store.list_refs(store.kind_info(_RBAC, kind), namespace=namespace)[0]


class _Filed:
    """Everything filed from one state of the store's RBAC objects; namespaces when first asked."""

    def __init__(self, store: ObjectStore, generation: int) -> None:
        self.generation = generation
        self._cluster_roles = _rules_by_name(store, "ClusterRole", None)
        roles = _Roles(self._cluster_roles, {})
        self.cluster = _Scope(_bindings(store, "ClusterRoleBinding", None), "", roles)
        self._namespaces: dict[str, _Scope] = {}
        self.decisions: dict[tuple[Caller, Hashable], Grant | None] = {}

    def grants(self, store: ObjectStore, caller: Caller, namespace: str) -> tuple[Grant, ...]:
        found = self.cluster.grants(caller)
        if namespace:
            found = found + self.namespace(store, namespace).grants(caller)
        return found

    def namespace(self, store: ObjectStore, namespace: str) -> _Scope:
        scope = self._namespaces.get(namespace)
        if scope is None:
            roles = _Roles(self._cluster_roles, _rules_by_name(store, "Role", namespace))
            scope = _Scope(_bindings(store, "RoleBinding", namespace), namespace, roles)
            _remember(self._namespaces, namespace, scope)
        return scope


class _Index:
    """What is filed for one store, dropped on each change to its RBAC objects.

    The store tells its subscribers of a change after storing it, so a change heard after
    `current` read the generation it files under makes the next request file again; filing
    reads the store after reading the generation, so nothing heard before is missed. Holds no
    reference to the store (the store holds it, through its subscription).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._generation = 0
        self._filed: _Filed | None = None

    def changed(self, _event_type: str, _obj: dict[str, Any]) -> None:
        """A role or binding changed (the store asks `_is_rbac` first)."""
        with self._lock:
            self._generation += 1

    def current(self, store: ObjectStore) -> _Filed:
        with self._lock:
            filed, generation = self._filed, self._generation
        if filed is not None and filed.generation == generation:
            return filed
        filed = _Filed(store, generation)
        with self._lock:
            if self._generation == generation:
                self._filed = filed
        return filed


_indexes: weakref.WeakKeyDictionary[ObjectStore, _Index] = weakref.WeakKeyDictionary()
_indexes_lock = threading.Lock()


def _index_of(store: ObjectStore) -> _Index:
    index = _indexes.get(store)
    if index is None:
        with _indexes_lock:
            index = _indexes.get(store)
            if index is None:
                index = _indexes[store] = _Index()
                store.changes.subscribe(index.changed, wants=_is_rbac)
    return index


def _is_rbac(_event_type: str, obj: dict[str, Any]) -> bool:
    """A change of a role or binding (the stored object's group is the one asked for)."""
    return obj.get("kind") in _KINDS and str(obj.get("apiVersion", "")).startswith(f"{_GROUP}/")


def _remember(memo: dict[Any, Any], key: Any, value: Any) -> None:
    if len(memo) >= _MEMO_LIMIT:
        memo.clear()
    memo[key] = value


# rbac/validation's describers, word for word: `ClusterRole "view"`, `ServiceAccount "sa/ns"`.
def _source(
    binding: dict[str, Any], ref: Mapping[str, Any], subject: dict[str, Any], namespace: str
) -> str:
    """`ClusterRoleBinding "crb" of ClusterRole "role" to Group "g"`, `RoleBinding "rb/ns" ...`."""
    name = str(binding["metadata"]["name"])
    kind, label = (
        ("RoleBinding", f"{name}/{namespace}") if namespace else ("ClusterRoleBinding", name)
    )
    role = f"{ref.get('kind')} {_quoted(str(ref.get('name')))}"
    return f"{kind} {_quoted(label)} of {role} to {_who(subject, namespace)}"


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _who(subject: dict[str, Any], binding_namespace: str) -> str:
    name = str(subject.get("name"))
    if subject.get("kind") == "ServiceAccount":
        name = f"{name}/{subject.get('namespace') or binding_namespace}"
    return f"{subject.get('kind')} {_quoted(name)}"
