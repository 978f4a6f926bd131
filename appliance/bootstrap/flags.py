"""`appliance bootstrap` flags: the argparse definition and their validation.

Every flag is checked before anything touches a host or cluster, and each message names the flag,
the bad value and what a good one looks like (bad IP, bad version, unknown mode, unreadable
kubeconfig, missing config dir).
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from appliance.command_line import bounded
from appliance.errors import FlagError, ReleaseError
from appliance.site import DEFAULT_CONFIG_DIR

__all__ = [
    "DEFAULT_REPO_URL",
    "BootstrapOptions",
    "FlagError",
    "add_bootstrap_arguments",
    "options_from_args",
]

DEFAULT_REPO_URL = "https://github.com/nine-minds/alga-psa"
_HOSTNAME_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$")
_SITE_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_BRANCH_RE = re.compile(r"^(?!/)(?!.*\.\.)(?!.*//)[A-Za-z0-9._/-]+(?<!/)(?<!\.lock)$")

Mode = Literal["fresh", "recover"]
NetworkMode = Literal["dhcp", "static"]


@dataclass(frozen=True)
class BootstrapOptions:
    """Validated bootstrap options (paths expanded, lists split)."""

    mode: Mode
    release_version: str
    node_ip: str
    hostname: str
    app_url: str
    interface: str | None
    network_mode: NetworkMode
    dns_servers: tuple[str, ...]
    install_disk: str
    repo_url: str
    branch_override: str | None
    require_remote_branch: bool
    kubeconfig: Path | None
    kubeconfig_out: Path | None
    talosconfig: Path | None
    config_dir: Path
    site_id: str
    profile: str
    prepull_images: bool
    skip_image_tag_validation: bool
    dry_run: bool
    registry_url: str | None
    host_timeout: float
    install_timeout: float
    poll_interval: float

    @property
    def site_dir(self) -> Path:
        """`<config-dir>/<site-id>`: generated Talos files, kubeconfig, status token."""
        return self.config_dir / self.site_id

    @property
    def status_url(self) -> str:
        """The status UI on the node (hostPort 8080)."""
        return f"http://{_url_host(self.node_ip)}:8080"


def _url_host(ip: str) -> str:
    return f"[{ip}]" if ":" in ip else ip


def add_bootstrap_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of docs/bootstrap.md (the field log's, plus timeouts and a mirror registry)."""
    add = parser.add_argument
    add(
        "--bootstrap-mode",
        default="fresh",
        metavar="fresh|recover",
        help="fresh: install Talos on a node in maintenance mode; recover: continue from an "
        "existing kubeconfig (default: fresh)",
    )
    add("--release-version", required=True, help="appliance release, e.g. 1.0-rc5")
    add("--node-ip", required=True, help="the node's IP address, e.g. 192.168.64.8")
    add("--hostname", default="appliance-single-node", help="node hostname")
    add("--app-url", default=None, help="login URL (default http://<node-ip>:3000)")
    add("--interface", default=None, help="network interface, e.g. enp0s1")
    add("--network-mode", default="dhcp", metavar="dhcp|static", help="default: dhcp")
    add(
        "--dns-servers",
        default=None,
        help="comma-separated DNS servers baked into the Talos machine config, "
        "e.g. 1.1.1.1,8.8.8.8 (use when the DHCP resolver refuses lookups)",
    )
    add("--install-disk", default="/dev/sda", help="disk Talos installs to (default /dev/sda)")
    add("--repo-url", default=DEFAULT_REPO_URL, help="Git repository Flux fetches manifests from")
    add(
        "--branch-override",
        default=None,
        help="branch Flux follows; `current` = the local branch (must exist on --repo-url)",
    )
    add(
        "--require-remote-branch",
        action="store_true",
        help="fail unless the branch exists on --repo-url",
    )
    add("--kubeconfig", default=None, type=Path, help="existing kubeconfig (never overwritten)")
    add("--talosconfig", default=None, type=Path, help="existing talosconfig (never overwritten)")
    add(
        "--kubeconfig-out",
        default=None,
        type=Path,
        help="where a fresh install writes the kubeconfig "
        "(default <config-dir>/<site-id>/kubeconfig)",
    )
    add(
        "--config-dir",
        default=None,
        type=Path,
        help=f"where site files live (default {DEFAULT_CONFIG_DIR}); must exist if given",
    )
    add("--site-id", default=None, help="site name (default: the hostname)")
    add("--profile", default="talos-single-node", help="install profile")
    add(
        "--prepull-images",
        action="store_true",
        help="pull release images onto the node before GitOps (core required)",
    )
    add(
        "--skip-image-tag-validation",
        action="store_true",
        help="skip the registry check of release image tags",
    )
    add("--dry-run", action="store_true", help="print the plan; change nothing")
    add(
        "--registry-url",
        default=None,
        help="look release images up at this registry (a mirror) instead of each image's host "
        "(default: $APPLIANCE_REGISTRY_URL)",
    )
    add(
        "--host-timeout",
        type=bounded("seconds", 1, 7 * 86400),
        default=600.0,
        help="seconds to wait for the Talos maintenance API / install (default 600)",
    )
    add(
        "--install-timeout",
        type=bounded("seconds", 1, 7 * 86400),
        default=3600.0,
        help="seconds (cluster clock) to wait for login ready (default 3600)",
    )
    add("--poll-interval", type=bounded("seconds", 1e-6, 3600), default=5.0, help=argparse.SUPPRESS)


def _check_ip(flag: str, value: str) -> str:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        raise FlagError(f"{flag} {value!r} is not an IP address; pass e.g. 192.168.64.8") from None


def _check_file(flag: str, path: Path, *, must_exist: bool) -> Path:
    expanded = path.expanduser()
    if not expanded.exists():
        if must_exist:
            raise FlagError(f"{flag} {path} does not exist; pass the file bootstrap wrote earlier")
        return expanded
    if not expanded.is_file():
        raise FlagError(f"{flag} {path} is not a file")
    try:
        with expanded.open("rb") as handle:
            handle.read(1)
    except OSError as exc:
        raise FlagError(
            f"{flag} {path} is not readable ({exc.strerror}); fix its permissions"
        ) from exc
    return expanded


def _check_something_to_recover(
    args: argparse.Namespace, site_dir: Path, talosconfig: Path | None
) -> None:
    # A run cut short after apply-config has a talosconfig but no kubeconfig yet: recover
    # continues from the talosconfig (bootstrap etcd if needed, fetch the kubeconfig).
    default = args.kubeconfig_out or site_dir / "kubeconfig"
    site_talosconfig = talosconfig or site_dir / "talosconfig"
    if not default.is_file() and not site_talosconfig.is_file():
        raise FlagError(
            f"--bootstrap-mode recover needs what an earlier bootstrap left: a kubeconfig "
            f"(--kubeconfig, or {default}) or a talosconfig ({site_talosconfig}); with "
            "neither, nothing was installed yet: run --bootstrap-mode fresh"
        )


def _app_url(given: str | None, node_ip: str) -> str:
    app_url = given or f"http://{_url_host(node_ip)}:3000"
    try:
        parts = urlsplit(app_url)
        parts.port  # noqa: B018 - `http://[::1` and a port that is no number raise here
    except ValueError:
        parts = urlsplit("")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FlagError(f"--app-url {app_url!r} must be an http(s) URL, e.g. http://{node_ip}:3000")
    return app_url


def options_from_args(args: argparse.Namespace) -> BootstrapOptions:  # noqa: PLR0912
    """Validate parsed flags; raise FlagError with the first problem found."""
    mode = str(args.bootstrap_mode)
    if mode not in ("fresh", "recover"):
        raise FlagError(f"--bootstrap-mode {mode!r} is unknown; use fresh or recover")
    # Imported here: the release module brings pydantic models, YAML and the image-reference
    # grammar (~40 ms of CPU), which the parser of every `appliance` command does not need.
    from appliance.releases import parse_version

    try:
        release = str(parse_version(args.release_version))
    except ReleaseError as exc:
        raise FlagError(f"--release-version: {exc}") from None
    node_ip = _check_ip("--node-ip", args.node_ip)
    hostname = str(args.hostname).strip().lower()
    if not _HOSTNAME_RE.match(hostname):
        raise FlagError(f"--hostname {args.hostname!r} is not a valid hostname (a-z, 0-9, -)")
    app_url = _app_url(args.app_url, node_ip)
    network_mode = str(args.network_mode)
    if network_mode not in ("dhcp", "static"):
        raise FlagError(f"--network-mode {network_mode!r} is unknown; use dhcp or static")
    dns: tuple[str, ...] = ()
    if args.dns_servers:
        dns = tuple(
            _check_ip("--dns-servers", item) for item in args.dns_servers.split(",") if item.strip()
        )
        if not dns:
            raise FlagError("--dns-servers is empty; pass e.g. 1.1.1.1,8.8.8.8")
    disk = str(args.install_disk)
    if not disk.startswith("/dev/"):
        raise FlagError(f"--install-disk {disk!r} must be a device path such as /dev/sda")
    branch = args.branch_override
    if branch is not None and branch != "current" and not _BRANCH_RE.match(branch):
        raise FlagError(f"--branch-override {branch!r} is not a valid Git branch name")
    repo_url = str(args.repo_url).strip()
    if not repo_url:
        raise FlagError("--repo-url is empty; pass the Git repository Flux should fetch")
    if args.config_dir is not None:
        config_dir = args.config_dir.expanduser()
        if not config_dir.is_dir():
            raise FlagError(
                f"--config-dir {args.config_dir} does not exist or is not a "
                "directory; create it or omit the flag"
            )
    else:
        config_dir = DEFAULT_CONFIG_DIR.expanduser()
    site_id = str(args.site_id or hostname)
    if not _SITE_RE.match(site_id):
        raise FlagError(f"--site-id {site_id!r} must be lowercase letters, digits and dashes")
    kubeconfig = (
        _check_file("--kubeconfig", args.kubeconfig, must_exist=True) if args.kubeconfig else None
    )
    talosconfig = (
        _check_file("--talosconfig", args.talosconfig, must_exist=False)
        if args.talosconfig
        else None
    )
    if mode == "recover" and kubeconfig is None and not args.dry_run:
        _check_something_to_recover(args, config_dir / site_id, talosconfig)
    for flag, value in (
        ("--host-timeout", args.host_timeout),
        ("--install-timeout", args.install_timeout),
    ):
        if value <= 0:
            raise FlagError(f"{flag} must be positive seconds, got {value}")
    return BootstrapOptions(
        mode=mode,  # type: ignore[arg-type]
        release_version=release,
        node_ip=node_ip,
        hostname=hostname,
        app_url=app_url.rstrip("/"),
        interface=args.interface,
        network_mode=network_mode,  # type: ignore[arg-type]
        dns_servers=dns,
        install_disk=disk,
        repo_url=repo_url,
        branch_override=branch,
        require_remote_branch=bool(args.require_remote_branch),
        kubeconfig=kubeconfig,
        kubeconfig_out=args.kubeconfig_out.expanduser() if args.kubeconfig_out else None,
        talosconfig=talosconfig,
        config_dir=config_dir,
        site_id=site_id,
        profile=str(args.profile),
        prepull_images=bool(args.prepull_images),
        skip_image_tag_validation=bool(args.skip_image_tag_validation),
        dry_run=bool(args.dry_run),
        registry_url=args.registry_url or os.environ.get("APPLIANCE_REGISTRY_URL") or None,
        host_timeout=float(args.host_timeout),
        install_timeout=float(args.install_timeout),
        poll_interval=float(args.poll_interval),
    )
