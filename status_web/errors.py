"""The status service's errors: one root, part of the appliance's hierarchy.

`StatusWebError` derives from `appliance.errors.ApplianceError`, so it carries an exit code (2:
the service cannot start with what it was given) and a one-line message naming the object, the
reason and the fix; `appliance-status` prints `appliance-status: <message>` and exits with it.

    StatusWebError          exit 2: cannot start or serve (token, cluster access, address)
    ├── TokenFileError      the token file is missing, unreadable, empty or not text
    └── AddressInUseError   the host:port to listen on is taken
"""

from __future__ import annotations

from appliance.errors import ApplianceError

__all__ = ["AddressInUseError", "StatusWebError", "TokenFileError"]


class StatusWebError(ApplianceError):
    """The status service cannot start or serve; the message names the object, reason and fix."""


class TokenFileError(StatusWebError):
    """The status token cannot be read from its file, the environment or the mounted Secret."""


class AddressInUseError(StatusWebError):
    """Another process listens on the address the service was asked to serve on."""
