"""The fake talosctl as a subprocess against the simulated Talos endpoint on a node address."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from simulator.clock import VirtualClock
from simulator.neighbours.addresses import choose_node_address
from simulator.neighbours.shims import write_shims
from simulator.neighbours.talos import HostSpec, TalosHost
from simulator.neighbours.talos_endpoint import TalosEndpoint


@dataclass
class Node:
    ip: str
    host: TalosHost
    clock: VirtualClock
    kube_up: list[bool]


@pytest.fixture
def node() -> Iterator[Node]:
    clock = VirtualClock(datetime(2026, 4, 30, 12, tzinfo=UTC))
    ip = choose_node_address(ports=(50000,))
    ups: list[bool] = []
    host = TalosHost(
        HostSpec(install_seconds=100, bootstrap_seconds=60),
        clock=clock,
        node_ip=ip,
        on_kubernetes_up=lambda: ups.append(True),
        kubeconfig=lambda: "apiVersion: v1\nkind: Config\ncurrent-context: admin\n",
    )
    with TalosEndpoint(host):
        yield Node(ip, host, clock, ups)


def talosctl(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simulator.neighbours.talosctl", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
        check=False,
    )


def _gen(tmp_path: Path, ip: str, *patches: str) -> Path:
    out = tmp_path / "cfg"
    flags = [f for p in patches for f in ("--config-patch", p)]
    result = talosctl(
        "gen",
        "config",
        "appliance",
        f"https://{ip}:6443",
        "--output-dir",
        str(out),
        *flags,
        "--install-image",
        "factory.talos.dev/metal-installer/abc:v1.12.0",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    return out


def test_gen_config_writes_three_files_and_refuses_to_overwrite(tmp_path: Path) -> None:
    """gen config writes controlplane, worker and talosconfig; no clobbering without --force."""
    out = _gen(tmp_path, "127.42.0.1")
    assert sorted(p.name for p in out.iterdir()) == [
        "controlplane.yaml",
        "talosconfig",
        "worker.yaml",
    ]
    before = (out / "talosconfig").read_text()
    again = talosctl("gen", "config", "appliance", "https://x:6443", "-o", str(out), cwd=tmp_path)
    assert again.returncode == 1
    assert "already exists, use --force to overwrite" in again.stderr
    assert (out / "talosconfig").read_text() == before
    forced = talosctl(
        "gen", "config", "appliance", "https://x:6443", "-o", str(out), "--force", cwd=tmp_path
    )
    assert forced.returncode == 0
    assert (out / "talosconfig").read_text() != before


def test_config_patch_sets_nameservers(tmp_path: Path) -> None:
    """A --config-patch lands in the machine config (how the bootstrapper bakes in DNS servers)."""
    patch = '{"machine": {"network": {"nameservers": ["1.1.1.1", "8.8.8.8"]}}}'
    out = _gen(tmp_path, "127.42.0.1", patch)
    doc = yaml.safe_load((out / "controlplane.yaml").read_text())
    assert doc["machine"]["network"]["nameservers"] == ["1.1.1.1", "8.8.8.8"]


def test_maintenance_api_answers_version_and_disks(node: Node, tmp_path: Path) -> None:
    """In maintenance, `version --insecure` and `get disks --insecure` answer."""
    version = talosctl("version", "--insecure", "-n", node.ip, "-e", node.ip, cwd=tmp_path)
    assert version.returncode == 0, version.stderr
    assert "Tag:         v1.12.0" in version.stdout
    disks = talosctl("get", "disks", "--insecure", "-n", node.ip, "-e", node.ip, cwd=tmp_path)
    assert disks.returncode == 0
    assert "sda" in disks.stdout


def test_nothing_listening_is_connection_refused(tmp_path: Path) -> None:
    """With no Talos API on the address, talosctl prints the dial error and exits 1."""
    ip = choose_node_address(ports=(50000,))
    result = talosctl("version", "--insecure", "-n", ip, "-e", ip, cwd=tmp_path)
    assert result.returncode == 1
    assert f"dial tcp {ip}:50000: connect: connection refused" in result.stderr


def test_apply_config_without_dns_stalls_with_the_dns_error(node: Node, tmp_path: Path) -> None:
    """No DNS servers: the install stalls and dmesg shows the installer pull lookup refused."""
    out = _gen(tmp_path, node.ip)
    ip = node.ip
    applied = talosctl(
        "apply-config",
        "--insecure",
        "-n",
        ip,
        "-e",
        ip,
        "--file",
        str(out / "controlplane.yaml"),
        cwd=tmp_path,
    )
    assert applied.returncode == 0, applied.stderr
    node.clock.advance(3600)
    health = talosctl("--talosconfig", str(out / "talosconfig"), "health", "-n", ip, cwd=tmp_path)
    assert health.returncode == 1
    assert "lookup factory.talos.dev on 192.168.64.1:53: connection refused" in health.stderr
    assert node.host.state == "installing"


def test_full_install_with_dns_then_bootstrap_and_kubeconfig(node: Node, tmp_path: Path) -> None:
    """With DNS servers: install, bootstrap, Kubernetes up, kubeconfig written, health passes."""
    patch = '{"machine": {"network": {"nameservers": ["1.1.1.1", "8.8.8.8"]}}}'
    out = _gen(tmp_path, node.ip, patch)
    ip, cfg = node.ip, str(out / "talosconfig")
    applied = talosctl(
        "apply-config",
        "--insecure",
        "-n",
        ip,
        "-e",
        ip,
        "-f",
        str(out / "controlplane.yaml"),
        cwd=tmp_path,
    )
    assert applied.returncode == 0, applied.stderr
    node.clock.advance(100)
    boot = talosctl("--talosconfig", cfg, "bootstrap", "-n", ip, "-e", ip, cwd=tmp_path)
    assert boot.returncode == 0, boot.stderr
    node.clock.advance(60)
    health = talosctl("--talosconfig", cfg, "health", "-n", ip, "-e", ip, cwd=tmp_path)
    assert health.returncode == 0, health.stderr
    assert node.kube_up == [True]
    kube = talosctl(
        "--talosconfig",
        cfg,
        "kubeconfig",
        str(tmp_path / "kubeconfig"),
        "--force",
        "-n",
        ip,
        "-e",
        ip,
        cwd=tmp_path,
    )
    assert kube.returncode == 0, kube.stderr
    assert "kind: Config" in (tmp_path / "kubeconfig").read_text()


def test_installed_node_answers_insecure_with_certificate_required(
    node: Node, tmp_path: Path
) -> None:
    """`version --insecure` on an installed node fails at once with `tls: certificate required`."""
    patch = '{"machine": {"network": {"nameservers": ["1.1.1.1"]}}}'
    out = _gen(tmp_path, node.ip, patch)
    ip = node.ip
    talosctl(
        "apply-config", "-i", "-n", ip, "-e", ip, "-f", str(out / "controlplane.yaml"), cwd=tmp_path
    )
    node.clock.advance(100)
    result = talosctl("version", "--insecure", "-n", ip, "-e", ip, cwd=tmp_path)
    assert result.returncode == 1
    assert "tls: certificate required" in result.stderr


def test_regenerated_talosconfig_is_an_unknown_authority(node: Node, tmp_path: Path) -> None:
    """After gen config --force, the new talosconfig fails TLS against the installed node."""
    patch = '{"machine": {"network": {"nameservers": ["1.1.1.1"]}}}'
    out = _gen(tmp_path, node.ip, patch)
    ip = node.ip
    talosctl(
        "apply-config", "-i", "-n", ip, "-e", ip, "-f", str(out / "controlplane.yaml"), cwd=tmp_path
    )
    node.clock.advance(100)
    ok = talosctl("--talosconfig", str(out / "talosconfig"), "version", "-n", ip, cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    talosctl(
        "gen", "config", "appliance", f"https://{ip}:6443", "-o", str(out), "--force", cwd=tmp_path
    )
    stale = talosctl("--talosconfig", str(out / "talosconfig"), "version", "-n", ip, cwd=tmp_path)
    assert stale.returncode == 1
    assert "x509: certificate signed by unknown authority" in stale.stderr


def test_reset_returns_the_node_to_maintenance(node: Node, tmp_path: Path) -> None:
    """`reset --graceful=false --reboot` wipes the node; maintenance answers again afterwards."""
    patch = '{"machine": {"network": {"nameservers": ["1.1.1.1"]}}}'
    out = _gen(tmp_path, node.ip, patch)
    ip, cfg = node.ip, str(out / "talosconfig")
    talosctl(
        "apply-config", "-i", "-n", ip, "-e", ip, "-f", str(out / "controlplane.yaml"), cwd=tmp_path
    )
    node.clock.advance(100)
    reset = talosctl(
        "--talosconfig",
        cfg,
        "reset",
        "--graceful=false",
        "--reboot",
        "-n",
        ip,
        "-e",
        ip,
        cwd=tmp_path,
    )
    assert reset.returncode == 0, reset.stderr
    node.clock.advance(30)
    again = talosctl("version", "--insecure", "-n", ip, "-e", ip, cwd=tmp_path)
    assert again.returncode == 0, again.stderr


def test_shims_run_the_fake_tools_by_name(tmp_path: Path) -> None:
    """write_shims puts runnable `talosctl` and `flux` into a bin dir."""
    shims = write_shims(tmp_path / "bin", env={"SIM_TALOS_PORT": "50000"})
    talos = subprocess.run(
        [str(shims["talosctl"]), "version", "--client"], capture_output=True, text=True, check=False
    )
    flux = subprocess.run(
        [str(shims["flux"]), "version", "--client"], capture_output=True, text=True, check=False
    )
    assert "Tag:         v1.12.0" in talos.stdout
    assert flux.stdout.strip() == "flux: v2.4.0"


def test_dmesg_of_a_stalled_install_shows_the_dns_error(node: Node, tmp_path: Path) -> None:
    """`dmesg --insecure` on a stalled install prints the installer pull error."""
    out = _gen(tmp_path, node.ip)
    ip = node.ip
    talosctl(
        "apply-config", "-i", "-n", ip, "-e", ip, "-f", str(out / "controlplane.yaml"), cwd=tmp_path
    )
    result = talosctl("dmesg", "--insecure", "-n", ip, "-e", ip, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "lookup factory.talos.dev on 192.168.64.1:53: connection refused" in result.stdout


def test_health_gives_up_after_its_wait_timeout_on_a_frozen_clock(
    node: Node, tmp_path: Path
) -> None:
    """health during an install that never finishes (frozen clock) fails at --wait-timeout."""
    patch = '{"machine": {"network": {"nameservers": ["1.1.1.1"]}}}'
    out = _gen(tmp_path, node.ip, patch)
    ip = node.ip
    talosctl(
        "apply-config", "-i", "-n", ip, "-e", ip, "-f", str(out / "controlplane.yaml"), cwd=tmp_path
    )
    result = talosctl(
        "--talosconfig",
        str(out / "talosconfig"),
        "health",
        "-n",
        ip,
        "-e",
        ip,
        "--wait-timeout",
        "1s",
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert "context deadline exceeded" in result.stderr


@pytest.mark.parametrize("missing", ["no-such-file", "talosconfig-is-a-file/config"])
def test_a_talosconfig_that_is_not_there_is_named_as_talosctl_names_it(
    tmp_path: Path, missing: str
) -> None:
    """No file at the path (or a parent that is a file): the real CLI's one line, exit 1."""
    (tmp_path / "talosconfig-is-a-file").write_text("")
    path = tmp_path / missing
    done = talosctl("--talosconfig", str(path), "bootstrap", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"failed to determine endpoints: talosconfig not found ({path}), "
        "use --talosconfig or --insecure"
    )
