"""Running `talosctl`: every call's output kept for diagnosis, and the DNS failure it may show.

The bootstrapper only ever sees the executable on PATH, as on an admin's machine (the simulator
provides a fake one that answers like the real CLI).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field

from appliance.errors import BootstrapError

__all__ = ["DNS_NEXT_ACTION", "Result", "Talosctl", "dns_failure", "node_args"]

DNS_NEXT_ACTION = (
    "rerun bootstrap with --dns-servers 1.1.1.1,8.8.8.8 (the node's DHCP resolver refused DNS "
    "lookups, so the Talos installer image could not be pulled)"
)
_DNS_RE = re.compile(
    r"lookup (?P<host>\S+?)(?: on (?P<server>\S+?))?: .*?"
    r"(?P<why>connection refused|no such host|server misbehaving|i/o timeout)"
)


def dns_failure(text: str) -> str | None:
    """The DNS lookup failure in talosctl output, if any (e.g. `lookup factory.talos.dev ...`)."""
    match = _DNS_RE.search(text)
    return match.group(0) if match else None


@dataclass(frozen=True)
class Result:
    """One talosctl run."""

    args: tuple[str, ...]
    returncode: int
    output: str

    @property
    def ok(self) -> bool:
        """Exit status 0."""
        return self.returncode == 0


@dataclass
class Talosctl:
    """Runs the `talosctl` executable; every call's output is kept for diagnosis."""

    executable: str = "talosctl"
    runner: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run
    timeout: float = 120.0
    history: list[Result] = field(default_factory=list)

    def available(self) -> bool:
        """True when the executable is on PATH (or an existing path)."""
        return shutil.which(self.executable) is not None

    def __call__(self, *args: str, timeout: float | None = None) -> Result:
        try:
            done = self.runner(
                [self.executable, *args],
                capture_output=True,
                text=True,
                timeout=timeout or self.timeout,
                check=False,
            )
            result = Result(tuple(args), done.returncode, (done.stdout or "") + (done.stderr or ""))
        except FileNotFoundError:
            raise BootstrapError(
                f"{self.executable} was not found on PATH",
                layer="host",
                next_action="install talosctl (https://www.talos.dev/latest/talos-guides/"
                "install/talosctl/) or pass --bootstrap-mode recover with --kubeconfig",
            ) from None
        except subprocess.TimeoutExpired:
            result = Result(tuple(args), 124, f"talosctl {' '.join(args)} timed out")
        self.history.append(result)
        return result


def node_args(ip: str) -> list[str]:
    """`-n IP -e IP`: the single node is both the target and the endpoint."""
    return ["-n", ip, "-e", ip]
