"""Every error the `appliance` command reports, in one small hierarchy.

Each error carries the exit code of the command that meets it and a message that names the
object, the reason and the fix, so `appliance.cli.main` prints it as one line
(`appliance <command>: <message>`) and exits with its code; no traceback reaches the admin.

    ApplianceError          exit 2: the input or the environment is unusable; fix it and rerun
    ├── InputError          a file or flag the admin gave (also a ValueError)
    │   ├── FlagError       a bootstrap flag
    │   ├── DumpError       an offline dump (`appliance status --from-dump`)
    │   ├── ReleaseError    a release version or manifest
    │   └── TokenError      the status token file
    ├── ClusterError        the cluster cannot be reached or its credentials used
    ├── RegistryError       an OCI registry did not answer (exit 1)
    ├── ApplyError          a mutating Kubernetes call failed (exit 1; `status` is the HTTP status)
    └── BootstrapError      a bootstrap phase cannot continue (exit 1; names `layer`, `next_action`)

Catch `ApplianceError` to handle every one of them; `status_web.errors.StatusWebError` derives
from it too. Private control-flow exceptions (a watch that must relist) are not errors and stay
inside their modules.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "ApplianceError",
    "ApplyError",
    "BootstrapError",
    "ClusterError",
    "DumpError",
    "FlagError",
    "InputError",
    "RegistryError",
    "ReleaseError",
    "TokenError",
]


class ApplianceError(Exception):
    """The root: something the admin can fix; the message says what and how."""

    exit_code: ClassVar[int] = 2

    def one_line(self) -> str:
        """The message on one line (a quoted tool output may span several)."""
        lines = [line.strip() for line in str(self).splitlines() if line.strip()]
        return " / ".join(lines) or type(self).__name__


class InputError(ApplianceError, ValueError):
    """A file or flag the admin gave cannot be used; the message names it and the reason."""


class FlagError(InputError):
    """A flag value is unusable; the message names the flag and what to pass instead."""


class DumpError(InputError):
    """A dump file cannot be used; the message names the file and the reason."""


class ReleaseError(InputError):
    """A release version or manifest is unusable; the message says which and what to do."""


class TokenError(InputError):
    """The status token file cannot be read or written."""


class ClusterError(ApplianceError):
    """The cluster cannot be reached or its credentials cannot be used; the message says why."""


class RegistryError(ApplianceError):
    """The registry could not answer (network, auth, unexpected status)."""

    exit_code: ClassVar[int] = 1


class ApplyError(ApplianceError):
    """A mutating call failed; the message names the object, the HTTP status and the reason."""

    exit_code: ClassVar[int] = 1

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class BootstrapError(ApplianceError):
    """A phase cannot continue. `layer` is printed as `Failure layer: <layer>`."""

    exit_code: ClassVar[int] = 1

    def __init__(self, message: str, *, layer: str, next_action: str) -> None:
        super().__init__(message)
        self.layer = layer
        self.next_action = next_action
