"""The README's main job on the real control plane (`run SCENARIO --bootstrap --backend
control-plane`), and the same job on the fake API giving the same rollup timeline.

The bootstrapper runs its Platform..Background phases against kube-apiserver; the status service
runs as a process with a TokenRequest token; the real source-controller clones this repository
from a git server on loopback and the real kustomize-controller applies our manifests in
`dependsOn` order. happy-path and utm-rc5-observed run once on each backend, at the same speed
and at the same time (about a minute and a half each on the control plane).
"""

from __future__ import annotations

import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from appliance.flux_views import flux_view
from simulator.controlplane.binaries import FLUX_PROGRAMS, KUBERNETES_PROGRAMS
from simulator.controlplane.timelines import Backend, BootstrapRun, bootstrap_on, shapes_agree
from simulator.world.served import ServedWorld
from tests.integration.control_plane_support import KUBECTL, ROOT, kubectl, programs

HAPPY = ROOT / "scenarios" / "happy-path.yaml"
OBSERVED = ROOT / "scenarios" / "utm-rc5-observed.yaml"


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


def _flux_objects(world: ServedWorld) -> list[dict[str, Any]]:
    assert world.kubeconfig_path is not None
    listed = kubectl(
        world.kubeconfig_path,
        "get",
        "kustomizations,gitrepositories",
        "-n",
        "flux-system",
        "-o",
        "json",
    )
    items: list[dict[str, Any]] = json.loads(listed.stdout)["items"]
    return items


# How long to watch the platform Kustomization reconcile again (every 5 s once patched).
_WATCH_SECONDS = 12


def _reconciles(world: ServedWorld) -> list[dict[str, Any]]:
    """The platform Kustomization as kustomize-controller writes it over a few routine
    reconciles: its interval set to 5s, then watched. Taken after `_flux_objects` (the patch
    raises its generation)."""
    assert world.kubeconfig_path is not None
    target = ("-n", "flux-system", "kustomization", "alga-platform")
    patch = ("--type=merge", "-p", '{"spec":{"interval":"5s"}}')
    kubectl(world.kubeconfig_path, "patch", *target, *patch)
    return _watch(str(world.kubeconfig_path), target)


def _watch(kubeconfig: str, target: tuple[str, ...]) -> list[dict[str, Any]]:
    """Every version `kubectl get -w` printed in _WATCH_SECONDS."""
    process = subprocess.Popen(
        [KUBECTL, "--kubeconfig", kubeconfig, "get", *target, "-w", "-o", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        out, _ = process.communicate(timeout=_WATCH_SECONDS)
    except subprocess.TimeoutExpired:
        process.terminate()
        out, _ = process.communicate()
    decoder, seen, at = json.JSONDecoder(), [], 0
    while (at := _skip_space(out, at)) < len(out):
        obj, at = decoder.raw_decode(out, at)
        seen.append(obj)
    return seen


def _skip_space(text: str, at: int) -> int:
    while at < len(text) and text[at].isspace():
        at += 1
    return at


def _inspect_real(world: ServedWorld) -> dict[str, Any]:
    return {"flux": _flux_objects(world), "reconciles": _reconciles(world)}


def _inspect_fake(world: ServedWorld) -> dict[str, Any]:
    return {"flux": _flux_objects(world), "reconciles": []}


_RUNS: dict[tuple[Path, Backend], BootstrapRun] = {}


def run(scenario: Path, backend: Backend) -> BootstrapRun:
    """Each scenario runs once per backend in this module (the tests share the runs)."""
    if (scenario, backend) not in _RUNS:
        _run_on_both(scenario)
    return _RUNS[scenario, backend]


def _run_on_both(scenario: Path) -> None:
    """The scenario on the fake API and on a control plane at the same time: both run at the
    same fixed speed, so each takes the wall time of its virtual time whatever the other does,
    and the fake API's run needs little of a core (its processes mostly wait for the clock)."""
    programs((*KUBERNETES_PROGRAMS, *FLUX_PROGRAMS))
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="fake-api-run") as pool:
        fake = pool.submit(
            bootstrap_on, scenario, "fake-api", repository=ROOT, inspect=_inspect_fake
        )
        real = bootstrap_on(scenario, "control-plane", repository=ROOT, inspect=_inspect_real)
        _RUNS[scenario, "fake-api"] = fake.result()
    _RUNS[scenario, "control-plane"] = real


def test_the_bootstrapper_reaches_login_ready_on_the_real_api() -> None:
    """Every phase from Platform to Background passes against kube-apiserver."""
    real = run(HAPPY, "control-plane")
    text = "\n".join(real.output)
    assert real.code == 0, text[-4000:]
    for phase in range(2, 7):  # Platform .. Background services
        assert f"==> [{phase}/6]" in text
    assert "LOGIN READY" in text
    assert real.lines[-1].state == "fully_healthy"


def test_real_flux_fetches_the_branch_and_reconciles_in_depends_on_order() -> None:
    """source-controller cloned this commit over http; each Kustomization became Ready only
    after the one it depends on."""
    flux = run(HAPPY, "control-plane").inspected["flux"]
    head = _git("rev-parse", "HEAD")
    repository = next(o for o in flux if o["kind"] == "GitRepository")
    assert repository["status"]["artifact"]["revision"].endswith(head)
    ready_at = {}
    for obj in (o for o in flux if o["kind"] == "Kustomization"):
        ready = next(c for c in obj["status"]["conditions"] if c["type"] == "Ready")
        assert ready["status"] == "True", ready
        assert obj["status"]["lastAppliedRevision"].endswith(head)
        ready_at[obj["metadata"]["name"]] = ready["lastTransitionTime"]
    assert ready_at["alga-platform"] <= ready_at["alga-core"] <= ready_at["alga-background"]


def _flux_state(flux: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """What each Flux object ends with that the two backends must agree on: its conditions
    (type, status, reason, the generation each was observed at) in the order the controllers
    keep them, its finalizers, the fields of its spec (the CRD's defaults among them) and, for
    a Kustomization, its inventory."""
    return {
        f"{o['kind']}/{o['metadata']['name']}": {
            "conditions": [
                (c["type"], c["status"], c["reason"], c.get("observedGeneration"))
                for c in o["status"]["conditions"]
            ],
            "finalizers": o["metadata"].get("finalizers"),
            "spec": {key: type(value).__name__ for key, value in o["spec"].items()},
            "inventory": o["status"].get("inventory"),
        }
        for o in flux
    }


@pytest.mark.parametrize("scenario", [HAPPY, OBSERVED], ids=["happy-path", "utm-rc5-observed"])
def test_flux_objects_end_as_the_real_controllers_leave_them(scenario: Path) -> None:
    """`kubectl get kustomization -o yaml` after the install shows what kustomize-controller
    leaves (Ready, and Healthy for a Kustomization that waits; Reconciling gone; its finalizer;
    the inventory of what it applied, in Flux's order), and a GitRepository what
    source-controller leaves, on the fake API as on the control plane."""
    fake, real = run(scenario, "fake-api"), run(scenario, "control-plane")
    assert _flux_state(fake.inspected["flux"]) == _flux_state(real.inspected["flux"])


@pytest.mark.parametrize("scenario", [HAPPY, OBSERVED], ids=["happy-path", "utm-rc5-observed"])
def test_both_backends_give_the_same_rollup_timeline(scenario: Path) -> None:
    """The states and top blocker layers come in the same order on the fake API and on the real
    control plane, from where the later status service came in: the Postgres claim waits for
    its volume on both, and login is ready before the background tier is even applied on both
    (Flux re-checks a dependency every 30s)."""
    fake, real = run(scenario, "fake-api"), run(scenario, "control-plane")
    rendered = "\n".join(
        f"{run.backend}:\n" + "\n".join(line.render() for line in run.lines) for run in (fake, real)
    )
    assert shapes_agree(fake.shape, real.shape), rendered
    assert [state for state, _ in fake.shape][-2:] == [state for state, _ in real.shape][-2:]
    assert "ready" in {state for state, _ in fake.shape}, rendered
    assert real.shape[-1][0] in ("fully_healthy", "ready_with_background_issues")


def test_a_routine_reconcile_of_the_real_controller_is_not_an_install() -> None:
    """kustomize-controller reconciles a Kustomization again every interval and writes Ready
    Unknown until it has re-applied it: every such version the real controller wrote is one
    the status engine counts as re-applying (so as Ready), and it did write some."""
    seen = run(HAPPY, "control-plane").inspected["reconciles"]
    views = [flux_view(obj, "Kustomization") for obj in seen]
    unknown = [v for v in views if v is not None and v.ready is None]
    assert unknown, [v.ready_condition for v in views if v is not None]
    assert all(v.reapplying for v in unknown), [
        (v.ready_condition, v.raw["status"].get("conditions")) for v in unknown if not v.reapplying
    ]
