"""Smoke checks against a real or simulated appliance (the field log's local-utm-smoke.sh).

Loaded lazily so registering the `smoke` subcommand costs no HTTP or Kubernetes imports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from appliance.smoke.monitor import MonitorResult, monitor
    from appliance.smoke.verify import Check, verify

__all__ = ["Check", "MonitorResult", "monitor", "verify"]


def __getattr__(name: str) -> Any:
    if name in ("MonitorResult", "monitor"):
        from appliance.smoke import monitor as module
    elif name in ("Check", "verify"):
        from appliance.smoke import verify as module  # type: ignore[no-redef]
    else:
        raise AttributeError(f"module 'appliance.smoke' has no attribute {name!r}")
    return getattr(module, name)
