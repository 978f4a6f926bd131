"""The Host/Talos phase with a scripted talosctl: reuse, DNS, installed nodes."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from appliance.bootstrap.display import Display
from appliance.bootstrap.flags import BootstrapOptions
from appliance.bootstrap.host import run_host_phase
from appliance.bootstrap.talosctl import DNS_NEXT_ACTION, Talosctl, dns_failure
from appliance.errors import BootstrapError
from tests.unit.bootstrap.conftest import ScriptedTalosctl

CERT_REQUIRED = (
    'rpc error: code = Unavailable desc = connection error: desc = "transport: authentication '
    'handshake failed: remote error: tls: certificate required"'
)
DNS_TEXT = (
    "healthcheck error: install failed: failed to pull image "
    '"factory.talos.dev/metal-installer/abc:v1.12.0": dial tcp: lookup factory.talos.dev on '
    "192.168.64.1:53: connection refused"
)


class Ticker:
    """A fake monotonic clock advanced by the injected sleep."""

    def __init__(self) -> None:
        self.now = 0.0

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def monotonic(self) -> float:
        return self.now


def run(options: BootstrapOptions, script: ScriptedTalosctl) -> str:
    out = io.StringIO()
    ticker = Ticker()
    run_host_phase(
        options,
        display=Display(out),
        talosctl=Talosctl(runner=script),
        sleep=ticker.sleep,
        monotonic=ticker.monotonic,
    )
    return out.getvalue()


def test_explicit_kubeconfig_and_talosconfig_skip_generation(
    tmp_path: Path, options_for: Callable[..., BootstrapOptions]
) -> None:
    """T016: with explicit files, talosctl is never run and both files are left untouched."""
    kube = tmp_path / "kc"
    kube.write_text("kube-original")
    talos = tmp_path / "tc"
    talos.write_text("talos-original")
    script = ScriptedTalosctl()
    out = run(options_for("--kubeconfig", str(kube), "--talosconfig", str(talos)), script)
    assert script.calls == []
    assert "gen config skipped" in out
    assert kube.read_text() == "kube-original"
    assert talos.read_text() == "talos-original"


def test_explicit_talosconfig_is_never_overwritten_by_gen_config(
    tmp_path: Path, options_for: Callable[..., BootstrapOptions]
) -> None:
    """finding-04: gen config runs, but an existing explicit talosconfig keeps its content."""
    talos = tmp_path / "tc"
    talos.write_text("talos-original")
    script = ScriptedTalosctl()
    run(options_for("--talosconfig", str(talos), "--dns-servers", "1.1.1.1"), script)
    assert "gen config" in script.commands()
    assert talos.read_text() == "talos-original"


def test_explicit_talosconfig_gets_the_matching_one_beside_it(
    tmp_path: Path, options_for: Callable[..., BootstrapOptions]
) -> None:
    """finding-04: the generated talosconfig (new CA) goes beside the admin's, who is told."""
    talos = tmp_path / "tc"
    talos.write_text("talos-original")
    out = run(
        options_for("--talosconfig", str(talos), "--dns-servers", "1.1.1.1"), ScriptedTalosctl()
    )
    beside = tmp_path / "tc.generated"
    assert beside.exists()
    assert beside.read_text() != "talos-original"
    assert str(beside) in out


def test_stale_site_talosconfig_is_moved_aside_not_kept(
    options_for: Callable[..., BootstrapOptions],
) -> None:
    """finding-04: a site talosconfig without its machine config belongs to another CA; it is
    moved aside (nothing lost) and replaced by the one matching the new machine config."""
    options = options_for("--dns-servers", "1.1.1.1")
    options.site_dir.mkdir(parents=True, exist_ok=True)
    stale = options.site_dir / "talosconfig"
    stale.write_text("old-ca")
    out = run(options, ScriptedTalosctl())
    assert stale.read_text() != "old-ca"
    backups = list(options.site_dir.glob("talosconfig.*.bak"))
    assert [b.read_text() for b in backups] == ["old-ca"]
    assert "moved the old talosconfig" in out


def test_fresh_install_runs_talosctl_in_order_with_dns_in_machine_config(
    tmp_path: Path, options_for: Callable[..., BootstrapOptions]
) -> None:
    """gen config, maintenance probe, apply-config, bootstrap, kubeconfig, health; DNS set."""
    script = ScriptedTalosctl()
    options = options_for("--dns-servers", "1.1.1.1,8.8.8.8", "--interface", "enp0s1")
    run(options, script)
    assert script.commands() == [
        "gen config",
        "get",
        "apply-config",
        "bootstrap",
        "kubeconfig",
        "health",
    ]
    config = yaml.safe_load((options.site_dir / "controlplane.yaml").read_text())
    assert config["machine"]["network"]["nameservers"] == ["1.1.1.1", "8.8.8.8"]
    assert config["machine"]["install"]["disk"] == "/dev/sda"
    assert (options.site_dir / "kubeconfig").exists()


def test_existing_machine_config_is_reused_not_regenerated(
    options_for: Callable[..., BootstrapOptions],
) -> None:
    """A rerun keeps the machine config (and its CA) from the first run."""
    options = options_for("--dns-servers", "1.1.1.1")
    run(options, ScriptedTalosctl())
    script = ScriptedTalosctl()
    run(options, script)
    assert "gen config" not in script.commands()


def test_installed_node_is_reported_at_once(
    options_for: Callable[..., BootstrapOptions],
) -> None:
    """finding-20: `tls: certificate required` means installed: no waiting, recover or reset."""
    script = ScriptedTalosctl({"get": [(1, CERT_REQUIRED)]})
    with pytest.raises(BootstrapError) as caught:
        run(options_for(), script)
    assert caught.value.layer == "host"
    assert "--bootstrap-mode recover" in caught.value.next_action
    assert "appliance reset" in caught.value.next_action
    assert script.commands().count("get") == 1


def test_maintenance_api_timeout_has_a_clear_message(
    options_for: Callable[..., BootstrapOptions],
) -> None:
    """No answer within --host-timeout: `Timed out waiting for Talos maintenance API`."""
    script = ScriptedTalosctl({"get": [(1, "dial tcp 192.0.2.10:50000: connection refused")]})
    with pytest.raises(BootstrapError, match="Timed out waiting for Talos maintenance API"):
        run(options_for("--host-timeout", "30", "--poll-interval", "5"), script)


def test_installer_pull_dns_failure_is_a_host_failure_with_dns_action(
    options_for: Callable[..., BootstrapOptions],
) -> None:
    """finding-01: the DNS error shown by `talosctl health` fails the host layer with the remedy."""
    script = ScriptedTalosctl(
        {
            "bootstrap": [(1, "rpc error: code = Unimplemented desc = maintenance mode")],
            "health": [(1, DNS_TEXT)],
        }
    )
    with pytest.raises(BootstrapError) as caught:
        run(options_for(), script)
    assert caught.value.layer == "host"
    assert caught.value.next_action == DNS_NEXT_ACTION
    assert "--dns-servers 1.1.1.1,8.8.8.8" in caught.value.next_action
    assert "lookup factory.talos.dev" in str(caught.value)


def test_dns_failure_is_found_in_containerd_text() -> None:
    """The resolver refusal is extracted; unrelated errors are not DNS failures."""
    assert (
        dns_failure(DNS_TEXT) == "lookup factory.talos.dev on 192.168.64.1:53: connection refused"
    )
    assert dns_failure("connection refused") is None


def test_dry_run_runs_no_talosctl(options_for: Callable[..., BootstrapOptions]) -> None:
    """A dry run prints the talosctl plan and runs nothing."""
    script = ScriptedTalosctl()
    out = run(options_for("--dry-run", "--dns-servers", "1.1.1.1"), script)
    assert script.calls == []
    assert "would run: talosctl apply-config --insecure" in out
    assert "would set machine.network.nameservers: 1.1.1.1" in out
