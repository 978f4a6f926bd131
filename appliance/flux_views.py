"""A Flux object's view (GitRepository, Kustomization, HelmRelease): its Ready condition and
revision, and whether a Kustomization is only re-applying what it applied."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from appliance.components import flux_component, is_foreign
from appliance.snapshot import RawObject, as_dict
from appliance.views import Condition, Ref, conditions_of, ref_of, text

__all__ = ["FluxView", "flux_view"]


class FluxView(NamedTuple):
    """A Flux GitRepository, Kustomization or HelmRelease: its Ready condition and revision."""

    ref: Ref
    component: str
    ready_condition: Condition | None
    revision: str | None
    suspended: bool
    foreign: bool
    raw: RawObject
    # A Kustomization reconciling again the revision it applied, its last health check not
    # failed: kustomize-controller does that every interval, Ready Unknown meanwhile.
    reapplying: bool = False

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
    return FluxView(
        ref=ref,
        component=flux_component(kind, ref.name),
        ready_condition=conditions.get("Ready"),
        revision=revision,
        suspended=as_dict(obj.get("spec")).get("suspend") is True,
        foreign=is_foreign(ref.namespace),
        raw=obj,
        reapplying=kind == "Kustomization" and _reapplying(conditions, status),
    )


def _reapplying(conditions: Mapping[str, Condition], status: Mapping[str, Any]) -> bool:
    """kustomize-controller (v1.9.6) begins every reconcile with Ready Unknown, reason
    Progressing, and names the revision in Reconciling's message at each stage ('Fetching
    manifests for revision R with a timeout of T'): R being the last applied revision, and the
    last health check not failed, this is the interval's routine re-apply."""
    ready, reconciling = conditions.get("Ready"), conditions.get("Reconciling")
    applied = text(status.get("lastAppliedRevision"))
    if ready is None or ready.status != "Unknown" or ready.reason != "Progressing" or not applied:
        return False
    if reconciling is None or f" for revision {applied} with " not in (reconciling.message or ""):
        return False
    healthy = conditions.get("Healthy")
    return healthy is None or healthy.status != "False"
