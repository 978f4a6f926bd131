"""The simulated world: a scenario on the virtual clock, with the controllers, the kubelet,
the stages and Flux that bring its objects to life.

`World` and `WorldError` are imported lazily: the `talosctl`/`flux` shims import modules of the
neighbouring packages and must not pay for the engine on every call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simulator.world.engine import World, WorldError

__all__ = ["World", "WorldError"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from simulator.world import engine

        return getattr(engine, name)
    raise AttributeError(f"module 'simulator.world' has no attribute {name!r}")
