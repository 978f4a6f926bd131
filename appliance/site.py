"""The admin's site files, and which kubeconfig a command uses when none is named.

`appliance bootstrap` keeps a site's files under `<config-dir>/<site-id>/` (kubeconfig,
talosconfig, status token). The other commands find them there, as kubectl finds its config:

1. `--kubeconfig PATH` when given;
2. else `$KUBECONFIG` (its first file, as the Kubernetes client reads it);
3. else the site kubeconfig, when it exists, and the command says so on stderr;
4. else `~/.kube/config`.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DEFAULT_CONFIG_DIR",
    "DEFAULT_SITE_ID",
    "KubeconfigChoice",
    "add_site_options",
    "choose_kubeconfig",
    "site_dir",
    "site_kubeconfig",
]

DEFAULT_CONFIG_DIR = Path("~/.alga-psa-appliance")
DEFAULT_SITE_ID = "appliance-single-node"


def add_site_options(parser: argparse.ArgumentParser) -> None:
    """`--site-id` and `--config-dir`: which site's files a command reads."""
    parser.add_argument(
        "--site-id", default=DEFAULT_SITE_ID, metavar="ID", help=f"default {DEFAULT_SITE_ID}"
    )
    parser.add_argument(
        "--config-dir",
        type=Path,
        metavar="DIR",
        help=f"where bootstrap keeps site files (default {DEFAULT_CONFIG_DIR})",
    )


def site_dir(config_dir: Path | None, site_id: str | None) -> Path:
    """`<config-dir>/<site-id>` with the defaults filled in and `~` expanded."""
    return (config_dir or DEFAULT_CONFIG_DIR).expanduser() / (site_id or DEFAULT_SITE_ID)


@dataclass(frozen=True)
class KubeconfigChoice:
    """The kubeconfig to use and, when it was not named, a line saying where it came from."""

    path: Path
    note: str | None = None


def choose_kubeconfig(
    given: Path | None,
    *,
    site: Path | None,
    environ: Mapping[str, str] | None = None,
) -> KubeconfigChoice:
    """The kubeconfig by the order in this module's docstring; `site` None skips step 3."""
    if given is not None:
        return KubeconfigChoice(Path(given).expanduser())
    env = os.environ if environ is None else environ
    first = env.get("KUBECONFIG", "").split(os.pathsep)[0]
    if first:
        return KubeconfigChoice(Path(first).expanduser())
    if site is not None and site.is_file():
        return KubeconfigChoice(
            site, note=f"using the site kubeconfig {site} (--kubeconfig or $KUBECONFIG to change)"
        )
    return KubeconfigChoice(Path("~/.kube/config").expanduser())


def site_kubeconfig(config_dir: Path | None, site_id: str | None) -> Path:
    """Where `appliance bootstrap` writes the site's kubeconfig."""
    return site_dir(config_dir, site_id) / "kubeconfig"
