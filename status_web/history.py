"""The install's history as the status service saw it: when each tier turned ready, and how the
rollup changed. Kept in memory (a restart starts it afresh) and served in `/api/status`
(`tiers.<name>.since`, `history`), so the page can draw the install as a timeline.

Times are the cluster's (the status's own timestamp), never the service's clock.
"""

from __future__ import annotations

from datetime import datetime

from appliance.canonical import ApplianceStatus, RollupChange, Tier
from appliance.tier_table import TIERS

__all__ = ["HISTORY_LIMIT", "History"]

# A whole install changes its rollup a few dozen times; this bounds memory on a flapping cluster.
HISTORY_LIMIT = 200
_TIER_FIELDS = (*(spec.name for spec in TIERS), "full_health")


class History:
    """Remembers tier transitions and rollup changes across the statuses it is shown."""

    def __init__(self, *, limit: int = HISTORY_LIMIT) -> None:
        self._limit = limit
        self._changes: list[RollupChange] = []
        self._ready: dict[str, bool] = {}
        self._since: dict[str, datetime] = {}

    def observe(self, status: ApplianceStatus) -> ApplianceStatus:
        """Record `status` and return it with `tiers.*.since` and `history` filled in."""
        at = status.timestamp
        tiers: dict[str, Tier] = {name: getattr(status.tiers, name) for name in _TIER_FIELDS}
        for name, tier in tiers.items():
            if self._ready.get(name) != tier.ready:
                self._ready[name] = tier.ready
                self._since[name] = at
        ready = [spec.name for spec in TIERS if tiers[spec.name].ready]
        last = self._changes[-1] if self._changes else None
        if last is None or (last.state, last.ready_tiers) != (status.rollup.state, ready):
            self._changes.append(RollupChange(at=at, state=status.rollup.state, ready_tiers=ready))
            del self._changes[: -self._limit]
        return self.apply(status)

    def apply(self, status: ApplianceStatus) -> ApplianceStatus:
        """`status` with what is remembered, recording nothing (for a stale, last-known status)."""
        stamped = {
            name: getattr(status.tiers, name).model_copy(update={"since": self._since.get(name)})
            for name in _TIER_FIELDS
        }
        return status.model_copy(
            update={
                "tiers": status.tiers.model_copy(update=stamped),
                "history": list(self._changes),
            }
        )
