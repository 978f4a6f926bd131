"""What the status engine tells an admin to run after fixing a failed Kustomization, `flux
reconcile kustomization NAME --with-source`, against a served world: the fake `flux` CLI
annotates the GitRepository, then the Kustomization, and waits for each to record the request
(`status.lastHandledReconcileAt`); the world's source- and kustomize-controller reconcile at
once and record it when done, as the real ones do (judged in test_control_plane_bootstrap.py)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from simulator.world.scenario import parse_scenario
from simulator.world.served import ServedWorld
from tests.fixtures.flux_worlds import commit_with_platform, flux_crds, flux_objects, flux_repo


def _ready(world: ServedWorld, name: str) -> bool:
    obj = world.get("Kustomization", name, "flux-system") or {}
    conditions = (obj.get("status") or {}).get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def test_flux_reconcile_with_source_is_handled_by_the_worlds_controllers(tmp_path: Path) -> None:
    repo = flux_repo(tmp_path)
    commit_with_platform(repo, "platform")
    text = flux_objects(repo, flux_crds(), intervals={"alga-platform": "1h", "alga-core": "1h"})
    world = ServedWorld(parse_scenario(text, source="flux.yaml"), speed=30)
    world.start(kubeconfig_out=tmp_path / "kubeconfig")
    try:
        deadline = time.monotonic() + 60
        while not _ready(world, "alga-core"):
            assert time.monotonic() < deadline, "alga-core never became Ready"
            time.sleep(0.2)
        done = subprocess.run(
            [sys.executable, "-m", "simulator.neighbours.fluxctl", "reconcile", "kustomization",
             "alga-core", "--with-source", "--kubeconfig", str(tmp_path / "kubeconfig"),
             "--timeout", "30s"],
            capture_output=True, text=True, timeout=90, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        revision = (world.get("GitRepository", "alga", "flux-system") or {})["status"]["artifact"][
            "revision"
        ]
        assert done.stdout.splitlines() == [
            "► annotating GitRepository alga in flux-system namespace",
            "✔ GitRepository annotated",
            "◎ waiting for GitRepository reconciliation",
            f"✔ fetched revision {revision}",
            "► annotating Kustomization alga-core in flux-system namespace",
            "✔ Kustomization annotated",
            "◎ waiting for Kustomization reconciliation",
            f"✔ applied revision {revision}",
        ]
        core = world.get("Kustomization", "alga-core", "flux-system") or {}
        requested = core["metadata"]["annotations"]["reconcile.fluxcd.io/requestedAt"]
        assert core["status"]["lastHandledReconcileAt"] == requested
    finally:
        world.stop()
