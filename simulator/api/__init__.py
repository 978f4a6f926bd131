"""The fake Kubernetes API server (HTTP on loopback) that kubectl and the official client use.

`ApiServer` and `FaultPlan` are imported lazily so `simulator.api.store` can use the pure helper
modules of this package (patching, selectors) without an import cycle.
"""

from __future__ import annotations

# The fake `flux` (a process per command) imports this package for its Flux kind rows; typing
# would cost each such start a few ms. mypy reads the flag as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from simulator.api.faults import Fault, FaultPlan
    from simulator.api.server import ApiServer

__all__ = ["ApiServer", "Fault", "FaultPlan"]


def __getattr__(name: str) -> Any:
    if name == "ApiServer":
        from simulator.api.server import ApiServer

        return ApiServer
    if name in ("FaultPlan", "Fault"):
        from simulator.api import faults

        return getattr(faults, name)
    raise AttributeError(f"module 'simulator.api' has no attribute {name!r}")
