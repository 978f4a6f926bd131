"""The bootstrapper: flags, host (talosctl), platform, GitOps source, validation, display."""

from __future__ import annotations

from appliance.bootstrap.errors import BootstrapError
from appliance.bootstrap.flags import BootstrapOptions, FlagError, options_from_args
from appliance.bootstrap.running import Collaborators, run_bootstrap

__all__ = [
    "BootstrapError",
    "BootstrapOptions",
    "Collaborators",
    "FlagError",
    "options_from_args",
    "run_bootstrap",
]
