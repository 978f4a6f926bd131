"""helm-controller, as far as the world needs: a HelmRelease's install or upgrade status.

A scripted release's status belongs to its scenario until someone forces a reconcile
(`reconcile.fluxcd.io/requestedAt`, as `flux reconcile helmrelease` sets it).
"""

from __future__ import annotations

from typing import Any

from simulator.world.flux_conditions import requested_at, set_flux_condition
from simulator.world.objects import Objects, meta

__all__ = ["reconcile_release"]

Obj = dict[str, Any]


def reconcile_release(objects: Objects, release: Obj) -> None:
    """Install (or, when a reconcile is requested, upgrade) a HelmRelease: what the appliance
    needs of helm-controller is its status, history and Event."""
    status = release.get("status") or {}
    requested = requested_at(release)
    history = list(status.get("history") or [])
    handled = status.get("lastHandledReconcileAt")
    scripted = (meta(release).get("annotations") or {}).get("sim.appliance.dev/scripted")
    if requested is None and (status.get("conditions") or scripted == "true"):
        return
    if requested is not None and requested == handled:
        return
    version = (max((int(h.get("version", 0)) for h in history), default=0)) + 1
    m = meta(release)
    chart = ((release.get("spec") or {}).get("chart") or {}).get("spec") or {}
    chart_name = f"{chart.get('chart', m.get('name'))}@{chart.get('version', '0.1.0')}"
    target_ns = (release.get("spec") or {}).get("targetNamespace") or m.get("namespace")
    verb = "install" if version == 1 else "upgrade"
    message = (
        f"Helm {verb} succeeded for release {target_ns}/{m.get('name')}.v{version} "
        f"with chart {chart_name}"
    )
    now = objects.clock.now()
    conditions = set_flux_condition(
        release,
        status.get("conditions") or [],
        "Ready",
        "True",
        now=now,
        reason=f"{verb.capitalize()}Succeeded",
        message=message,
    )
    conditions = set_flux_condition(
        release,
        conditions,
        "Released",
        "True",
        now=now,
        reason=f"{verb.capitalize()}Succeeded",
        message=message,
    )
    history.insert(
        0,
        {
            "version": version,
            "status": "deployed",
            "chartName": chart.get("chart", m.get("name")),
            "chartVersion": chart.get("version", "0.1.0"),
        },
    )
    patch: Obj = {
        "conditions": conditions,
        "history": history,
        "observedGeneration": m.get("generation"),
    }
    if requested is not None:
        patch["lastHandledReconcileAt"] = requested
    objects.patch_status(release, patch)
    objects.event(release, f"{verb.capitalize()}Succeeded", message, source="helm-controller")
