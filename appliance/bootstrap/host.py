"""The Host/Talos phase: talosctl from maintenance mode to a Kubernetes API and a kubeconfig.

Rules from the field log:
- explicit `--talosconfig`/`--kubeconfig` files are never overwritten, and when both are given
  Talos config generation is skipped (finding-04, F024, T016);
- `--dns-servers` go into `machine.network.nameservers` of the machine config (finding-01/02);
- a node that answers as an installed Talos (`tls: certificate required` on the insecure
  maintenance API) is reported at once with recover/reset as the way on (finding-20);
- an installer pull stuck on DNS is reported as `Failure layer: host` with the DNS remedy.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from appliance.bootstrap.display import Display
from appliance.bootstrap.flags import BootstrapOptions
from appliance.errors import BootstrapError

__all__ = [
    "DNS_NEXT_ACTION",
    "HostPlan",
    "Talosctl",
    "dns_failure",
    "patch_machine_config",
    "plan_host",
    "run_host_phase",
]

DNS_NEXT_ACTION = (
    "rerun bootstrap with --dns-servers 1.1.1.1,8.8.8.8 (the node's DHCP resolver refused DNS "
    "lookups, so the Talos installer image could not be pulled)"
)
_DNS_RE = re.compile(
    r"lookup (?P<host>\S+?)(?: on (?P<server>\S+?))?: .*?"
    r"(?P<why>connection refused|no such host|server misbehaving|i/o timeout)"
)
_INSTALLED_MARKERS = ("tls: certificate required", "certificate required")
_STALE_MARKERS = ("certificate signed by unknown authority",)
_ALREADY_BOOTSTRAPPED = (
    "AlreadyExists",
    "already bootstrapped",
    "etcd data directory is not empty",
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


def plan_host(options: BootstrapOptions) -> HostPlan:
    """Decide generation, install and kubeconfig steps without touching anything."""
    site = options.site_dir
    machine_config = site / "controlplane.yaml"
    talosconfig = options.talosconfig or site / "talosconfig"
    kubeconfig = options.kubeconfig or options.kubeconfig_out or site / "kubeconfig"
    notes: list[str] = []
    if options.mode == "recover":
        notes.append(f"recover mode: reuse kubeconfig {kubeconfig}; Talos install skipped")
        return HostPlan(
            False, False, False, False, machine_config, talosconfig, kubeconfig, tuple(notes)
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
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False), encoding="utf-8")


def _node_args(ip: str) -> list[str]:
    return ["-n", ip, "-e", ip]


def _installed_error(ip: str) -> BootstrapError:
    return BootstrapError(
        f"the node {ip} answers as an installed Talos, not in maintenance mode "
        "(tls: certificate required)",
        layer="host",
        next_action=(
            "continue the install with --bootstrap-mode recover --kubeconfig <kubeconfig>, or "
            "wipe the node with `appliance reset --force` and boot it into maintenance mode"
        ),
    )


@dataclass
class _Waiter:
    timeout: float
    sleep: Callable[[float], None]
    monotonic: Callable[[], float]
    interval: float

    def __post_init__(self) -> None:
        self.start = self.monotonic()

    def elapsed(self) -> float:
        return self.monotonic() - self.start

    def expired(self) -> bool:
        return self.elapsed() >= self.timeout


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
    if not (plan.apply_config or plan.generate_config):
        if not plan.kubeconfig.is_file():
            raise BootstrapError(
                f"kubeconfig {plan.kubeconfig} does not exist",
                layer="host",
                next_action="pass --kubeconfig with the file a previous bootstrap wrote, or run "
                "--bootstrap-mode fresh against a node in maintenance mode",
            )
        return plan.kubeconfig
    ip = options.node_ip
    site = options.site_dir
    site.mkdir(parents=True, exist_ok=True, mode=0o700)
    if plan.generate_config:
        _generate(options, plan, talosctl, display)
    patch_machine_config(plan.machine_config, options)
    if options.dns_servers:
        display.progress(f"machine.network.nameservers = {', '.join(options.dns_servers)}")
    _wait_for_maintenance(
        ip,
        talosctl,
        display,
        _Waiter(options.host_timeout, sleep, monotonic, options.poll_interval),
    )
    display.progress(f"applying machine config to {ip} (maintenance mode)")
    applied = talosctl(
        "apply-config", "--insecure", *_node_args(ip), "--file", str(plan.machine_config)
    )
    if not applied.ok:
        if any(m in applied.output for m in _INSTALLED_MARKERS):
            raise _installed_error(ip)
        raise BootstrapError(
            f"talosctl apply-config failed: {applied.output.strip()}",
            layer="host",
            next_action=f"check the node console; the machine config is at {plan.machine_config}",
        )
    waiter = _Waiter(options.host_timeout, sleep, monotonic, options.poll_interval)
    _bootstrap_etcd(ip, plan.talosconfig, talosctl, display, waiter)
    if plan.fetch_kubeconfig:
        _fetch_kubeconfig(ip, plan, talosctl, display, waiter)
    _wait_healthy(ip, plan.talosconfig, talosctl, display, options.host_timeout)
    return plan.kubeconfig


def _wait_healthy(
    ip: str, talosconfig: Path, talosctl: Talosctl, display: Display, timeout: float
) -> None:
    """`talosctl health` until Kubernetes answers; a failure other than DNS only warns."""
    display.progress("waiting for Kubernetes to report healthy (talosctl health)")
    result = talosctl(
        "--talosconfig",
        str(talosconfig),
        "health",
        *_node_args(ip),
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
    shutil.copyfile(out_dir / "controlplane.yaml", plan.machine_config)
    plan.machine_config.chmod(0o600)
    generated = out_dir / "talosconfig"
    if options.talosconfig is not None and plan.talosconfig.exists():
        # Never overwrite a talosconfig the admin named (finding-04); the new one, matching the
        # machine config just generated, goes beside it for them to choose.
        beside = plan.talosconfig.with_name(plan.talosconfig.name + ".generated")
        shutil.copyfile(generated, beside)
        beside.chmod(0o600)
        display.warn(
            f"keeping your talosconfig {plan.talosconfig}; the new machine config has a new CA, "
            f"so talosctl needs {beside} for this node"
        )
    else:
        plan.talosconfig.parent.mkdir(parents=True, exist_ok=True)
        if plan.talosconfig.exists():
            # A site talosconfig without its machine config belongs to an older CA: keeping it
            # would break talosctl auth (finding-04). Move it aside, nothing is lost.
            kept = plan.talosconfig.with_name(
                f"{plan.talosconfig.name}.{int(plan.talosconfig.stat().st_mtime)}.bak"
            )
            plan.talosconfig.replace(kept)
            display.progress(f"moved the old talosconfig (another CA) to {kept}")
        shutil.copyfile(generated, plan.talosconfig)
        plan.talosconfig.chmod(0o600)
        display.progress(f"wrote talosconfig {plan.talosconfig}")
    # Only the machine config and talosconfig are kept; the rest of gen config's output (worker
    # config, a second copy of the PKI) is not needed on a single node.
    shutil.rmtree(out_dir, ignore_errors=True)


def _wait_for_maintenance(ip: str, talosctl: Talosctl, display: Display, waiter: _Waiter) -> None:
    display.progress(f"waiting for the Talos maintenance API on {ip}")
    last = ""
    while True:
        probe = talosctl("get", "disks", "--insecure", *_node_args(ip))
        if probe.ok:
            display.progress(f"maintenance API answered after {waiter.elapsed():.0f}s")
            return
        if any(m in probe.output for m in _INSTALLED_MARKERS):
            raise _installed_error(ip)
        last = probe.output.strip().splitlines()[-1] if probe.output.strip() else ""
        if waiter.expired():
            raise BootstrapError(
                f"Timed out waiting for Talos maintenance API on {ip} after "
                f"{waiter.timeout:.0f}s (last error: {last or 'none'})",
                layer="host",
                next_action=f"boot the node from the Talos ISO into maintenance mode and check "
                f"that {ip} is reachable on port 50000; for an installed node use "
                "--bootstrap-mode recover or `appliance reset --force`",
            )
        waiter.sleep(waiter.interval)


def _diagnose_install(ip: str, talosctl: Talosctl, texts: Sequence[str]) -> str | None:
    """Look for the installer-pull DNS failure in what talosctl said and in the node's log."""
    for text in texts:
        found = dns_failure(text)
        if found:
            return found
    for args in (("dmesg", *_node_args(ip)), ("dmesg", "--insecure", *_node_args(ip))):
        found = dns_failure(talosctl(*args).output)
        if found:
            return found
    return None


def _bootstrap_etcd(
    ip: str, talosconfig: Path, talosctl: Talosctl, display: Display, waiter: _Waiter
) -> None:
    display.progress("waiting for the Talos install to finish, then bootstrapping etcd")
    seen: list[str] = []
    while True:
        result = talosctl("--talosconfig", str(talosconfig), "bootstrap", *_node_args(ip))
        if result.ok or any(m in result.output for m in _ALREADY_BOOTSTRAPPED):
            display.progress(f"etcd bootstrapped after {waiter.elapsed():.0f}s")
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
        if dns is None:
            # A stalled install keeps the maintenance API up: bootstrap only says "maintenance
            # mode"; `talosctl health` shows the installer error (the real node prints it too).
            health = talosctl(
                "--talosconfig",
                str(talosconfig),
                "health",
                *_node_args(ip),
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
                f"Timed out after {waiter.timeout:.0f}s waiting for Talos on {ip} to install "
                f"and accept bootstrap (last: {result.output.strip()[-200:] or 'no output'})",
                layer="host",
                next_action=f"check the node console or `talosctl dmesg -n {ip} -e {ip}`",
            )
        waiter.sleep(waiter.interval)


def _dns_error(ip: str, evidence: str) -> BootstrapError:
    return BootstrapError(
        f"the Talos installer image pull on {ip} failed on DNS: {evidence}",
        layer="host",
        next_action=DNS_NEXT_ACTION,
    )


def _fetch_kubeconfig(
    ip: str, plan: HostPlan, talosctl: Talosctl, display: Display, waiter: _Waiter
) -> None:
    while True:
        result = talosctl(
            "--talosconfig",
            str(plan.talosconfig),
            "kubeconfig",
            str(plan.kubeconfig),
            *_node_args(ip),
            "--force",
        )
        if result.ok and plan.kubeconfig.is_file():
            plan.kubeconfig.chmod(0o600)
            display.progress(f"wrote kubeconfig {plan.kubeconfig}")
            return
        if waiter.expired():
            raise BootstrapError(
                f"could not fetch the kubeconfig from {ip}: {result.output.strip()[-200:]}",
                layer="host",
                next_action=f"run `talosctl kubeconfig -n {ip} -e {ip}` by hand, then rerun "
                "with --bootstrap-mode recover --kubeconfig <file>",
            )
        waiter.sleep(waiter.interval)
