"""The Host/Talos phase: talosctl from maintenance mode to a Kubernetes API and a kubeconfig.

Rules from the field log:
- explicit `--talosconfig`/`--kubeconfig` files are never overwritten, and when both are given
  Talos config generation is skipped (finding-04, F024, T016);
- `--dns-servers` go into `machine.network.nameservers` of the machine config (finding-01/02);
- a node that answers as an installed Talos (`tls: certificate required` on the insecure
  maintenance API) is reported at once with recover/reset as the way on (finding-20);
- an installer pull stuck on DNS is reported as `Failure layer: host` with the DNS remedy;
- recover continues an install that was cut short (issue 9): with the site's kubeconfig it skips
  Talos; without one but with the site's talosconfig it applies the kept machine config if the
  node is still in maintenance mode, bootstraps etcd unless done, fetches the kubeconfig and goes
  on. Every file is written whole or not at all (a new file renamed over the old), and the machine
  config last, so a kill at any point leaves files a rerun can trust.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from appliance.bootstrap.display import Display
from appliance.bootstrap.flags import BootstrapOptions
from appliance.bootstrap.node import (
    Waiter,
    apply_config,
    bootstrap_etcd,
    fetch_kubeconfig,
    wait_for_maintenance,
    wait_healthy,
)
from appliance.bootstrap.talosctl import Talosctl
from appliance.errors import BootstrapError
from appliance.files import write_private

__all__ = [
    "HostPlan",
    "patch_machine_config",
    "plan_host",
    "run_host_phase",
]


@dataclass(frozen=True)
class HostPlan:
    """What the host phase will do, decided from the flags and the files already present."""

    generate_config: bool
    apply_config: bool
    bootstrap: bool
    fetch_kubeconfig: bool
    machine_config: Path
    talosconfig: Path
    kubeconfig: Path
    notes: tuple[str, ...] = ()
    # Recover without a kubeconfig: apply the kept config only if the node still waits for one.
    resume: bool = False


def plan_host(options: BootstrapOptions) -> HostPlan:
    """Decide generation, install and kubeconfig steps without touching anything."""
    site = options.site_dir
    machine_config = site / "controlplane.yaml"
    talosconfig = options.talosconfig or site / "talosconfig"
    kubeconfig = options.kubeconfig or options.kubeconfig_out or site / "kubeconfig"
    notes: list[str] = []
    if options.mode == "recover":
        if kubeconfig.is_file() or not talosconfig.is_file():
            notes.append(f"recover mode: reuse kubeconfig {kubeconfig}; Talos install skipped")
            return HostPlan(
                False, False, False, False, machine_config, talosconfig, kubeconfig, tuple(notes)
            )
        notes.append(
            f"recover mode: no kubeconfig yet, so the Talos install is continued with "
            f"{talosconfig} (the machine config is reused, never regenerated once applied)"
        )
        fetch = options.kubeconfig is None
        return HostPlan(
            False, False, True, fetch, machine_config, talosconfig, kubeconfig, tuple(notes), True
        )
    explicit_reuse = options.kubeconfig is not None and options.talosconfig is not None
    if explicit_reuse:
        notes.append(
            "explicit --kubeconfig and --talosconfig: talosctl gen config skipped, "
            "both files left untouched"
        )
        return HostPlan(
            False, False, False, False, machine_config, talosconfig, kubeconfig, tuple(notes)
        )
    generate = not machine_config.exists()
    if not generate:
        notes.append(f"reusing machine config {machine_config} (regenerating would mint a new CA)")
    if options.talosconfig is not None and options.talosconfig.exists():
        notes.append(f"explicit talosconfig {options.talosconfig} kept as is")
    fetch = options.kubeconfig is None
    if not fetch:
        notes.append(f"explicit kubeconfig {options.kubeconfig} kept as is")
    return HostPlan(
        generate, True, True, fetch, machine_config, talosconfig, kubeconfig, tuple(notes)
    )


def _documents(text: str) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(text) if doc is not None]


def patch_machine_config(path: Path, options: BootstrapOptions) -> None:
    """Write hostname, install disk, interface and DNS servers into the v1alpha1 document."""
    docs = _documents(path.read_text(encoding="utf-8"))
    main = next((d for d in docs if isinstance(d, dict) and "machine" in d), None)
    if main is None:
        raise BootstrapError(
            f"machine config {path} has no `machine:` section",
            layer="host",
            next_action=f"delete {path} so bootstrap regenerates it",
        )
    machine = main.setdefault("machine", {})
    network = machine.setdefault("network", {}) or {}
    machine["network"] = network
    network["hostname"] = options.hostname
    if options.dns_servers:
        network["nameservers"] = list(options.dns_servers)
    if options.interface:
        interfaces = [
            i for i in network.get("interfaces") or [] if i.get("interface") != options.interface
        ]
        interfaces.append({"interface": options.interface, "dhcp": options.network_mode == "dhcp"})
        network["interfaces"] = interfaces
    install = machine.setdefault("install", {}) or {}
    machine["install"] = install
    install["disk"] = options.install_disk
    write_private(path, yaml.safe_dump_all(docs, sort_keys=False))


def run_host_phase(
    options: BootstrapOptions,
    *,
    display: Display,
    talosctl: Talosctl,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> Path:
    """Install Talos and bootstrap Kubernetes as planned; return the kubeconfig to use."""
    plan = plan_host(options)
    for note in plan.notes:
        display.progress(note)
    if options.dry_run:
        _print_plan(plan, options, display)
        return plan.kubeconfig
    if not (plan.apply_config or plan.generate_config or plan.resume):
        if not plan.kubeconfig.is_file():
            raise BootstrapError(
                f"kubeconfig {plan.kubeconfig} does not exist, and there is no talosconfig "
                f"{plan.talosconfig} to continue the install with",
                layer="host",
                next_action="pass --kubeconfig with the file a previous bootstrap wrote, or run "
                "--bootstrap-mode fresh against a node in maintenance mode",
            )
        return plan.kubeconfig
    ip = options.node_ip
    site = options.site_dir
    site.mkdir(parents=True, exist_ok=True, mode=0o700)
    if plan.resume:
        apply = wait_for_maintenance(
            ip,
            talosctl,
            display,
            Waiter(options.host_timeout, sleep, monotonic, options.poll_interval),
            installed_ok=True,
        )
        if apply:
            # Cut short before apply-config: nothing is installed, the fresh steps are safe.
            if not plan.machine_config.is_file():
                _generate(options, plan, talosctl, display)
            _patch(plan, options, display)
            apply_config(ip, plan.machine_config, talosctl, display)
    else:
        if plan.generate_config:
            _generate(options, plan, talosctl, display)
        _patch(plan, options, display)
        wait_for_maintenance(
            ip,
            talosctl,
            display,
            Waiter(options.host_timeout, sleep, monotonic, options.poll_interval),
        )
        apply_config(ip, plan.machine_config, talosctl, display)
    waiter = Waiter(options.host_timeout, sleep, monotonic, options.poll_interval)
    bootstrap_etcd(ip, plan.talosconfig, talosctl, display, waiter)
    if plan.fetch_kubeconfig:
        fetch_kubeconfig(
            ip,
            plan.talosconfig,
            kubeconfig=plan.kubeconfig,
            talosctl=talosctl,
            display=display,
            waiter=waiter,
        )
    wait_healthy(ip, plan.talosconfig, talosctl, display, options.host_timeout)
    return plan.kubeconfig


def _patch(plan: HostPlan, options: BootstrapOptions, display: Display) -> None:
    patch_machine_config(plan.machine_config, options)
    if options.dns_servers:
        display.progress(f"machine.network.nameservers = {', '.join(options.dns_servers)}")


def _print_plan(plan: HostPlan, options: BootstrapOptions, display: Display) -> None:
    ip = options.node_ip
    if plan.generate_config:
        display.progress(
            f"would run: talosctl gen config {options.site_id} https://{ip}:6443 "
            f"--output-dir {options.site_dir}"
        )
    if plan.apply_config:
        dns = ", ".join(options.dns_servers) or "DHCP-provided (none set)"
        display.progress(f"would set machine.network.nameservers: {dns}")
        display.progress(f"would wait for the Talos maintenance API on {ip}")
        display.progress(
            f"would run: talosctl apply-config --insecure -n {ip} -e {ip} "
            f"--file {plan.machine_config}"
        )
    if plan.bootstrap:
        display.progress(f"would run: talosctl bootstrap -n {ip} -e {ip}")
    if plan.fetch_kubeconfig:
        display.progress(f"would run: talosctl kubeconfig {plan.kubeconfig} -n {ip} -e {ip}")


def _generate(
    options: BootstrapOptions, plan: HostPlan, talosctl: Talosctl, display: Display
) -> None:
    out_dir = options.site_dir / "talos-gen"
    out_dir.mkdir(parents=True, exist_ok=True)
    display.progress(f"generating Talos machine config in {options.site_dir}")
    result = talosctl(
        "gen",
        "config",
        options.site_id,
        f"https://{options.node_ip}:6443",
        "--install-disk",
        options.install_disk,
        "--output-dir",
        str(out_dir),
        "--force",
    )
    if not result.ok:
        raise BootstrapError(
            f"talosctl gen config failed: {result.output.strip()}",
            layer="host",
            next_action="check the talosctl version and rerun",
        )
    generated = out_dir / "talosconfig"
    if options.talosconfig is not None and plan.talosconfig.exists():
        # Never overwrite a talosconfig the admin named (finding-04); the new one, matching the
        # machine config just generated, goes beside it for them to choose.
        beside = plan.talosconfig.with_name(plan.talosconfig.name + ".generated")
        write_private(beside, generated.read_bytes())
        display.warn(
            f"keeping your talosconfig {plan.talosconfig}; the new machine config has a new CA, "
            f"so talosctl needs {beside} for this node"
        )
    else:
        plan.talosconfig.parent.mkdir(parents=True, exist_ok=True)
        if plan.talosconfig.exists():
            # A site talosconfig without its machine config belongs to an older CA (or to a run
            # cut short before it wrote the machine config): keeping it would break talosctl
            # auth (finding-04). Move it aside, nothing is lost.
            kept = plan.talosconfig.with_name(
                f"{plan.talosconfig.name}.{int(plan.talosconfig.stat().st_mtime)}.bak"
            )
            plan.talosconfig.replace(kept)
            display.progress(f"moved the old talosconfig (another CA) to {kept}")
        write_private(plan.talosconfig, generated.read_bytes())
        display.progress(f"wrote talosconfig {plan.talosconfig}")
    # The machine config last: its presence means the generation completed, talosconfig included.
    write_private(plan.machine_config, (out_dir / "controlplane.yaml").read_bytes())
    # Only the machine config and talosconfig are kept; the rest of gen config's output (worker
    # config, a second copy of the PKI) is not needed on a single node.
    shutil.rmtree(out_dir, ignore_errors=True)
