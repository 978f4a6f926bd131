"""Flag validation: every bad value is rejected with a message naming the flag."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.bootstrap.flags import FlagError, options_from_args
from appliance.bootstrap.host import plan_host
from tests.unit.bootstrap.conftest import BASE, parse


def test_prerelease_version_is_accepted(tmp_path: Path) -> None:
    """finding-19: 1.0-rc5 is a valid release version."""
    options = options_from_args(parse(*BASE, "--config-dir", str(tmp_path)))
    assert options.release_version == "1.0-rc5"


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--release-version", "1.0-rc5", "--node-ip", "192.168.64.300"], "--node-ip"),
        (["--release-version", "one", "--node-ip", "192.0.2.10"], "--release-version"),
        ([*BASE, "--bootstrap-mode", "upgrade"], "--bootstrap-mode 'upgrade' is unknown"),
        ([*BASE, "--network-mode", "bridge"], "--network-mode"),
        ([*BASE, "--dns-servers", "1.1.1.1,dns.google"], "--dns-servers"),
        ([*BASE, "--install-disk", "sda"], "--install-disk"),
        ([*BASE, "--app-url", "ftp://x"], "--app-url"),
        ([*BASE, "--app-url", "http://[::1"], "--app-url"),
        ([*BASE, "--branch-override", "bad..name"], "--branch-override"),
        ([*BASE, "--site-id", "Bad_Site"], "--site-id"),
    ],
)
def test_bad_values_are_rejected_naming_the_flag(
    tmp_path: Path, argv: list[str], needle: str
) -> None:
    """A bad flag value raises FlagError naming the flag."""
    with pytest.raises(FlagError, match=needle.replace(".", r"\.")):
        options_from_args(parse(*argv, "--config-dir", str(tmp_path)))


def test_missing_config_dir_is_rejected(tmp_path: Path) -> None:
    """An explicit --config-dir that does not exist is an error, not silently created."""
    with pytest.raises(FlagError, match=r"--config-dir .* does not exist"):
        options_from_args(parse(*BASE, "--config-dir", str(tmp_path / "nope")))


def test_missing_kubeconfig_is_rejected(tmp_path: Path) -> None:
    """An explicit --kubeconfig that does not exist is an error."""
    with pytest.raises(FlagError, match=r"--kubeconfig .* does not exist"):
        options_from_args(
            parse(*BASE, "--config-dir", str(tmp_path), "--kubeconfig", str(tmp_path / "k"))
        )


def test_unreadable_kubeconfig_is_rejected(tmp_path: Path) -> None:
    """A kubeconfig that cannot be read is rejected with the reason."""
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.mkdir()
    with pytest.raises(FlagError, match=r"--kubeconfig .* is not a file"):
        options_from_args(
            parse(*BASE, "--config-dir", str(tmp_path), "--kubeconfig", str(kubeconfig))
        )


def test_recover_with_nothing_to_recover_is_rejected(tmp_path: Path) -> None:
    """Recover mode needs a kubeconfig or a talosconfig an earlier run left; else: fresh."""
    with pytest.raises(FlagError, match=r"recover needs .* kubeconfig .* talosconfig .* fresh"):
        options_from_args(
            parse(*BASE, "--config-dir", str(tmp_path), "--bootstrap-mode", "recover")
        )


def test_recover_after_apply_config_continues_from_the_talosconfig(tmp_path: Path) -> None:
    """Issue 9 item 9: a run cut short after apply-config left a talosconfig, no kubeconfig;
    recover is accepted and plans to bootstrap etcd and fetch the kubeconfig."""
    site = tmp_path / "appliance-single-node"
    site.mkdir()
    (site / "talosconfig").write_text("context: x\n")
    options = options_from_args(
        parse(*BASE, "--config-dir", str(tmp_path), "--bootstrap-mode", "recover")
    )
    plan = plan_host(options)
    assert plan.resume
    assert plan.bootstrap
    assert plan.fetch_kubeconfig
    assert not plan.generate_config


def test_dns_servers_are_split_and_defaults_derived(tmp_path: Path) -> None:
    """DNS servers become a tuple; app URL and site id default from node IP and hostname."""
    options = options_from_args(
        parse(*BASE, "--config-dir", str(tmp_path), "--dns-servers", "1.1.1.1, 8.8.8.8")
    )
    assert options.dns_servers == ("1.1.1.1", "8.8.8.8")
    assert options.app_url == "http://192.0.2.10:3000"
    assert options.status_url == "http://192.0.2.10:8080"
    assert options.site_id == "appliance-single-node"
