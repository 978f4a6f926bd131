"""The bootstrapper: flags, host (talosctl), platform, GitOps source, validation, display.

`run_bootstrap` and `Collaborators` are loaded on first use: they pull in the Kubernetes client,
which `appliance --help` and the other subcommands should not pay for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from appliance.bootstrap.flags import BootstrapOptions, FlagError, options_from_args
from appliance.errors import BootstrapError

if TYPE_CHECKING:
    from appliance.bootstrap.running import Collaborators, run_bootstrap

__all__ = [
    "BootstrapError",
    "BootstrapOptions",
    "Collaborators",
    "FlagError",
    "options_from_args",
    "run_bootstrap",
]


def __getattr__(name: str) -> Any:
    if name in ("Collaborators", "run_bootstrap"):
        from appliance.bootstrap import running

        return getattr(running, name)
    raise AttributeError(f"module 'appliance.bootstrap' has no attribute {name!r}")
