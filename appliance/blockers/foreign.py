"""Objects outside the appliance's namespaces: never taken for one of our components (issue 10,
item 7), judged alone by what the ecosystem calls healthy (health.py), and named when they are
degraded or suspended: something in this cluster is broken, even if it is not ours.
"""

from __future__ import annotations

from appliance.blockers.evidence import short
from appliance.blockers.registry import Covered, detector
from appliance.canonical import Blocker, Evidence
from appliance.flux_views import FluxView
from appliance.health import (
    Health,
    flux_health,
    job_health,
    pod_health,
    pvc_health,
    workload_health,
)
from appliance.indexing import ForeignView, Index
from appliance.views import JobView, PodView, PvcView

__all__ = ["LAYER_FOREIGN", "foreign_health"]

LAYER_FOREIGN = "Object outside the appliance"


def foreign_health(view: ForeignView) -> Health:
    """The health of any object the appliance does not own."""
    if isinstance(view, PodView):
        return pod_health(view)
    if isinstance(view, JobView):
        return job_health(view)
    if isinstance(view, PvcView):
        return pvc_health(view)
    if isinstance(view, FluxView):
        return flux_health(view)
    return workload_health(view)


@detector(layer=LAYER_FOREIGN, rank=900, specialised=False)
def detect_foreign_objects(index: Index, covered: Covered) -> list[Blocker]:
    """A degraded or suspended object of someone else's, beside the appliance."""
    blockers: list[Blocker] = []
    for view in index.foreign:
        health = foreign_health(view)
        if health.verdict not in ("Degraded", "Suspended"):
            continue
        ref = view.ref
        state = "is suspended" if health.verdict == "Suspended" else "is degraded"
        message = health.reason or state
        blockers.append(
            Blocker(
                layer=LAYER_FOREIGN,
                component=None,
                reason=(
                    f"{ref.kind} {ref.namespace}/{ref.name} {state}: {short(message, 300)}. It is "
                    "not part of the appliance; the appliance's tiers do not depend on it."
                ),
                next_action=(
                    f"Tell its owner, or inspect it: `kubectl -n {ref.namespace} describe "
                    f"{ref.kind.lower()} {ref.name}`."
                ),
                login_blocking=False,
                retryable=False,
                since=health.since,
                evidence=[Evidence(object=str(ref), message=message, since=health.since)],
            )
        )
    return blockers
