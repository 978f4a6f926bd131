"""What a Flux health check waited for, read back from its error (fluxcd/pkg/ssa's `timeout
waiting for: [Deployment/msp/alga-core status: 'InProgress']`), and whether every one of them
is healthy now.

kustomize-controller does not watch what it applied: a Kustomization whose health check failed
stays Ready False, HealthCheckFailed, until its retry (`retryInterval`, else its interval), even
once everything it waited for is ready (v1.9.6; judged on the real control plane by
tests/integration/test_control_plane_bootstrap.py). Such a failure only waits for the retry.
"""

from __future__ import annotations

import re

from appliance.health import job_health, workload_health
from appliance.indexing import Index

__all__ = ["healthy_now", "waited_for"]

_WAITING_FOR = re.compile(r"\b([A-Z]\w+)/([\w.-]+)/([\w.-]+) status: '(\w+)'")


def waited_for(message: str) -> list[str]:
    """The objects (`Kind/namespace/name`) a health check's error names."""
    return [f"{kind}/{ns}/{name}" for kind, ns, name, _status in _WAITING_FOR.findall(message)]


def healthy_now(index: Index, refs: list[str]) -> bool:
    """Whether there is at least one, and each is a workload or Job that is healthy now (as
    Argo CD and kstatus read it); an object the snapshot does not hold is not known healthy."""
    workloads = {str(view.ref): view for view in index.workloads}
    jobs = {str(view.ref): view for view in index.jobs}
    for ref in refs:
        if ref in workloads:
            healthy = workload_health(workloads[ref]).verdict == "Healthy"
        elif ref in jobs:
            healthy = job_health(jobs[ref]).verdict == "Healthy"
        else:
            return False
        if not healthy:
            return False
    return bool(refs)
