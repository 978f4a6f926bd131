"""The status engine: a pure function from a Snapshot (and probe results) to the status."""

from __future__ import annotations

from appliance.canonical import (
    ApplianceStatus,
    ClusterInfo,
    LoginProbe,
    Release,
    Rollup,
    RollupState,
    Tier,
    Tiers,
)
from appliance.snapshot import Snapshot

__all__ = ["evaluate"]


def evaluate(
    snapshot: Snapshot,
    *,
    site_id: str,
    login_probe: LoginProbe | None,
    users_count: int | None,
    users_count_measurable: bool,
    status_url: str | None = None,
    login_url: str | None = None,
    release: Release | None = None,
) -> ApplianceStatus:
    """STUB (being filled in): the canonical status for this snapshot. Pure; never raises."""
    not_ready = Tier(ready=False, reasons=["status engine not implemented yet"])
    return ApplianceStatus(
        site_id=site_id,
        timestamp=snapshot.server_time,
        rollup=Rollup(state=RollupState.INSTALLING, message="status engine not implemented yet"),
        tiers=Tiers(
            platform=not_ready,
            core=not_ready,
            bootstrap=not_ready,
            login=not_ready,
            background=not_ready,
            full_health=not_ready,
        ),
        login_probe=login_probe or LoginProbe(),
        cluster=ClusterInfo(
            reachable=snapshot.api_error is None,
            error=snapshot.api_error,
            server_time=snapshot.server_time,
            source=snapshot.source,
        ),
    )
