"""Blocker detectors: small pure functions from the digested snapshot to Blockers.

Root-cause detectors (`root_causes.py`: DNS, Postgres subPath, a missing image tag, ...;
`refused_pods.py`: pods the API refuses to create, and which admission refused them) name the
failure and how to fix it; generic ones (`generic_workloads.py`, `generic_platform.py`) catch
the rest (waiting containers, Jobs, PVCs, nodes, Flux/Helm not ready, the status service, any
other warning) so an unknown failure is still reported, never silenced. `registry.py` runs them
and ranks what they find: login impact, stuck before retryable, root cause before generic layer,
oldest first (T009). Adding a detector is one decorated function in one of these modules and
its test (docs/architecture.md, "Where to change what").
"""

from __future__ import annotations

from appliance.blockers import (
    foreign,
    generic_platform,
    generic_workloads,
    refused_pods,
    root_causes,
)
from appliance.blockers.consequences import attribute_timeouts
from appliance.blockers.evidence import login_critical
from appliance.blockers.registry import rank_blockers, registered, run_detectors
from appliance.canonical import Blocker
from appliance.indexing import Index

# The detector modules above register their detectors when imported.
__all__ = [
    "detect_blockers",
    "foreign",
    "generic_platform",
    "generic_workloads",
    "login_critical",
    "rank_blockers",
    "refused_pods",
    "registered",
    "root_causes",
]


def detect_blockers(index: Index) -> list[Blocker]:
    """Every blocker, most important first: login impact, then stuck before retryable, then
    root cause before generic layer, then the oldest; a Flux timeout after its root cause."""
    return attribute_timeouts(index, run_detectors(index))
