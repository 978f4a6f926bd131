"""The bootstrap package's error root: every failure names its layer and the next action."""

from __future__ import annotations

__all__ = ["BootstrapError"]


class BootstrapError(RuntimeError):
    """A phase cannot continue. `layer` is printed as `Failure layer: <layer>`."""

    def __init__(self, message: str, *, layer: str, next_action: str) -> None:
        super().__init__(message)
        self.layer = layer
        self.next_action = next_action
