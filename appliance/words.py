"""The words every surface uses for the same things: the terminal, the page and the docs.

Tiers are named in tier_table.py. Here: the rollup states, what a blocker is called (a blocker
blocks login; anything else is a background issue), and durations, in one human format
(`45s`, `17m55s`, `1h05m12s`). Machine output (JSON, YAML) uses ISO timestamps and seconds.
"""

from __future__ import annotations

from appliance.canonical import Blocker, RollupState

__all__ = ["STATE_WORDS", "blocker_impact", "blocker_title", "human_elapsed"]

STATE_WORDS: dict[RollupState, str] = {
    RollupState.INSTALLING: "Installing",
    RollupState.READY: "Ready to log in",
    RollupState.READY_WITH_BACKGROUND_ISSUES: "Ready to log in, with background issues",
    RollupState.FULLY_HEALTHY: "Fully healthy",
    RollupState.FAILED_ACTION_REQUIRED: "Action required",
}


def human_elapsed(seconds: float) -> str:
    """`45s`, `17m55s`, `1h05m12s`: how long, the same way everywhere a person reads it."""
    total = int(max(seconds, 0))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{secs:02d}s"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def blocker_title(blocker: Blocker) -> str:
    """`Blocker` for what keeps the admin from logging in, `Background issue` for the rest."""
    return "Blocker" if blocker.login_blocking else "Background issue"


def blocker_impact(blocker: Blocker) -> str:
    """`blocks login` or `does not block login` (and whether a retry clears it)."""
    impact = "blocks login" if blocker.login_blocking else "does not block login"
    return impact + (", clears on retry" if blocker.retryable else "")
