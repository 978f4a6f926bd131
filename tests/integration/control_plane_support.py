"""A real control plane for tests: skipped with the reason when its programs are not built.

`./tasks test` builds them first (`python -m simulator.controlplane.binaries build`); CI sets
APPLIANCE_SIM_REQUIRE_CONTROL_PLANE, and a missing program then fails instead of skipping. Each
test module starts its own control plane (a few seconds warm): scenarios replayed by one module
never leave objects behind for the next.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from simulator.controlplane.binaries import KUBERNETES_PROGRAMS, REQUIRED_ENV, find_binaries
from simulator.controlplane.cluster import ControlPlane

ROOT = Path(__file__).resolve().parents[2]
KUBECTL = str(Path(__import__("sys").executable).parent / "kubectl")


def programs(names: Sequence[str] = KUBERNETES_PROGRAMS) -> dict[str, Path]:
    """The built programs; skips (fails in CI) when one of `names` is missing."""
    found = find_binaries()
    absent = [name for name in names if name not in found]
    if absent:
        reason = (
            f"control plane programs not built: {', '.join(absent)} "
            "(./tasks test builds them: python -m simulator.controlplane.binaries build)"
        )
        if os.environ.get(REQUIRED_ENV, "") not in ("", "0"):
            pytest.fail(reason)
        pytest.skip(reason)
    return found


def running_control_plane(
    folder: Path, names: Sequence[str] = KUBERNETES_PROGRAMS
) -> Iterator[ControlPlane]:
    """A started control plane whose state lives in `folder`; its logs are printed on failure."""
    plane = ControlPlane(programs(names), folder=folder)
    with plane:
        yield plane


def kubectl(kubeconfig: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Real kubectl against the control plane."""
    done = subprocess.run(
        [KUBECTL, "--kubeconfig", str(kubeconfig), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if check and done.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed: {done.stderr}")
    return done
