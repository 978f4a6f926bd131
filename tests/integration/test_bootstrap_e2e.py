"""End to end: the real `appliance` CLI against a served simulator world.

Recover-mode runs need only the fake API, Flux-from-git and the registry; fresh-mode runs also
need the world's fake `talosctl` on PATH (`ServedWorld.bin_dir`) and skip with that reason
without it. The worlds are warped: each command runs on a lease of the world's clock, so timeouts
are the admin's defaults in cluster time.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from simulator.neighbours.addresses import choose_node_address
from simulator.world.scenario import Scenario, load_scenario
from simulator.world.served import ServedWorld

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
BIN = Path(sys.executable).parent
WALL_TIMEOUT = 240


def branch() -> str:
    done = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--abbrev-ref", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def installed(scenario: Scenario) -> Scenario:
    """The scenario with Talos already installed and Kubernetes up (what recover starts from)."""
    assert scenario.host is not None
    host = scenario.host.model_copy(update={"initial_state": "running", "kubernetes_up": True})
    return scenario.model_copy(update={"host": host})


def served(scenario: Scenario) -> ServedWorld:
    world = ServedWorld(
        scenario,
        skip_actors=scenario.bootstrap.skip_actors,
        node_ip=choose_node_address(),
        base_dir=SCENARIOS,
        warp=True,
    )
    return world.start()


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    path = tmp_path / "cfg"
    path.mkdir()
    return path


def env_for(world: ServedWorld) -> dict[str, str]:
    path = [str(BIN), os.environ.get("PATH", "")]
    bin_dir = getattr(world, "bin_dir", None)
    if bin_dir is not None:
        path.insert(0, str(bin_dir))
    return {
        **os.environ,
        "PATH": os.pathsep.join(path),
        "APPLIANCE_REGISTRY_URL": world.registry_url or "",
    }


def appliance(world: ServedWorld, *args: str) -> subprocess.CompletedProcess[str]:
    """The admin's command, a driver on the world's clock while it runs."""
    participant = world.participant(f"appliance {args[0]}")
    assert participant is not None
    try:
        return subprocess.run(
            [str(BIN / "appliance"), *args],
            env={**env_for(world), **participant.env},
            text=True,
            capture_output=True,
            timeout=WALL_TIMEOUT,
            check=False,
        )
    finally:
        participant.close()


def bootstrap_args(world: ServedWorld, config_dir: Path, *extra: str) -> list[str]:
    return [
        "bootstrap",
        "--release-version",
        "1.0-rc5",
        "--node-ip",
        world.node_ip,
        "--repo-url",
        str(ROOT),
        "--branch-override",
        branch(),
        "--config-dir",
        str(config_dir),
        *extra,
    ]


def secret(world: ServedWorld, namespace: str, name: str, key: str) -> str:
    obj: dict[str, Any] | None = world.get("Secret", name, namespace)
    assert obj is not None
    return base64.b64decode(obj["data"][key]).decode()


@pytest.fixture
def happy_installed() -> Iterator[ServedWorld]:
    world = served(installed(load_scenario(SCENARIOS / "happy-path.yaml")))
    try:
        yield world
    finally:
        world.stop()


def test_recover_on_happy_path_reaches_login_ready(
    happy_installed: ServedWorld, config_dir: Path
) -> None:
    """finding-05: recover with an existing kubeconfig installs the app to login ready."""
    world = happy_installed
    done = appliance(
        world,
        *bootstrap_args(
            world,
            config_dir,
            "--bootstrap-mode",
            "recover",
            "--kubeconfig",
            str(world.kubeconfig_path),
        ),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "LOGIN READY" in done.stdout
    assert "==> [6/6] Background services" in done.stdout
    assert world.ready("Deployment", "alga-core", "msp")


def test_interrupted_install_rerun_in_recover_keeps_token_and_data(
    happy_installed: ServedWorld, config_dir: Path
) -> None:
    """An install cut short and rerun in recover mode completes with the same token and DB."""
    world = happy_installed
    common = ("--bootstrap-mode", "recover", "--kubeconfig", str(world.kubeconfig_path))
    first = appliance(world, *bootstrap_args(world, config_dir, *common), "--install-timeout", "1")
    token = (config_dir / "appliance-single-node" / "status-token").read_text().strip()
    password = secret(world, "msp", "alga-db-credentials", "password")
    assert first.returncode in (0, 1), first.stdout + first.stderr
    second = appliance(world, *bootstrap_args(world, config_dir, *common))
    assert second.returncode == 0, second.stdout + second.stderr
    assert re.search(rf"^  Token +{re.escape(token)}$", second.stdout, re.MULTILINE)
    assert f"Sign-in link  http://{world.node_ip}:8080/?token={token}" in second.stdout
    assert secret(world, "appliance-system", "appliance-status-auth", "token") == token
    assert secret(world, "msp", "alga-db-credentials", "password") == password


def fresh_world(name: str) -> ServedWorld:
    world = served(load_scenario(SCENARIOS / name))
    if getattr(world, "bin_dir", None) is None:
        world.stop()
        pytest.skip(
            "simulator ServedWorld provides no fake talosctl bin dir (ServedWorld.bin_dir) yet"
        )
    return world


def test_fresh_happy_path_reaches_login_ready(config_dir: Path) -> None:
    """Acceptance: a fresh bootstrap on happy-path reaches login ready."""
    world = fresh_world("happy-path.yaml")
    try:
        done = appliance(
            world, *bootstrap_args(world, config_dir, "--dns-servers", "1.1.1.1,8.8.8.8")
        )
    finally:
        world.stop()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "LOGIN READY" in done.stdout


def test_fresh_rc5_without_dns_fails_in_host_layer(config_dir: Path) -> None:
    """finding-01: without --dns-servers the installer pull fails on DNS: host layer, DNS action."""
    world = fresh_world("utm-rc5-observed.yaml")
    try:
        done = appliance(world, *bootstrap_args(world, config_dir))
    finally:
        world.stop()
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Failure layer: host" in done.stdout
    assert "--dns-servers 1.1.1.1,8.8.8.8" in done.stdout


def test_fresh_rc5_with_dns_is_ready_with_background_issues_and_smoke_passes(
    config_dir: Path,
) -> None:
    """finding-02, T020-T023: with DNS servers the install reaches ready_with_background_issues,
    `smoke monitor` saw the status API first and `smoke verify` passes."""
    world = fresh_world("utm-rc5-observed.yaml")
    site = config_dir / "appliance-single-node"
    try:
        token_file = site / "status-token"
        site.mkdir(parents=True)
        token_file.write_text("smoke-token-for-the-monitor\n")
        token_file.chmod(0o600)
        base = f"http://{world.node_ip}"
        # The monitor follows the world's clock: it looks at every instant the world stands
        # still at, without moving time itself.
        follower = world.participant("smoke monitor", driver=False)
        assert follower is not None
        monitor = subprocess.Popen(
            [
                str(BIN / "appliance"),
                "smoke",
                "monitor",
                "--status-url",
                f"{base}:8080",
                "--app-url",
                f"{base}:3000",
                "--token-file",
                str(token_file),
                "--interval",
                "0.2",
                "--timeout",
                "4800",
                "--json",
            ],
            env={**env_for(world), **follower.env},
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        follower.close_when_done(monitor)
        try:
            done = appliance(
                world, *bootstrap_args(world, config_dir, "--dns-servers", "1.1.1.1,8.8.8.8")
            )
            # The install is done; the rest of the observed timeline settles the background.
            world.let_time_pass(world.scenario.end - world.elapsed)
            monitor_out, monitor_err = monitor.communicate(timeout=WALL_TIMEOUT)
        finally:
            follower.close()
        verify = appliance(
            world,
            "smoke",
            "verify",
            "--kubeconfig",
            str(site / "kubeconfig"),
            "--node-ip",
            world.node_ip,
            "--token-file",
            str(token_file),
        )
    finally:
        world.stop()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ready_with_background_issues" in done.stdout
    assert "workflow-worker" in done.stdout
    assert monitor.returncode == 0, monitor_out + monitor_err
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_prepull_requires_core_and_warns_for_missing_background(config_dir: Path) -> None:
    """--prepull-images: the core image is pulled; missing background tags only warn."""
    world = served(installed(load_scenario(SCENARIOS / "utm-rc5-observed.yaml")))
    try:
        done = appliance(
            world,
            *bootstrap_args(
                world,
                config_dir,
                "--bootstrap-mode",
                "recover",
                "--kubeconfig",
                str(world.kubeconfig_path),
                "--prepull-images",
                "--skip-image-tag-validation",
            ),
        )
    finally:
        world.stop()
    assert "pre-pull ghcr.io/nine-minds/alga-psa-ee:94446747: pulled" in done.stdout, done.stdout
    assert (
        "WARNING: background image ghcr.io/nine-minds/workflow-worker:61e4a00e was not pre-pulled"
        in done.stdout
    )
    assert "GitOps submitted" in done.stdout
