"""A Flux timeout is a consequence, never a second root cause (T009, issue 10 item 5).

A Kustomization's `HealthCheckFailed ... timeout waiting for: [Deployment/msp/X status:
'InProgress']`, or a HelmRelease's own timeout, only says that X did not become ready. When X has
its own blocker (an interrupted pull, a missing tag, a crash with a known signature), the
timeout points to it, takes its login impact and retryability, and so ranks below it.
"""

from __future__ import annotations

from appliance.blockers.generic_platform import LAYER_FLUX, LAYER_HELM
from appliance.blockers.registry import rank_blockers
from appliance.blockers.waited_for import waited_for
from appliance.canonical import Blocker
from appliance.indexing import Index

__all__ = ["attribute_timeouts"]

_TIMEOUTS = frozenset({LAYER_FLUX, LAYER_HELM})


def _waited_for(index: Index, blocker: Blocker) -> set[str]:
    """Components the Flux object's health check waited for (its own, when it names none)."""
    components: set[str] = set()
    by_ref = {str(view.ref): view.component for view in index.workloads}
    for found in blocker.evidence:
        for ref in waited_for(found.message):
            component = by_ref.get(ref)
            if component:
                components.add(component)
    if not components and blocker.component:
        components.add(blocker.component)
    return components


def attribute_timeouts(index: Index, blockers: list[Blocker]) -> list[Blocker]:
    """Flux timeouts pointing at the root causes of what they waited for, ranked after them."""
    causes: dict[str, list[Blocker]] = {}
    for blocker in blockers:
        if blocker.layer not in _TIMEOUTS and blocker.component:
            causes.setdefault(blocker.component, []).append(blocker)
    if not causes:
        return blockers
    out: list[Blocker] = []
    for blocker in blockers:
        roots = (
            [r for c in sorted(_waited_for(index, blocker)) for r in causes.get(c, [])]
            if blocker.layer in _TIMEOUTS
            else []
        )
        if not roots:
            out.append(blocker)
            continue
        root = rank_blockers(roots)[0]
        names = ", ".join(dict.fromkeys(r.component or "?" for r in roots))
        out.append(
            blocker.model_copy(
                update={
                    "reason": (
                        f"{blocker.reason} This is a consequence: it waits for {names}, whose "
                        f"own problem is above ({root.layer})."
                    ),
                    "next_action": f"Fix {root.layer} first: {root.next_action}",
                    "login_blocking": blocker.login_blocking and root.login_blocking,
                    "retryable": all(r.retryable for r in roots),
                }
            )
        )
    return rank_blockers(out)
