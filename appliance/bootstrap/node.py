"""Talking to the node through talosctl: maintenance mode, etcd, the kubeconfig, health.

Each step waits (on the injected clock) within the host timeout and turns what talosctl said into
a BootstrapError with the layer and the next action: a DNS failure of the installer pull
(finding-01), a node already installed (finding-20), a talosconfig of another CA (finding-04).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from appliance.bootstrap.display import Display
from appliance.bootstrap.talosctl import DNS_NEXT_ACTION, Talosctl, dns_failure, node_args
from appliance.errors import BootstrapError
from appliance.words import human_elapsed

__all__ = [
    "Waiter",
    "apply_config",
    "bootstrap_etcd",
    "fetch_kubeconfig",
    "installed_error",
    "wait_for_maintenance",
    "wait_healthy",
]

_INSTALLED_MARKERS = ("tls: certificate required", "certificate required")
_STALE_MARKERS = ("certificate signed by unknown authority",)
_ALREADY_BOOTSTRAPPED = (
    "AlreadyExists",
    "already bootstrapped",
    "etcd data directory is not empty",
)


def installed_error(ip: str) -> BootstrapError:
    return BootstrapError(
        f"the node {ip} answers as an installed Talos, not in maintenance mode "
        "(tls: certificate required)",
        layer="host",
        next_action=(
            "continue the install with --bootstrap-mode recover (it picks up the site's "
            "talosconfig or kubeconfig), or "
            "wipe the node with `appliance reset --force` and boot it into maintenance mode"
        ),
    )


# A node still in maintenance mode answers bootstrap with this; only then can the install be
# stalled (on DNS, say) rather than running, so only then is `talosctl health` asked why.
_MAINTENANCE_MARKER = "maintenance mode"
# Host polls back off from --poll-interval up to this.
MAX_HOST_POLL_SECONDS = 30.0


@dataclass
class Waiter:
    timeout: float
    sleep: Callable[[float], None]
    monotonic: Callable[[], float]
    interval: float
    polls: int = 0

    def __post_init__(self) -> None:
        self.start = self.monotonic()

    def elapsed(self) -> float:
        return self.monotonic() - self.start

    def expired(self) -> bool:
        return self.elapsed() >= self.timeout

    def pause(self) -> None:
        """Sleep before the next poll: the interval, doubling up to MAX_HOST_POLL_SECONDS, and
        never past the timeout (an install takes minutes; each poll is a talosctl run)."""
        ceiling = max(self.interval, MAX_HOST_POLL_SECONDS)
        step = min(self.interval * 2**self.polls, ceiling)
        self.polls += 1
        self.sleep(max(0.0, min(step, self.timeout - self.elapsed())))


def wait_healthy(
    ip: str, talosconfig: Path, talosctl: Talosctl, display: Display, timeout: float
) -> None:
    """`talosctl health` until Kubernetes answers; a failure other than DNS only warns."""
    display.progress("waiting for Kubernetes to report healthy (talosctl health)")
    result = talosctl(
        "--talosconfig",
        str(talosconfig),
        "health",
        *node_args(ip),
        "--wait-timeout",
        f"{int(timeout)}s",
        timeout=timeout + 30.0,
    )
    if result.ok:
        display.progress("Kubernetes is healthy")
        return
    dns = dns_failure(result.output)
    if dns is not None:
        raise _dns_error(ip, dns)
    last = result.output.strip().splitlines()[-1] if result.output.strip() else "no output"
    display.warn(f"talosctl health did not pass ({last}); continuing with the Kubernetes API")


def apply_config(ip: str, machine_config: Path, talosctl: Talosctl, display: Display) -> None:
    """`talosctl apply-config --insecure`: the node installs Talos with `machine_config`."""
    display.progress(f"applying machine config to {ip} (maintenance mode)")
    applied = talosctl("apply-config", "--insecure", *node_args(ip), "--file", str(machine_config))
    if not applied.ok:
        if any(m in applied.output for m in _INSTALLED_MARKERS):
            raise installed_error(ip)
        raise BootstrapError(
            f"talosctl apply-config failed: {applied.output.strip()}",
            layer="host",
            next_action=f"check the node console; the machine config is at {machine_config}",
        )


def wait_for_maintenance(
    ip: str, talosctl: Talosctl, display: Display, waiter: Waiter, *, installed_ok: bool = False
) -> bool:
    """Wait until the maintenance API answers: True. An installed node (it got its machine
    config already) is False when `installed_ok` (recover), else the finding-20 error."""
    display.progress(f"waiting for the Talos maintenance API on {ip}")
    last = ""
    while True:
        probe = talosctl("get", "disks", "--insecure", *node_args(ip))
        if probe.ok:
            display.progress(f"maintenance API answered after {human_elapsed(waiter.elapsed())}")
            return True
        if any(m in probe.output for m in _INSTALLED_MARKERS):
            if installed_ok:
                display.progress(f"{ip} already has its machine config (installed or installing)")
                return False
            raise installed_error(ip)
        last = probe.output.strip().splitlines()[-1] if probe.output.strip() else ""
        if waiter.expired():
            raise BootstrapError(
                f"Timed out waiting for Talos maintenance API on {ip} after "
                f"{human_elapsed(waiter.timeout)} (last error: {last or 'none'})",
                layer="host",
                next_action=f"boot the node from the Talos ISO into maintenance mode and check "
                f"that {ip} is reachable on port 50000; for an installed node use "
                "--bootstrap-mode recover or `appliance reset --force`",
            )
        waiter.pause()


def _diagnose_install(ip: str, talosctl: Talosctl, texts: Sequence[str]) -> str | None:
    """Look for the installer-pull DNS failure in what talosctl said and in the node's log."""
    for text in texts:
        found = dns_failure(text)
        if found:
            return found
    for args in (("dmesg", *node_args(ip)), ("dmesg", "--insecure", *node_args(ip))):
        found = dns_failure(talosctl(*args).output)
        if found:
            return found
    return None


def bootstrap_etcd(
    ip: str, talosconfig: Path, talosctl: Talosctl, display: Display, waiter: Waiter
) -> None:
    display.progress("waiting for the Talos install to finish, then bootstrapping etcd")
    seen: list[str] = []
    while True:
        result = talosctl("--talosconfig", str(talosconfig), "bootstrap", *node_args(ip))
        if result.ok or any(m in result.output for m in _ALREADY_BOOTSTRAPPED):
            display.progress(f"etcd bootstrapped after {human_elapsed(waiter.elapsed())}")
            return
        seen.append(result.output)
        if any(m in result.output for m in _STALE_MARKERS):
            raise BootstrapError(
                f"talosconfig {talosconfig} does not match the node's CA "
                "(x509: certificate signed by unknown authority)",
                layer="host",
                next_action="pass the talosconfig this node was installed with, or continue "
                "with --bootstrap-mode recover --kubeconfig <kubeconfig>",
            )
        dns = dns_failure(result.output)
        if dns is None and _MAINTENANCE_MARKER in result.output:
            # A stalled install keeps the maintenance API up: bootstrap only says "maintenance
            # mode"; `talosctl health` shows the installer error (the real node prints it too).
            # A running install (any other answer) has none to show.
            health = talosctl(
                "--talosconfig",
                str(talosconfig),
                "health",
                *node_args(ip),
                "--wait-timeout",
                "5s",
                timeout=30.0,
            )
            seen.append(health.output)
            dns = dns_failure(health.output)
        if dns is not None:
            raise _dns_error(ip, dns)
        if waiter.expired():
            dns = _diagnose_install(ip, talosctl, seen)
            if dns is not None:
                raise _dns_error(ip, dns)
            raise BootstrapError(
                f"Timed out after {human_elapsed(waiter.timeout)} waiting for Talos on {ip} to "
                "install and accept bootstrap "
                f"(last: {result.output.strip()[-200:] or 'no output'})",
                layer="host",
                next_action=f"check the node console or `talosctl dmesg -n {ip} -e {ip}`",
            )
        waiter.pause()


def _dns_error(ip: str, evidence: str) -> BootstrapError:
    return BootstrapError(
        f"the Talos installer image pull on {ip} failed on DNS: {evidence}",
        layer="host",
        next_action=DNS_NEXT_ACTION,
    )


def fetch_kubeconfig(
    ip: str,
    talosconfig: Path,
    *,
    kubeconfig: Path,
    talosctl: Talosctl,
    display: Display,
    waiter: Waiter,
) -> None:
    while True:
        result = talosctl(
            "--talosconfig",
            str(talosconfig),
            "kubeconfig",
            str(kubeconfig),
            *node_args(ip),
            "--force",
        )
        if result.ok and kubeconfig.is_file():
            kubeconfig.chmod(0o600)
            display.progress(f"wrote kubeconfig {kubeconfig}")
            return
        if waiter.expired():
            raise BootstrapError(
                f"could not fetch the kubeconfig from {ip}: {result.output.strip()[-200:]}",
                layer="host",
                next_action=f"run `talosctl kubeconfig -n {ip} -e {ip}` by hand, then rerun "
                "with --bootstrap-mode recover --kubeconfig <file>",
            )
        waiter.pause()
