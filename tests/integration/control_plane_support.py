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
from typing import Any

import pytest

from simulator.api import openapi_assets
from simulator.controlplane.binaries import KUBERNETES_PROGRAMS, REQUIRED_ENV, find_binaries
from simulator.controlplane.cluster import ControlPlane
from tests.integration.fake_api_harness import Harness, running_api

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


def judging_fixtures(name: str) -> tuple[Any, Any]:
    """The `plane` and `fake` fixtures of a test_fake_api_vs_apiserver_* module: the module's
    control plane (its state in a folder named `name`), and a fresh fake API for each test. The
    fake's server-side apply reads field types from kube-apiserver's OpenAPI documents, so both
    are skipped, with the reason, when they cannot be fetched."""

    @pytest.fixture(scope="module", name="plane")
    def plane_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
        try:
            openapi_assets.build()
        except openapi_assets.OpenApiError as exc:
            pytest.skip(f"the Kubernetes OpenAPI documents could not be fetched: {exc}")
        yield from running_control_plane(tmp_path_factory.mktemp(name))

    @pytest.fixture(name="fake")
    def fake_fixture(tmp_path: Path) -> Iterator[Harness]:
        with running_api(tmp_path) as harness:
            yield harness

    return plane_fixture, fake_fixture


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
