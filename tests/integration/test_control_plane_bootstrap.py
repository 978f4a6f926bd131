"""The README's main job on the real control plane (`run SCENARIO --bootstrap --backend
control-plane`).

The bootstrapper runs its Platform..Background phases against kube-apiserver; the status service
runs as a process with a TokenRequest token; the real source-controller clones this repository
from a git server on loopback and the real kustomize-controller applies our manifests in
`dependsOn` order. happy-path runs once (about a minute and a half).
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from simulator.bootstrapping import SETTLED_STATES, BootstrapSession, RollupLine
from simulator.controlplane.binaries import FLUX_PROGRAMS, KUBERNETES_PROGRAMS
from simulator.controlplane.bootstrap import served_on_control_plane
from simulator.world.scenario import load_scenario
from tests.integration.control_plane_support import ROOT, kubectl, programs

HAPPY = ROOT / "scenarios" / "happy-path.yaml"


@dataclass
class ControlPlaneRun:
    code: int
    output: list[str]
    lines: list[RollupLine]
    kustomizations: list[dict[str, Any]]
    git_repository: dict[str, Any]
    head: str


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


def _run_on_control_plane(scenario: Path, tmp: Path) -> ControlPlaneRun:
    loaded = load_scenario(scenario)
    output: list[str] = []
    with served_on_control_plane(scenario, speed=None, repository=ROOT) as (world, repo_url):
        session = BootstrapSession(
            world,
            config_dir=tmp,
            bin_dir=world.bin_dir,
            fields={"repo_url": repo_url, "branch": _git("rev-parse", "--abbrev-ref", "HEAD")},
            echo=output.append,
        )
        # A loaded machine stretches the real components' wall-time steps into virtual time: the
        # states are compared, not when they came, so the run may take longer to settle.
        code = session.run(until_state=SETTLED_STATES, until_seconds=loaded.end * 1.5)
        assert world.kubeconfig_path is not None
        flux = json.loads(
            kubectl(
                world.kubeconfig_path,
                "get",
                "kustomizations,gitrepositories",
                "-n",
                "flux-system",
                "-o",
                "json",
            ).stdout
        )["items"]
    return ControlPlaneRun(
        code=code,
        output=output,
        lines=list(session.poller.lines),
        kustomizations=[o for o in flux if o["kind"] == "Kustomization"],
        git_repository=next(o for o in flux if o["kind"] == "GitRepository"),
        head=_git("rev-parse", "HEAD"),
    )


@pytest.fixture(scope="module")
def happy(tmp_path_factory: pytest.TempPathFactory) -> ControlPlaneRun:
    programs((*KUBERNETES_PROGRAMS, *FLUX_PROGRAMS))
    return _run_on_control_plane(HAPPY, tmp_path_factory.mktemp("happy-path"))


def test_the_bootstrapper_reaches_login_ready_on_the_real_api(
    happy: ControlPlaneRun,
) -> None:
    """Every phase from Platform to Background passes against kube-apiserver."""
    real = happy
    text = "\n".join(real.output)
    assert real.code == 0, text[-4000:]
    for phase in range(2, 7):  # Platform .. Background services
        assert f"==> [{phase}/6]" in text
    assert "LOGIN READY" in text
    assert real.lines[-1].state == "fully_healthy"


def test_real_flux_fetches_the_branch_and_reconciles_in_depends_on_order(
    happy: ControlPlaneRun,
) -> None:
    """source-controller cloned this commit over http; each Kustomization became Ready only
    after the one it depends on."""
    real = happy
    artifact = real.git_repository["status"]["artifact"]
    assert artifact["revision"].endswith(real.head)
    ready_at = {}
    for obj in real.kustomizations:
        ready = next(c for c in obj["status"]["conditions"] if c["type"] == "Ready")
        assert ready["status"] == "True", ready
        assert obj["status"]["lastAppliedRevision"].endswith(real.head)
        ready_at[obj["metadata"]["name"]] = ready["lastTransitionTime"]
    assert ready_at["alga-platform"] <= ready_at["alga-core"] <= ready_at["alga-background"]
