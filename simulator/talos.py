"""The simulated Talos host: a state machine on the virtual clock and its apid stand-in endpoint.

maintenance -> (apply-config) -> installing -> running -> (bootstrap) -> Kubernetes up.
The install stalls with the installer-pull DNS error when the default resolver refuses lookups
and the machine config names no DNS servers (finding-01); with explicit servers it completes
(finding-02).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

__all__ = ["HostSpec"]

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
