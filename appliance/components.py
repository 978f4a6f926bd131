"""Components: which workload an object belongs to, and which tier that workload serves.

Identified by the label `app.kubernetes.io/name`, then `app`, then by name prefix (DESIGN.md).
"""

from __future__ import annotations

from appliance.canonical import BootstrapJob, JobState, TierName
from appliance.snapshot import RawObject, Snapshot

__all__ = [
    "BOOTSTRAP_COMPONENT",
    "TIER_OF",
    "bootstrap_job_state",
    "component_of",
    "tier_of",
]

BOOTSTRAP_COMPONENT = "alga-core-bootstrap"

TIER_OF: dict[str, TierName] = {
    "appliance-status": "platform",
    "db": "core",
    "redis": "core",
    "pgbouncer": "core",
    BOOTSTRAP_COMPONENT: "bootstrap",
    "alga-core": "login",
    "email-service": "background",
    "temporal": "background",
    "temporal-ui": "background",
    "workflow-worker": "background",
    "temporal-worker": "background",
}


def component_of(obj: RawObject) -> str | None:
    """STUB: the component name of a raw object."""
    return None


def tier_of(component: str | None, *, namespace: str | None = None) -> TierName:
    """STUB: the tier a component serves."""
    return TIER_OF.get(component or "", "background")


def bootstrap_job_state(snapshot: Snapshot) -> BootstrapJob:
    """STUB: the newest bootstrap Job and its state."""
    return BootstrapJob(state=JobState.WAITING)
