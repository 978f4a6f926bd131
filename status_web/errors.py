"""The status service's one error root."""

from __future__ import annotations

__all__ = ["StatusWebError"]


class StatusWebError(Exception):
    """The status service cannot start or serve; the message names the object, reason and fix."""
