"""Smoke checks against a real or simulated appliance (the field log's local-utm-smoke.sh)."""

from __future__ import annotations

from appliance.smoke.monitor import MonitorResult, monitor
from appliance.smoke.verify import Check, verify

__all__ = ["Check", "MonitorResult", "monitor", "verify"]
