"""The Host/Talos phase driving the simulator's fake `talosctl` against a simulated node.

The node runs on a fast virtual clock (installs take seconds of wall time); the bootstrapper
only sees the `talosctl` executable on PATH, exactly as on an admin's machine.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from appliance.bootstrap.display import Display
from appliance.bootstrap.flags import options_from_args
from appliance.bootstrap.host import run_host_phase
from appliance.bootstrap.talosctl import Talosctl
from appliance.errors import BootstrapError
from simulator.clock import VirtualClock
from simulator.neighbours.addresses import choose_node_address
from simulator.neighbours.shims import write_shims
from simulator.neighbours.talos import HostSpec, TalosHost
from simulator.neighbours.talos_endpoint import TalosEndpoint
from tests.unit.bootstrap.conftest import parse

KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: x}}]\n"


@dataclass
class Node:
    ip: str
    host: TalosHost
    talosctl: Talosctl


def start_node(tmp_path: Path, spec: HostSpec) -> Iterator[Node]:
    clock = VirtualClock(datetime(2026, 4, 30, 12, tzinfo=UTC), speed=200.0)
    ip = choose_node_address(ports=(50000,))
    host = TalosHost(spec, clock=clock, node_ip=ip, kubeconfig=lambda: KUBECONFIG)
    tools = write_shims(tmp_path / "bin")
    with TalosEndpoint(host):
        yield Node(ip, host, Talosctl(executable=str(tools["talosctl"]), timeout=60))


@pytest.fixture
def maintenance_node(tmp_path: Path) -> Iterator[Node]:
    yield from start_node(tmp_path, HostSpec(install_seconds=120, bootstrap_seconds=60))


@pytest.fixture
def installed_node(tmp_path: Path) -> Iterator[Node]:
    yield from start_node(tmp_path, HostSpec(initial_state="running", kubernetes_up=True))


def host_phase(node: Node, tmp_path: Path, *extra: str) -> str:
    cfg = tmp_path / "cfg"
    cfg.mkdir(exist_ok=True)
    options = options_from_args(
        parse(
            "--release-version",
            "1.0-rc5",
            "--node-ip",
            node.ip,
            "--config-dir",
            str(cfg),
            "--poll-interval",
            "0.2",
            "--host-timeout",
            "60",
            *extra,
        )
    )
    out = io.StringIO()
    try:
        run_host_phase(options, display=Display(out), talosctl=node.talosctl)
    finally:
        print(out.getvalue())
    return out.getvalue()


def test_fresh_install_with_dns_servers_gets_a_kubeconfig(
    maintenance_node: Node, tmp_path: Path
) -> None:
    """finding-02: with --dns-servers the node installs, bootstraps and hands out a kubeconfig."""
    host_phase(maintenance_node, tmp_path, "--dns-servers", "1.1.1.1,8.8.8.8")
    site = tmp_path / "cfg" / "appliance-single-node"
    assert (site / "kubeconfig").read_text() == KUBECONFIG
    assert maintenance_node.host.etcd_bootstrapped
    applied = maintenance_node.host.config
    assert applied is not None
    assert applied.nameservers == ("1.1.1.1", "8.8.8.8")
    config = yaml.safe_load((site / "controlplane.yaml").read_text())
    assert config["machine"]["network"]["nameservers"] == ["1.1.1.1", "8.8.8.8"]


def test_without_dns_servers_the_installer_pull_fails_in_the_host_layer(
    maintenance_node: Node, tmp_path: Path
) -> None:
    """finding-01: the refused resolver stalls the install: host layer, --dns-servers action."""
    with pytest.raises(BootstrapError) as caught:
        host_phase(maintenance_node, tmp_path)
    assert caught.value.layer == "host"
    assert "--dns-servers 1.1.1.1,8.8.8.8" in caught.value.next_action
    assert "on 192.168.64.1:53: connection refused" in str(caught.value)


def test_rerun_with_dns_after_the_stall_installs(maintenance_node: Node, tmp_path: Path) -> None:
    """finding-02: the rerun reuses the machine config, adds DNS and the install completes."""
    with pytest.raises(BootstrapError):
        host_phase(maintenance_node, tmp_path)
    host_phase(maintenance_node, tmp_path, "--dns-servers", "1.1.1.1,8.8.8.8")
    assert maintenance_node.host.etcd_bootstrapped


def test_installed_node_is_reported_at_once(installed_node: Node, tmp_path: Path) -> None:
    """finding-20: an installed node answers `certificate required`: recover or reset, no wait."""
    with pytest.raises(BootstrapError) as caught:
        host_phase(installed_node, tmp_path, "--host-timeout", "600")
    assert "installed Talos" in str(caught.value)
    assert "--bootstrap-mode recover" in caught.value.next_action
    assert len(installed_node.talosctl.history) == 2  # gen config, one maintenance probe
