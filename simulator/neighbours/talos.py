"""The simulated Talos host: a state machine on the virtual clock and its apid stand-in endpoint.

maintenance -> (apply-config) -> installing -> running -> (bootstrap) -> Kubernetes up.
The install stalls with the installer-pull DNS error when the default resolver refuses lookups
and the machine config names no DNS servers (finding-01); with explicit servers it completes
(finding-02).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from simulator.clock import VirtualClock
from simulator.errors import SimulatorError
from simulator.neighbours.talos_config import (
    ca_fingerprint,
    new_ca_crt,
    unreachable_text,
    write_talosconfig,
)

__all__ = [
    "CERTIFICATE_REQUIRED",
    "UNKNOWN_AUTHORITY",
    "ConsoleLine",
    "HostSpec",
    "HostState",
    "MachineConfig",
    "TalosApiError",
    "TalosHost",
    "installer_dns_error",
    "unreachable_text",
]

DEFAULT_SCHEMATIC = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba"


class HostSpec(BaseModel):
    """The host/Talos part of a scenario (`host:` in the YAML)."""

    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True
    )

    initial_state: Literal["maintenance", "installing", "running"] = "maintenance"
    # running only: whether Kubernetes is already bootstrapped (an installed appliance).
    kubernetes_up: bool = False
    talos_version: str = "v1.12.0"
    kubernetes_version: str = "v1.31.4"
    installer_image: str = f"factory.talos.dev/metal-installer/{DEFAULT_SCHEMATIC}:v1.12.0"
    node_name: str = "appliance-single-node"
    install_disk: str = "/dev/sda"
    # finding-01: DHCP handed out 192.168.64.1 as resolver and it refused DNS.
    default_resolver_refuses_dns: bool = True
    default_resolver: str = "192.168.64.1:53"
    # Virtual seconds until the maintenance API answers after power-on (connection refused before).
    boot_seconds: float = Field(default=0.0, ge=0)
    install_seconds: float = Field(default=120.0, ge=0)
    # From `talosctl bootstrap` to etcd + kube-apiserver answering.
    bootstrap_seconds: float = Field(default=60.0, ge=0)
    # From `talosctl reset` back to maintenance mode.
    reset_seconds: float = Field(default=30.0, ge=0)
    # For a host that starts installed: whether the talosconfig the world hands out is not the one
    # the node was installed with (finding-04: `x509: certificate signed by unknown authority`).
    stale_talosconfig: bool = False
    # The Pod Security admission its kube-apiserver runs: `talos`, the default machine
    # configuration's (baseline enforced and restricted warned outside kube-system, so a pod
    # with a hostPort needs its namespace labelled); `kube-apiserver`, a machine configuration
    # that removed it (only namespace labels enforce).
    pod_security: Literal["talos", "kube-apiserver"] = "talos"


# Talos API errors as the real talosctl prints them (a gRPC status over a TLS dial).
CERTIFICATE_REQUIRED = (
    'rpc error: code = Unavailable desc = connection error: desc = "transport: authentication '
    'handshake failed: remote error: tls: certificate required"'
)
UNKNOWN_AUTHORITY = (
    'rpc error: code = Unavailable desc = connection error: desc = "transport: authentication '
    "handshake failed: tls: failed to verify certificate: x509: certificate signed by unknown "
    'authority"'
)
MAINTENANCE_UNIMPLEMENTED = (
    "rpc error: code = Unimplemented desc = API is not implemented in maintenance mode"
)

HostState = Literal["booting", "maintenance", "installing", "running", "resetting"]


class TalosApiError(SimulatorError):
    """A Talos API call failed; `message` is the text talosctl prints, `kind` classifies it."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True)
class ConsoleLine:
    """One line of the node's console (what `talosctl dmesg` and the VM screen show)."""

    at: datetime
    message: str


@dataclass(frozen=True)
class MachineConfig:
    """The parts of an applied machine config the host model acts on."""

    ca_fingerprint: str | None
    nameservers: tuple[str, ...]
    install_image: str | None
    install_disk: str | None
    hostname: str | None

    @classmethod
    def parse(cls, text: str) -> MachineConfig:
        """Read a controlplane.yaml; raises TalosApiError (InvalidArgument) when it is not one."""
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise TalosApiError(
                "invalid", f"rpc error: code = InvalidArgument desc = failed to parse config: {exc}"
            ) from exc
        if not isinstance(doc, dict) or not isinstance(doc.get("machine"), dict):
            raise TalosApiError(
                "invalid",
                "rpc error: code = InvalidArgument desc = failed to parse config: "
                "machine config has no machine section",
            )
        machine: dict[str, Any] = doc["machine"]
        network = machine.get("network") or {}
        install = machine.get("install") or {}
        ca = (machine.get("ca") or {}).get("crt")
        return cls(
            ca_fingerprint=ca_fingerprint(ca) if isinstance(ca, str) and ca else None,
            nameservers=tuple(str(n) for n in network.get("nameservers") or ()),
            install_image=install.get("image") or None,
            install_disk=install.get("disk") or None,
            hostname=network.get("hostname") or None,
        )


class TalosHost:
    """The host state machine on the virtual clock.

    Transitions that take time are stored as deadlines and applied by `tick()`, which every API
    call runs first; the world also calls `tick()` at `next_deadline()` so callbacks fire on time
    even when nobody asks the node anything.
    """

    def __init__(
        self,
        spec: HostSpec,
        *,
        clock: VirtualClock,
        node_ip: str,
        on_kubernetes_up: Callable[[], None] | None = None,
        on_kubernetes_down: Callable[[], None] | None = None,
        on_change: Callable[[TalosHost], None] | None = None,
        kubeconfig: Callable[[], str] | None = None,
    ) -> None:
        self.spec = spec
        self.clock = clock
        self.node_ip = node_ip
        self._on_up = on_kubernetes_up
        self._on_down = on_kubernetes_down
        self._on_change = on_change
        self._kubeconfig = kubeconfig
        self._lock = threading.RLock()
        self._console: list[ConsoleLine] = []
        self._pending: list[Callable[[], None]] = []
        now = clock.now()
        self.state: HostState = "booting"
        self._deadline: datetime | None = now + timedelta(seconds=spec.boot_seconds)
        self._after: HostState = "maintenance"
        self.config: MachineConfig | None = None
        self.install_error: str | None = None
        self.etcd_bootstrapped = False
        self.kubernetes_up = False
        self._kube_at: datetime | None = None
        # The CA of the node's installed config: what a talosconfig must carry to be trusted.
        self.ca_fingerprint: str | None = None
        self._ca_pem: str | None = None
        if spec.initial_state != "maintenance":
            self._ca_pem = new_ca_crt()
            self.ca_fingerprint = ca_fingerprint(self._ca_pem)
            self.config = MachineConfig(
                self.ca_fingerprint, (), None, spec.install_disk, spec.node_name
            )
        if spec.initial_state == "installing":
            self._begin_install(now)
        elif spec.initial_state == "running":
            self.state, self._deadline = "running", None
            if spec.kubernetes_up:
                self.etcd_bootstrapped = True
                self._kube_at = now
        self.tick()

    # -- time ------------------------------------------------------------------------------
    def next_deadline(self) -> datetime | None:
        """The next virtual instant at which the host changes by itself (None: nothing pending)."""
        with self._lock:
            candidates = [d for d in (self._deadline, self._kube_at) if d is not None]
            return min(candidates) if candidates else None

    def tick(self) -> None:
        """Apply every transition due by now, then run callbacks outside the lock."""
        with self._lock:
            now = self.clock.now()
            changed = False
            while self._deadline is not None and self._deadline <= now:
                at, self._deadline = self._deadline, None
                self._arrive(self._after, at)
                changed = True
            if self._kube_at is not None and self._kube_at <= now and self.state == "running":
                self._kube_at = None
                self.kubernetes_up = True
                self._say(now, "kubernetes: kube-apiserver is ready")
                if self._on_up is not None:
                    self._pending.append(self._on_up)
                changed = True
            callbacks, self._pending = self._pending, []
        for callback in callbacks:
            callback()
        if changed and self._on_change is not None:
            self._on_change(self)

    def _arrive(self, state: HostState, at: datetime) -> None:
        self.state = state
        if state == "maintenance":
            self._say(at, "maintenance mode: waiting for the machine configuration")
            self._say(at, f"use `talosctl apply-config --insecure -n {self.node_ip}` to apply it")
        elif state == "running":
            self.install_error = None
            self._say(at, f"install: installed Talos {self.spec.talos_version}, rebooting")
            self._say(at, "etcd: waiting for `talosctl bootstrap`")

    def _say(self, at: datetime, message: str) -> None:
        self._console.append(ConsoleLine(at, message))

    def _begin_install(self, now: datetime) -> None:
        self.state = "installing"
        self._deadline = None
        image = (self.config.install_image if self.config else None) or self.spec.installer_image
        nameservers = self.config.nameservers if self.config else ()
        if self.spec.default_resolver_refuses_dns and not nameservers:
            self.install_error = installer_dns_error(image, self.spec.default_resolver)
            self._say(now, f"install: {self.install_error}")
            return
        self.install_error = None
        self._say(now, f"install: pulling {image}")
        self._deadline = now + timedelta(seconds=self.spec.install_seconds)
        self._after = "running"

    # -- API -------------------------------------------------------------------------------
    def authorize(self, *, insecure: bool, ca: str | None) -> None:
        """Refuse a call the way the TLS handshake would; raises TalosApiError."""
        self.tick()
        with self._lock:
            if self.state in ("booting", "resetting"):
                raise TalosApiError("unreachable", unreachable_text(self.node_ip))
            if self._maintenance_api():
                if insecure:
                    return
                # A stalled install also runs apid with the applied config's CA, which is how an
                # admin reads the installer error (`talosctl health`, `dmesg`).
                stalled = self.state == "installing"
                if stalled and ca is not None and ca == self.ca_fingerprint:
                    return
                # The maintenance service serves a self-signed certificate.
                raise TalosApiError("unknown_authority", UNKNOWN_AUTHORITY)
            if insecure:
                raise TalosApiError("certificate_required", CERTIFICATE_REQUIRED)
            if ca is None or ca != self.ca_fingerprint:
                raise TalosApiError("unknown_authority", UNKNOWN_AUTHORITY)

    def _maintenance_api(self) -> bool:
        # A stalled install never left the boot medium, so its maintenance API still answers and
        # a rerun with explicit DNS servers can apply a new config (finding-02).
        return self.state == "maintenance" or (
            self.state == "installing" and self.install_error is not None
        )

    def version(self) -> dict[str, str]:
        """What `talosctl version` reports for the server."""
        return {
            "node": self.node_ip,
            "tag": self.spec.talos_version,
            "maintenance": str(self._maintenance_api()).lower(),
        }

    def disks(self) -> list[dict[str, str]]:
        """The block devices `talosctl get disks` lists."""
        name = self.spec.install_disk.rsplit("/", 1)[-1]
        return [
            {"id": name, "size": "86 GB", "transport": "virtio", "model": "QEMU HARDDISK"},
            {"id": "sr0", "size": "103 MB", "transport": "ata", "model": "QEMU DVD-ROM"},
        ]

    def apply_config(self, text: str) -> str:
        """Apply a machine config (the caller authorized first); returns talosctl's message."""
        config = MachineConfig.parse(text)
        with self._lock:
            now = self.clock.now()
            if self._maintenance_api():
                self.config = config
                self.ca_fingerprint = config.ca_fingerprint
                self._say(now, "maintenance: machine configuration applied, starting install")
                self._begin_install(now)
                result = "Applied configuration without a reboot"
            else:
                # An installed node only updates its config; it keeps the CA it was installed with.
                self.config = MachineConfig(
                    self.ca_fingerprint,
                    config.nameservers,
                    config.install_image,
                    config.install_disk,
                    config.hostname,
                )
                result = "Applied configuration without a reboot"
        self.tick()
        return result

    def bootstrap(self) -> None:
        """Bootstrap etcd; Kubernetes answers `bootstrap_seconds` later."""
        with self._lock:
            if self._maintenance_api():
                raise TalosApiError("unimplemented", MAINTENANCE_UNIMPLEMENTED)
            if self.state != "running":
                raise TalosApiError(
                    "precondition",
                    "rpc error: code = FailedPrecondition desc = bootstrap is not available yet",
                )
            if self.etcd_bootstrapped:
                raise TalosApiError(
                    "already_exists",
                    "rpc error: code = AlreadyExists desc = etcd data directory is not empty",
                )
            now = self.clock.now()
            self.etcd_bootstrapped = True
            self._kube_at = now + timedelta(seconds=self.spec.bootstrap_seconds)
            self._say(now, "etcd: bootstrapping the cluster")
        self.tick()

    def kubeconfig(self) -> str:
        """The admin kubeconfig (from the world's fake API); only once installed."""
        with self._lock:
            if self._maintenance_api():
                raise TalosApiError("unimplemented", MAINTENANCE_UNIMPLEMENTED)
            if self._kubeconfig is None:
                raise TalosApiError(
                    "unavailable",
                    "rpc error: code = Unavailable desc = kubeconfig is not available yet",
                )
        return self._kubeconfig()

    def health(self) -> dict[str, Any]:
        """The checks `talosctl health` walks through: done, failed, or still waiting."""
        with self._lock:
            if self._maintenance_api() and self.install_error is None:
                raise TalosApiError("unimplemented", MAINTENANCE_UNIMPLEMENTED)
            checks: list[dict[str, Any]] = []
            failed: str | None = None
            if self.install_error is not None:
                failed = f"install failed: {self.install_error}"
            elif self.state == "installing":
                checks.append({"name": "waiting for installation", "ok": False})
            elif not self.etcd_bootstrapped:
                failed = "etcd is not bootstrapped: run `talosctl bootstrap`"
                checks.append({"name": "waiting for etcd to be healthy", "ok": False})
            else:
                etcd_ok = True
                checks.append({"name": "waiting for etcd to be healthy", "ok": etcd_ok})
                for name in (
                    "waiting for etcd members to be consistent across nodes",
                    "waiting for apid to be ready",
                    "waiting for kubelet to be healthy",
                    "waiting for all k8s nodes to report",
                    "waiting for all control plane static pods to be running",
                    "waiting for kube-proxy to report ready",
                    "waiting for all k8s nodes to report ready",
                ):
                    checks.append({"name": name, "ok": self.kubernetes_up})
            done = failed is None and all(c["ok"] for c in checks)
            return {
                "done": done,
                "failed": failed,
                "checks": checks,
                "now": self.clock.now().isoformat(),
            }

    def reset(self, *, graceful: bool, reboot: bool) -> None:
        """Wipe the node back to maintenance mode (`reset --graceful=false --reboot`)."""
        was_up = False
        with self._lock:
            now = self.clock.now()
            was_up = self.kubernetes_up
            self._say(now, f"reset: wiping disks (graceful={str(graceful).lower()})")
            self.config = None
            self.ca_fingerprint = None
            self.install_error = None
            self.etcd_bootstrapped = False
            self.kubernetes_up = False
            self._kube_at = None
            self.state = "resetting"
            self._after = "maintenance" if reboot else "booting"
            # Without --reboot the node powers off and stays unreachable.
            self._deadline = now + timedelta(seconds=self.spec.reset_seconds) if reboot else None
        if was_up and self._on_down is not None:
            self._on_down()
        self.tick()

    def check_console(self) -> None:
        """dmesg is not served in plain maintenance mode; a stalled install shows its console."""
        with self._lock:
            if self.state == "maintenance":
                raise TalosApiError("unimplemented", MAINTENANCE_UNIMPLEMENTED)

    def console(self) -> list[ConsoleLine]:
        """The console so far (oldest first)."""
        with self._lock:
            return list(self._console)

    def write_talosconfig(self, path: Path, *, context: str | None = None) -> Path:
        """Write a talosconfig for this node (stale, i.e. another CA, when the spec says so)."""
        with self._lock:
            ca = self._ca_pem
        if ca is None or self.spec.stale_talosconfig:
            ca = new_ca_crt()
        write_talosconfig(
            path, context=context or self.spec.node_name, ca_pem=ca, node=self.node_ip
        )
        return path


def installer_dns_error(image: str, resolver: str) -> str:
    """containerd's error for an installer pull whose registry name does not resolve."""
    ref = image if ":" in image.rsplit("/", 1)[-1] else f"{image}:latest"
    host, _, rest = ref.partition("/")
    repository, _, tag = rest.rpartition(":")
    return (
        f'failed to pull image "{ref}": failed to resolve reference "{ref}": failed to do '
        f'request: Head "https://{host}/v2/{repository}/manifests/{tag}": dial tcp: lookup '
        f"{host} on {resolver}: connection refused"
    )
