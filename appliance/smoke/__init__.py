"""Smoke checks against a real or simulated appliance (the field log's local-utm-smoke.sh).

Use the submodules: `appliance.smoke.monitor.monitor` (T020) and `appliance.smoke.verify.verify`
(T021-T023). Nothing is imported here, so registering the `smoke` subcommand stays cheap.
"""

from __future__ import annotations

__all__: list[str] = []
