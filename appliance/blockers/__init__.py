"""Blocker detectors: small pure functions from the digested snapshot to Blockers.

Root-cause detectors (`root_causes.py`: DNS, Postgres subPath, a missing image tag, ...) name
the failure and how to fix it; generic ones (`generic_workloads.py`, `generic_platform.py`) catch
the rest (waiting containers, Jobs, PVCs, nodes, Flux/Helm not ready, the status service, any
other warning) so an unknown failure is still reported, never silenced. `registry.py` runs them
and ranks what they find: login impact, stuck before retryable, root cause before generic layer,
oldest first (T009). Adding a detector is one decorated function in one of these modules and
its test (docs/architecture.md, "Where to change what").
"""

from __future__ import annotations

# Importing the detector modules registers their detectors.
from appliance.blockers import generic_platform, generic_workloads, root_causes
from appliance.blockers.evidence import login_critical
from appliance.blockers.registry import detect_blockers, rank_blockers, registered

__all__ = [
    "detect_blockers",
    "generic_platform",
    "generic_workloads",
    "login_critical",
    "rank_blockers",
    "registered",
    "root_causes",
]
