"""A Flux object's view (GitRepository, Kustomization, HelmRelease): its Ready condition and
revision, and whether a Kustomization is only in kustomize-controller's routine reconcile of
what it applied (which an installed appliance sees every interval, and is no install)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from appliance.components import flux_component, is_foreign
from appliance.snapshot import RawObject, as_dict
from appliance.views import Condition, Ref, conditions_of, integer, ref_of, text

__all__ = ["FluxView", "flux_view", "with_dependency_holds"]


class FluxView(NamedTuple):
    """A Flux GitRepository, Kustomization or HelmRelease: its Ready condition and revision."""

    ref: Ref
    component: str
    ready_condition: Condition | None
    revision: str | None
    suspended: bool
    foreign: bool
    raw: RawObject
    # A Kustomization's revision it applied and still stands by (_settled_revision).
    settled_revision: str | None = None
    # A Kustomization in the interval's routine reconcile of the revision it applied, its
    # last health check not failed: Ready Unknown while it re-applies, or Ready False
    # DependencyNotReady while a dependency does (with_dependency_holds). Counts as Ready.
    routine_reconcile: bool = False

    @property
    def ready(self) -> bool | None:
        """True/False from the Ready condition; None when it is Unknown or absent."""
        cond = self.ready_condition
        return None if cond is None else {"True": True, "False": False}.get(cond.status or "")


def flux_view(obj: RawObject, kind: str) -> FluxView | None:
    """A Flux object's view; None without a name."""
    ref = ref_of(obj, kind)
    if ref is None:
        return None
    status = as_dict(obj.get("status"))
    revision = text(as_dict(status.get("artifact")).get("revision")) or text(
        status.get("lastAppliedRevision")
    )
    conditions = conditions_of(status)
    settled = _settled_revision(obj, conditions, status) if kind == "Kustomization" else None
    return FluxView(
        ref=ref,
        component=flux_component(kind, ref.name),
        ready_condition=conditions.get("Ready"),
        revision=revision,
        suspended=as_dict(obj.get("spec")).get("suspend") is True,
        foreign=is_foreign(ref.namespace),
        raw=obj,
        settled_revision=settled,
        routine_reconcile=settled is not None and _reapplying(conditions, settled),
    )


def _reapplying(conditions: Mapping[str, Condition], settled: str) -> bool:
    """kustomize-controller (v1.9.6) begins every reconcile with Ready Unknown, reason
    Progressing, and names the revision in Reconciling's message at each stage ('Fetching
    manifests for revision R with a timeout of T'): R being the revision it applied and
    stands by, this is the interval's routine re-apply."""
    ready, reconciling = conditions.get("Ready"), conditions.get("Reconciling")
    if ready is None or ready.status != "Unknown" or ready.reason != "Progressing":
        return False
    return reconciling is not None and f" for revision {settled} with " in (
        reconciling.message or ""
    )


def _settled_revision(
    obj: RawObject, conditions: Mapping[str, Condition], status: Mapping[str, Any]
) -> str | None:
    """The revision a Kustomization applied and still stands by: its last attempt was that
    revision, its spec has not changed since (observedGeneration is written when a reconcile
    ends Ready), and its last health check did not fail. None otherwise."""
    applied = text(status.get("lastAppliedRevision"))
    attempted = text(status.get("lastAttemptedRevision"))
    healthy = conditions.get("Healthy")
    if (
        applied is None
        or attempted not in (None, applied)
        or integer(status.get("observedGeneration"))
        != integer(as_dict(obj.get("metadata")).get("generation"))
        or (healthy is not None and healthy.status == "False")
    ):
        return None
    return applied


def with_dependency_holds(kustomizations: list[FluxView]) -> list[FluxView]:
    """The Kustomizations, those held only by a dependency's routine reconcile marked routine.

    kustomize-controller (v1.9.6, Reconcile) checks `dependsOn` before each reconcile, the
    interval's too: a dependency that is re-applying (Ready Unknown) fails the check, and the
    dependent is Ready False, DependencyNotReady, "dependency 'NS/NAME' is not ready", until its
    retry (--requeue-dependency, 30s by default), long after the dependency is Ready again.
    Seen on the real control plane (tests/integration/test_control_plane_bootstrap.py). Such a
    dependent still stands by the revision it applied, as its dependency does: the same
    routine, so it counts as Ready. A dependency that is not Ready and not routine, or that
    applied another revision (a new commit on its way down the chain), leaves it as it is.
    """
    by_name = {(view.ref.namespace, view.ref.name): view for view in kustomizations}
    found = True
    while found:  # a chain holds link by link (background on core on platform)
        found = False
        for key, view in by_name.items():
            if not view.routine_reconcile and _held_by_routine(view, by_name):
                by_name[key], found = view._replace(routine_reconcile=True), True
    return [by_name[(view.ref.namespace, view.ref.name)] for view in kustomizations]


def _held_by_routine(view: FluxView, by_name: Mapping[tuple[str | None, str], FluxView]) -> bool:
    cond = view.ready_condition
    if cond is None or cond.status != "False" or cond.reason != "DependencyNotReady":
        return False
    named = _NOT_READY.fullmatch(cond.message or "")
    if named is None or view.settled_revision is None:
        return False
    dependency = by_name.get((named["namespace"], named["name"]))
    if dependency is None or not (dependency.ready is True or dependency.routine_reconcile):
        return False
    return dependency.settled_revision == view.settled_revision


# checkDependencies' error when a dependency's Ready is not True (or its generation unobserved).
_NOT_READY = re.compile(r"dependency '(?P<namespace>[^/']+)/(?P<name>[^']+)' is not ready")
