"""`appliance-sim control-plane`: a real control plane and a standby node, until SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from simulator.controlplane.binaries import FLUX_PROGRAMS, KUBERNETES_PROGRAMS
from simulator.controlplane.command import STANDBY_NODE
from tests.integration.control_plane_support import kubectl, programs

SIM = str(Path(sys.executable).parent / "appliance-sim")


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in cmdline:
            found.append(int(entry.name))
    return found


def _wait_for(predicate: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.5)
    return False


def test_control_plane_runs_pods_on_its_node_and_leaves_nothing_behind(tmp_path: Path) -> None:
    """A Deployment created with kubectl runs on the standby node; SIGTERM stops every process
    the command started and removes its state folder."""
    programs((*KUBERNETES_PROGRAMS, *FLUX_PROGRAMS))
    kubeconfig = tmp_path / "kubeconfig"
    log = tmp_path / "out.log"
    with log.open("w") as out:
        command = subprocess.Popen(
            [SIM, "control-plane", "--kubeconfig-out", str(kubeconfig)],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        assert _wait_for(lambda: "ready in" in log.read_text(), 180), log.read_text()
        state = next(
            line.split(":", 1)[1].strip()
            for line in log.read_text().splitlines()
            if line.startswith("state, logs:")
        )
        assert _processes_mentioning(state), "the components run from the state folder"
        kubectl(kubeconfig, "create", "deployment", "web", "--image=nginx:1.27")

        def running() -> bool:
            pods = json.loads(kubectl(kubeconfig, "get", "pods", "-o", "json").stdout)["items"]
            return any(
                p["spec"].get("nodeName") == STANDBY_NODE
                and p.get("status", {}).get("phase") == "Running"
                for p in pods
            )

        assert _wait_for(running, 90), kubectl(kubeconfig, "get", "pods", "-o", "wide").stdout
        available = kubectl(
            kubeconfig, "wait", "deployment/web", "--for=condition=Available", "--timeout=60s"
        )
        assert "condition met" in available.stdout
        command.send_signal(signal.SIGTERM)
        assert command.wait(timeout=60) == 0, log.read_text()
        assert "control plane stopped" in log.read_text()
        assert _processes_mentioning(state) == []
        assert not Path(state).exists()
    finally:
        if command.poll() is None:
            os.killpg(command.pid, signal.SIGKILL)
            command.wait(timeout=10)
