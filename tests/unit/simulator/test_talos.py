"""The Talos host state machine on a frozen virtual clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from simulator.clock import VirtualClock
from simulator.neighbours.talos import (
    CERTIFICATE_REQUIRED,
    UNKNOWN_AUTHORITY,
    HostSpec,
    TalosApiError,
    TalosHost,
)
from simulator.neighbours.talos_config import ca_fingerprint, new_ca_crt

NODE = "127.42.0.8"
FACTORY = "factory.talos.dev/metal-installer/abc:v1.12.0"


def _clock() -> VirtualClock:
    return VirtualClock(datetime(2026, 4, 30, 12, tzinfo=UTC))


def _config(*, ca: str, nameservers: list[str] | None = None) -> str:
    machine: dict[str, object] = {
        "type": "controlplane",
        "ca": {"crt": ca, "key": "k"},
        "install": {"disk": "/dev/sda", "image": FACTORY},
        "network": {"nameservers": nameservers} if nameservers else {},
    }
    return yaml.safe_dump({"version": "v1alpha1", "machine": machine})


def _host(clock: VirtualClock, **spec: object) -> tuple[TalosHost, list[str]]:
    calls: list[str] = []
    host = TalosHost(
        HostSpec.model_validate(spec),
        clock=clock,
        node_ip=NODE,
        on_kubernetes_up=lambda: calls.append("up"),
        on_kubernetes_down=lambda: calls.append("down"),
        kubeconfig=lambda: "apiVersion: v1\nkind: Config\n",
    )
    return host, calls


def test_spec_defaults_match_the_field_log() -> None:
    """The default host is the observed one: Talos v1.12.0, Kubernetes v1.31.4, DNS refused."""
    spec = HostSpec()
    assert (spec.talos_version, spec.kubernetes_version) == ("v1.12.0", "v1.31.4")
    assert spec.default_resolver_refuses_dns
    assert spec.default_resolver == "192.168.64.1:53"
    assert spec.installer_image.startswith("factory.talos.dev/metal-installer/")


def test_spec_reads_camel_case_and_rejects_typos() -> None:
    """Scenario YAML uses camelCase; unknown keys are refused."""
    assert HostSpec.model_validate({"installSeconds": 5}).install_seconds == 5
    with pytest.raises(ValueError, match="installSecs"):
        HostSpec.model_validate({"installSecs": 5})


def test_maintenance_answers_insecure_calls() -> None:
    """A host in maintenance mode accepts --insecure calls."""
    host, _ = _host(_clock())
    host.authorize(insecure=True, ca=None)
    assert host.state == "maintenance"


def test_maintenance_refuses_a_talosconfig() -> None:
    """The maintenance service's self-signed certificate is unknown to any talosconfig."""
    host, _ = _host(_clock())
    with pytest.raises(TalosApiError) as caught:
        host.authorize(insecure=False, ca="whatever")
    assert caught.value.message == UNKNOWN_AUTHORITY


def test_booting_host_is_unreachable_until_boot_seconds() -> None:
    """Before boot_seconds pass, the API refuses connections; afterwards maintenance answers."""
    clock = _clock()
    host, _ = _host(clock, bootSeconds=30)
    with pytest.raises(TalosApiError, match="connect: connection refused"):
        host.authorize(insecure=True, ca=None)
    clock.advance(30)
    host.authorize(insecure=True, ca=None)


def test_install_without_dns_servers_stalls_with_the_dns_error() -> None:
    """No nameservers + a refusing resolver: the installer pull fails with the observed lookup."""
    clock = _clock()
    host, calls = _host(clock)
    host.apply_config(_config(ca=new_ca_crt()))
    clock.advance(3600)
    host.tick()
    assert host.state == "installing"
    assert host.install_error is not None
    assert host.install_error.startswith(f'failed to pull image "{FACTORY}"')
    assert host.install_error.endswith(
        "lookup factory.talos.dev on 192.168.64.1:53: connection refused"
    )
    assert calls == []


def test_stalled_install_accepts_a_config_with_dns_and_completes() -> None:
    """Rerunning apply-config with explicit DNS servers brings the install through (finding-02)."""
    clock = _clock()
    host, _ = _host(clock, installSeconds=100)
    host.apply_config(_config(ca=new_ca_crt()))
    host.authorize(insecure=True, ca=None)
    host.apply_config(_config(ca=new_ca_crt(), nameservers=["1.1.1.1", "8.8.8.8"]))
    assert host.install_error is None
    clock.advance(100)
    host.tick()
    assert host.state == "running"


def test_install_with_dns_servers_runs_after_install_seconds() -> None:
    """With explicit DNS servers the host is running exactly after install_seconds."""
    clock = _clock()
    host, _ = _host(clock, installSeconds=100)
    host.apply_config(_config(ca=new_ca_crt(), nameservers=["1.1.1.1"]))
    clock.advance(99)
    host.tick()
    assert host.state == "installing"
    assert host.next_deadline() == clock.now() + timedelta(seconds=1)
    clock.advance(1)
    host.tick()
    assert host.state == "running"


def test_resolver_that_answers_needs_no_dns_servers() -> None:
    """When the default resolver works, a config without nameservers installs fine."""
    clock = _clock()
    host, _ = _host(clock, defaultResolverRefusesDns=False, installSeconds=10)
    host.apply_config(_config(ca=new_ca_crt()))
    clock.advance(10)
    host.tick()
    assert host.state == "running"


def _running(clock: VirtualClock, ca: str) -> tuple[TalosHost, list[str]]:
    host, calls = _host(clock, installSeconds=10, bootstrapSeconds=60)
    host.apply_config(_config(ca=ca, nameservers=["1.1.1.1"]))
    clock.advance(10)
    host.tick()
    return host, calls


def test_running_node_requires_a_certificate() -> None:
    """An installed node answers --insecure with `tls: certificate required` (finding-20)."""
    host, _ = _running(_clock(), new_ca_crt())
    with pytest.raises(TalosApiError) as caught:
        host.authorize(insecure=True, ca=None)
    assert caught.value.message == CERTIFICATE_REQUIRED
    assert "tls: certificate required" in caught.value.message


def test_running_node_trusts_only_its_own_ca() -> None:
    """The talosconfig from the applied config works; a regenerated one is an unknown authority."""
    ca = new_ca_crt()
    host, _ = _running(_clock(), ca)
    host.authorize(insecure=False, ca=ca_fingerprint(ca))
    with pytest.raises(TalosApiError, match="x509: certificate signed by unknown authority"):
        host.authorize(insecure=False, ca=ca_fingerprint(new_ca_crt()))


def test_bootstrap_brings_kubernetes_up_after_bootstrap_seconds() -> None:
    """bootstrap -> Kubernetes up (callback fires once) after bootstrap_seconds of virtual time."""
    clock = _clock()
    host, calls = _running(clock, new_ca_crt())
    host.bootstrap()
    clock.advance(59)
    host.tick()
    assert calls == []
    clock.advance(1)
    host.tick()
    host.tick()
    assert calls == ["up"]
    assert host.kubernetes_up
    assert host.health()["done"]


def test_second_bootstrap_is_refused() -> None:
    """Bootstrapping twice fails like etcd does."""
    host, _ = _running(_clock(), new_ca_crt())
    host.bootstrap()
    with pytest.raises(TalosApiError, match="AlreadyExists"):
        host.bootstrap()


def test_bootstrap_in_maintenance_is_unimplemented() -> None:
    """Maintenance mode does not implement bootstrap."""
    host, _ = _host(_clock())
    with pytest.raises(TalosApiError, match="not implemented in maintenance mode"):
        host.bootstrap()


def test_reset_takes_kubernetes_down_and_returns_to_maintenance() -> None:
    """reset --reboot: Kubernetes down at once, maintenance after reset_seconds."""
    clock = _clock()
    host, calls = _running(clock, new_ca_crt())
    host.bootstrap()
    clock.advance(60)
    host.tick()
    host.reset(graceful=False, reboot=True)
    assert calls == ["up", "down"]
    assert host.state == "resetting"
    clock.advance(30)
    host.authorize(insecure=True, ca=None)
    assert host.state == "maintenance"


def test_initially_running_host_with_kubernetes_fires_up_at_start() -> None:
    """A scenario that starts installed has Kubernetes up from the first tick."""
    host, calls = _host(_clock(), initialState="running", kubernetesUp=True)
    assert calls == ["up"]
    assert host.state == "running"


def test_world_talosconfig_matches_unless_stale(tmp_path: Path) -> None:
    """The talosconfig the world writes works, unless the scenario says it is stale (finding-04)."""
    fresh, _ = _host(_clock(), initialState="running")
    stale, _ = _host(_clock(), initialState="running", staleTalosconfig=True)
    for host, name in ((fresh, "fresh"), (stale, "stale")):
        path = host.write_talosconfig(tmp_path / name)
        doc = yaml.safe_load(path.read_text())
        ca = doc["contexts"][doc["context"]]["ca"]
        if name == "fresh":
            host.authorize(insecure=False, ca=ca_fingerprint(ca))
        else:
            with pytest.raises(TalosApiError, match="unknown authority"):
                host.authorize(insecure=False, ca=ca_fingerprint(ca))
