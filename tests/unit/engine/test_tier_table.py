"""The tier table is the one vocabulary of tiers: engine, CLI, page and bootstrapper read it."""

from __future__ import annotations

from typing import get_args

from appliance.bootstrap.display import PHASES
from appliance.bootstrap.platform import KUSTOMIZATION_CHAIN
from appliance.canonical import RollupState, TierName, Tiers
from appliance.components import COMPONENTS_BY_TIER, FLUX_TIER, tier_of
from appliance.status_command import render_text
from appliance.tier_table import (
    LOGIN_GATING,
    TIERS,
    kustomization_tier,
    kustomizations,
    owns_kustomization,
    tier_spec,
)
from tests.fixtures import (
    Appliance,
    event,
    pod,
    pod_name,
    probe_refused,
)
from tests.unit.engine.conftest import Evaluate


def test_table_lists_the_wire_tiers_in_install_order() -> None:
    """TierName, the Tiers model and the table name the same tiers in the same order."""
    names = [spec.name for spec in TIERS]
    assert names == list(get_args(TierName))
    assert [*names, "full_health"] == list(Tiers.model_fields)
    assert [spec.order for spec in TIERS] == sorted(spec.order for spec in TIERS)


def test_login_first_background_never_blocks_login() -> None:
    """Every tier but background gates login."""
    assert {spec.name for spec in TIERS if not spec.gates_login} == {"background"}
    assert {"platform", "core", "bootstrap", "login"} == LOGIN_GATING


def test_components_and_kustomizations_come_from_the_table() -> None:
    """Component membership, Flux tiers and the bootstrapper's Kustomization chain agree."""
    for spec in TIERS:
        assert COMPONENTS_BY_TIER[spec.name] == spec.components
        for component in spec.components:
            assert tier_of(component) == spec.name
    assert kustomizations() == tuple(name for name, *_ in KUSTOMIZATION_CHAIN)
    # alga-core applies core, bootstrap and login: its readiness is the last one's.
    assert kustomization_tier("alga-core") == "login"
    assert FLUX_TIER == {
        "alga-platform": "platform",
        "alga-core": "login",
        "alga-background": ("background"),
    }
    assert [spec.name for spec in TIERS if owns_kustomization(spec)] == ["platform", "background"]


def test_one_vocabulary_for_bootstrapper_cli_and_page(
    world: Appliance, status_of: Evaluate
) -> None:
    """Issue 14: the phase markers are the tier labels; the CLI and page show the same titles."""
    from status_web.observations import Observation
    from status_web.rendering import render_diagnostics, render_overview

    assert ("Host/Talos", *(spec.label for spec in TIERS)) == PHASES
    status = status_of(world)
    text = render_text(status)
    observation = Observation(
        status=status, age_seconds=0.0, stale=False, api_error=None, version=1
    )
    overview = render_overview(observation)
    diagnostics = render_diagnostics(observation)
    for spec in TIERS:
        assert spec.title in text
        assert spec.title in overview
        assert spec.title in diagnostics


def test_a_platform_pull_is_installing_progress(world: Appliance, status_of: Evaluate) -> None:
    """Platform gates login: its image pull is progress the rollup names, not a failure."""
    name = pod_name("appliance-status")
    image = "ghcr.io/nine-minds/appliance-status:0.2.0"
    world.get("Deployment", "appliance-system", "appliance-status")["status"].pop("readyReplicas")
    world.put(
        pod(
            name,
            namespace="appliance-system",
            labels={"app.kubernetes.io/name": "appliance-status"},
            image=image,
            ready=False,
            waiting=("ContainerCreating", None),
        )
    )
    world.put(
        event(
            "Pod",
            name,
            "Pulling",
            f'Pulling image "{image}"',
            namespace="appliance-system",
            type_="Normal",
            first=-120,
        )
    )
    status = status_of(world, probe=probe_refused())
    assert status.rollup.state is RollupState.INSTALLING
    assert f"pulling {image} for appliance-status" in status.rollup.message
    assert tier_spec("platform").gates_login


def test_a_background_pull_is_never_the_installs_headline(
    world: Appliance, status_of: Evaluate
) -> None:
    """Background never gates login: while login waits, its pull is not what the rollup says."""
    name = pod_name("workflow-worker")
    image = "ghcr.io/nine-minds/workflow-worker:61e4a00f"
    world.break_component("workflow-worker", waiting=("ContainerCreating", None), image=image)
    world.put(event("Pod", name, "Pulling", f'Pulling image "{image}"', type_="Normal", first=-60))
    status = status_of(world, probe=probe_refused())
    assert status.rollup.state is RollupState.INSTALLING
    assert status.active_operations[0].component == "workflow-worker"
    assert "workflow-worker" not in status.rollup.message
    assert "waiting for the login tier" in status.rollup.message
