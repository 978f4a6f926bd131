"""kube-controller-manager's clusterrole-aggregation controller, which the fake API runs itself.

A ClusterRole with an `aggregationRule` (admin, edit, view, ...) holds no rules of its own: the
controller (pkg/controller/clusterroleaggregation) sets its `rules` to the rules of every other
ClusterRole its selectors match, taken by selector, then by role name, each distinct rule once,
and writes them with a forced server-side apply as `clusterrole-aggregation-controller`. This is
how CRD authors extend `view`: a ClusterRole labelled `rbac.authorization.k8s.io/
aggregate-to-view: "true"` adds its rules to view, edit and admin. The fake API has no
kube-controller-manager, so it follows the ClusterRoles itself; aggregated roles that match other
aggregated roles (admin takes edit's rules) settle after a few rounds, as the real one does.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from simulator.api.selectors import SelectorError, selector_from_match
from simulator.api.store import ConflictError, NotFoundError, ObjectStore

__all__ = ["MANAGER", "RoleAggregator", "settled_rules"]

MANAGER = "clusterrole-aggregation-controller"
_RBAC = "rbac.authorization.k8s.io/v1"


def _is_cluster_role(_event_type: str, obj: dict[str, Any]) -> bool:
    return obj.get("kind") == "ClusterRole"


def _sources(role: dict[str, Any], by_name: list[dict[str, Any]]) -> list[str]:
    """The roles `role`'s selectors match, by selector, then by name (syncClusterRole's loop)."""
    found: list[str] = []
    for match in (role.get("aggregationRule") or {}).get("clusterRoleSelectors") or []:
        try:
            selector = selector_from_match(match)
        except SelectorError:  # the controller gives up on a role it cannot select with
            continue
        found.extend(
            str(other["metadata"]["name"])
            for other in by_name
            if other is not role and selector.matches(other["metadata"].get("labels"))
        )
    return found


def _gathered(sources: list[str], rules: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The sources' rules in order, each distinct rule once."""
    gathered: list[dict[str, Any]] = []
    for name in sources:
        gathered.extend(r for r in rules[name] if r not in gathered)
    return gathered


class RoleAggregator:
    """Keeps every aggregated ClusterRole's rules as the controller would.

    Runs in the thread of the change it hears (the store calls its subscribers outside its
    lock); a change heard while another thread aggregates is left to that thread's next round,
    so each change is aggregated once, after it is stored.
    """

    def __init__(self, store: ObjectStore) -> None:
        self.store = store
        self._info = store.kind_info(_RBAC, "ClusterRole")
        self._unsubscribe: Callable[[], None] | None = None
        self._running = threading.Lock()
        self._dirty = False

    def start(self) -> None:
        """Follow the ClusterRoles, and aggregate those already there (the informers' list)."""
        if self._unsubscribe is None:
            self._unsubscribe = self.store.changes.subscribe(self._changed, wants=_is_cluster_role)
        self._changed("ADDED", {"kind": "ClusterRole"})

    def stop(self) -> None:
        """Stop following: the rules already written stay."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _changed(self, _event_type: str, _obj: dict[str, Any]) -> None:
        """A ClusterRole changed (the store asks `_is_cluster_role` first)."""
        self._dirty = True
        # Whoever holds the lock aggregates again before leaving; the check after release
        # catches a change heard between that thread's last round and its release.
        while self._dirty and self._running.acquire(blocking=False):
            try:
                while self._dirty:
                    self._dirty = False
                    self.sync()
            finally:
                self._running.release()

    def sync(self) -> None:
        """Write each aggregated role whose rules differ from what it settles on."""
        roles, _ = self.store.list_refs(self._info)
        for name, rules in settled_rules(roles).items():
            applied = {"apiVersion": _RBAC, "kind": "ClusterRole", "metadata": {"name": name}}
            try:
                self.store.patch(
                    _RBAC,
                    "ClusterRole",
                    name,
                    {**applied, "rules": rules},
                    "apply",
                    field_manager=MANAGER,
                    force=True,
                )
            except (ConflictError, NotFoundError):  # deleted meanwhile: nothing to keep
                continue


def settled_rules(roles: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Aggregated role name -> the rules it ends with, where they differ from its own.

    The controller reaches them in rounds (admin takes edit's rules once edit has view's);
    settling them here first writes each role once, which keeps a server's start cheap.
    """
    by_name = sorted(roles, key=lambda r: str(r["metadata"]["name"]))
    rules = {str(r["metadata"]["name"]): r.get("rules") or [] for r in by_name}
    aggregated = [r for r in by_name if r.get("aggregationRule")]
    sources = {str(r["metadata"]["name"]): _sources(r, by_name) for r in aggregated}
    own = {name: rules[name] for name in sources}
    # Each round only adds rules from a finite set, so it settles; the bound is for cycles.
    for _ in range(len(sources) + 1):
        changed = False
        for name, names in sources.items():
            gathered = _gathered(names, rules)
            if gathered != rules[name]:
                rules[name], changed = gathered, True
        if not changed:
            break
    return {name: rules[name] for name in sources if rules[name] != own[name]}
