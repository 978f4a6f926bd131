"""The rollup: the one word and sentence an admin reads first, from the tiers and the blockers.

Invariants (issue 10; the hypothesis test checks them on arbitrary snapshots):
- `fully_healthy` needs every tier ready and no blocker at all;
- login-ready with any blocker is `ready_with_background_issues` (or `ready`);
- a login-blocking blocker never stands beside a login-ready rollup: once login answers, nothing
  blocks it, so every blocker is reported as not login-blocking (`settle_blockers`);
- `failed_action_required` needs a login-blocking blocker that will not clear by waiting.
"""

from __future__ import annotations

from appliance.blockers import rank_blockers
from appliance.blockers.evidence import signal_tier
from appliance.canonical import ActiveOperation, Blocker, Rollup, RollupState, Tiers
from appliance.components import TIER_OF
from appliance.tier_table import LOGIN_GATING, TIERS
from appliance.words import human_elapsed

__all__ = ["headline", "rollup", "settle_blockers"]


def settle_blockers(tiers: Tiers, blockers: list[Blocker]) -> list[Blocker]:
    """Blockers as the rollup reports them: when login is ready, none of them blocks login."""
    if not tiers.login.ready or not any(b.login_blocking for b in blockers):
        return blockers
    return rank_blockers(
        [
            b.model_copy(update={"login_blocking": False}) if b.login_blocking else b
            for b in blockers
        ]
    )


def _hit(blockers: list[Blocker]) -> list[str]:
    """The components the top blocker's layer hits, the top one first."""
    top = blockers[0]
    same = [
        b
        for b in blockers
        if b.layer == top.layer
        and (b.login_blocking, b.retryable) == (top.login_blocking, top.retryable)
    ]
    return list(dict.fromkeys(b.component or "appliance" for b in same))


def headline(blockers: list[Blocker]) -> str:
    """The top blocker's layer and every component it hits: `Image tag availability:
    workflow-worker, temporal-worker` (blockers of one layer read as one problem)."""
    return f"{blockers[0].layer}: {', '.join(_hit(blockers))}"


def rollup(
    tiers: Tiers,
    blockers: list[Blocker],
    operations: list[ActiveOperation],
    *,
    login_url: str | None,
) -> Rollup:
    """The rollup for settled blockers (see `settle_blockers`)."""
    where = f" at {login_url}" if login_url else ""
    if tiers.login.ready:
        return _login_ready(tiers, blockers, where=where)
    return _not_ready(tiers, blockers, operations)


def _unready_reason(tiers: Tiers) -> str:
    for spec in TIERS:
        tier = getattr(tiers, spec.name)
        if not tier.ready:
            return f"{spec.label}: {tier.reasons[0] if tier.reasons else 'not ready'}"
    return tiers.full_health.reasons[0] if tiers.full_health.reasons else "not ready"


def _login_ready(tiers: Tiers, blockers: list[Blocker], *, where: str) -> Rollup:
    if tiers.full_health.ready and not blockers:
        return Rollup(
            state=RollupState.FULLY_HEALTHY,
            message=f"All services are healthy; log in{where}.",
        )
    top = blockers[0] if blockers else None
    if tiers.background.ready and not tiers.platform.ready:
        # Login works and the background is fine, but the platform is not (say the status
        # service is missing, finding-20): usable, yet not fully healthy.
        reason = tiers.platform.reasons[0] if tiers.platform.reasons else "not ready"
        return Rollup(
            state=RollupState.READY,
            message=f"You can log in{where}. The platform is not fully healthy ({reason}).",
            next_action=top.next_action if top else None,
        )
    if top is not None:
        background = signal_tier(top.component, None) == "background"
        what = "Background services have issues" if background else "Not everything is healthy"
        return Rollup(
            state=RollupState.READY_WITH_BACKGROUND_ISSUES,
            message=f"You can log in{where}. {what}: {headline(blockers)}.",
            next_action=top.next_action,
        )
    if not tiers.background.ready:
        reason = tiers.background.reasons[0] if tiers.background.reasons else "starting"
        return Rollup(
            state=RollupState.READY,
            message=f"You can log in{where}. Background services are still starting ({reason}).",
        )
    return Rollup(
        state=RollupState.READY,
        message=f"You can log in{where}. Not fully healthy yet: {_unready_reason(tiers)}.",
    )


def _login_pull(operations: list[ActiveOperation]) -> ActiveOperation | None:
    return next((op for op in operations if TIER_OF.get(op.component) in LOGIN_GATING), None)


def _not_ready(tiers: Tiers, blockers: list[Blocker], operations: list[ActiveOperation]) -> Rollup:
    stuck = [b for b in blockers if b.login_blocking and not b.retryable]
    pull = _login_pull(operations)
    pulling = {op.component for op in operations}
    # A stuck blocker of a component that is not itself pulling (the db's subPath while
    # alga-core pulls) will not clear by waiting for the pull: it outranks it. The pulling
    # component's own symptoms (its Helm timeout, its Init:0/1) are the pull, not a failure.
    unrelated = [b for b in stuck if b.component not in pulling]
    if pull is not None and not unrelated:
        # finding-18: a core image still pulling is progress, never action-required.
        size = f", {pull.estimated_size}" if pull.estimated_size else ""
        return Rollup(
            state=RollupState.INSTALLING,
            message=(
                f"Installing: pulling {pull.image} for {pull.component} "
                f"({human_elapsed(pull.elapsed_seconds)} so far{size})."
            ),
            next_action="Wait: the image pull is progressing; Kubernetes reports no byte progress.",
        )
    if stuck:
        shown = unrelated if pull is not None else stuck
        top = shown[0]
        more = _hit(shown)[1:]
        also = f" (also {', '.join(more)})" if more else ""
        return Rollup(
            state=RollupState.FAILED_ACTION_REQUIRED,
            message=f"Login is blocked: {top.layer}: {top.reason}{also}",
            next_action=top.next_action,
        )
    name, tier = next(
        (
            (spec.name, tier)
            for spec in TIERS
            if spec.gates_login and not (tier := getattr(tiers, spec.name)).ready
        ),
        ("login", tiers.login),
    )
    detail = tier.reasons[0] if tier.reasons else "not ready yet"
    retrying = next((b for b in blockers if b.login_blocking), None)
    return Rollup(
        state=RollupState.INSTALLING,
        message=f"Installing: waiting for the {name} tier ({detail}).",
        next_action=retrying.next_action if retrying else None,
    )
