"""Shared steps for every feature, and the catalogue tags registered as pytest markers.

Two layers of steps live here:

- engine level: `Given a healthy appliance` builds the objects the API would return
  (tests/fixtures/, shared with the unit tests and benches), the Given steps bend them as the
  field log saw, `When the status is evaluated` runs `appliance.engine.evaluate`, and the Then
  steps read the canonical status;
- world level (tests/bdd/worlds.py): a scenario of `scenarios/` runs in `simulator.world.World`,
  the real bootstrapper runs against it, and the Then steps read its output, the cluster and the
  real status service.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from _pytest.fixtures import FixtureFunctionDefinition
from pytest_bdd import given, parsers, then, when

from appliance.canonical import ActiveOperation, ApplianceStatus, Blocker, RollupState
from tests.fixtures import (
    BACKGROUND,
    Appliance,
)

ROOT = Path(__file__).resolve().parents[2]


def _load_catalogue_index() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "catalogue_index", ROOT / "features" / "catalogue_index.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while the class is being built
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


catalogue_index = _load_catalogue_index()


def pytest_configure(config: pytest.Config) -> None:
    """pytest-bdd turns Gherkin tags into marks; --strict-markers wants each one declared."""
    for entry in catalogue_index.catalogue_entries():
        config.addinivalue_line("markers", f"{entry.tag}: {entry.summary}")


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """After the last BDD scenario, stop the shared worlds instead of at session end."""
    if nextitem is None or Path(__file__).parent not in Path(nextitem.path).parents:
        world_steps.stop_shared_worlds()


# --- engine level: Given ----------------------------------------------------------------------


@given("a healthy appliance", target_fixture="appliance")
def healthy_appliance() -> Appliance:
    """Everything settled: the observed appliance after the fixes."""
    return Appliance.healthy()


@given("the app URL refuses connections")
def app_refuses(appliance: Appliance) -> None:
    appliance.app_refuses()


@given(parsers.parse("the app URL answers {code:d}"))
def app_answers(appliance: Appliance, code: int) -> None:
    appliance.app_answers(code)


@given(parsers.parse('pod "{pod}" of component "{component}" is waiting with reason "{reason}":'))
def pod_waiting(
    appliance: Appliance, pod: str, component: str, reason: str, docstring: str
) -> None:
    appliance.pod_waiting(pod, component=component, reason=reason, message=docstring.strip())


@given(
    parsers.parse('pod "{pod}" of component "{component}" is crash-looping with the last message:')
)
def pod_crash_looping(appliance: Appliance, pod: str, component: str, docstring: str) -> None:
    appliance.pod_crash_looping(pod, component=component, message=docstring.strip())


@given(
    parsers.parse(
        'pod "{pod}" of component "{component}" has been pulling image "{image}" '
        "for {minutes:d} minutes"
    )
)
def pod_pulling(appliance: Appliance, pod: str, component: str, image: str, minutes: int) -> None:
    appliance.pod_pulling(pod, component=component, image=image, minutes=minutes)


@given(parsers.parse('the component "{component}" is not ready'))
@given(parsers.parse('the component "{component}" is still starting'))
def component_starting(appliance: Appliance, component: str) -> None:
    appliance.pod_starting(component)


@given(parsers.parse('a {kind_of_event} event "{reason}" on {kind} "{name}":'))
def event_now(
    appliance: Appliance, *, kind_of_event: str, reason: str, kind: str, name: str, docstring: str
) -> None:
    appliance.event(
        kind_of_event,
        reason,
        kind=kind.capitalize(),
        name=name,
        ago=timedelta(minutes=1),
        message=docstring.strip(),
    )


@given(
    parsers.parse('a {kind_of_event} event "{reason}" on {kind} "{name}" {minutes:d} minutes ago:')
)
def event_ago(
    appliance: Appliance,
    *,
    kind_of_event: str,
    reason: str,
    kind: str,
    name: str,
    minutes: int,
    docstring: str,
) -> None:
    appliance.event(
        kind_of_event,
        reason,
        kind=kind.capitalize(),
        name=name,
        ago=timedelta(minutes=minutes),
        message=docstring.strip(),
    )


@given(parsers.parse('the bootstrap Job "{name}" {state}:'))
def bootstrap_job_with_message(appliance: Appliance, name: str, state: str, docstring: str) -> None:
    appliance.bootstrap_job(name, state=state, message=docstring.strip())


@given(parsers.parse('the bootstrap Job "{name}" is running'))
def bootstrap_job_running(appliance: Appliance, name: str) -> None:
    appliance.bootstrap_job(name, state="running")


@given(parsers.parse('the bootstrap Job "{name}" completed'))
def bootstrap_job_completed(appliance: Appliance, name: str) -> None:
    appliance.bootstrap_job(name, state="completed")


@given(parsers.parse("the database has {count:d} seeded users"))
def seeded_users(appliance: Appliance, count: int) -> None:
    appliance.users_count = count
    appliance.users_count_measurable = True


@given("the users count cannot be measured")
def users_unmeasurable(appliance: Appliance) -> None:
    appliance.users_count = None
    appliance.users_count_measurable = False


@given(parsers.parse('the {kind} "{name}" is not ready with reason "{reason}":'))
def flux_not_ready(appliance: Appliance, kind: str, name: str, reason: str, docstring: str) -> None:
    flux_kind = kind.removeprefix("Flux ")
    appliance.flux_not_ready(flux_kind, name, reason=reason, message=docstring.strip())


@given("the status service is not deployed")
def status_service_absent(appliance: Appliance) -> None:
    appliance.status_service_absent()


# --- engine level: When -----------------------------------------------------------------------


@when("the status is evaluated", target_fixture="status")
def evaluate_status(appliance: Appliance) -> ApplianceStatus:
    return appliance.evaluate()


# --- engine level: Then -----------------------------------------------------------------------


def _describe(status: ApplianceStatus) -> str:
    """A compact picture of the status for assertion messages."""
    blockers = [
        f"{b.layer} [{b.component}] loginBlocking={b.login_blocking}: {b.reason}"
        for b in status.top_blockers
    ]
    return (
        f"rollup={status.rollup.state.value} ({status.rollup.message}); "
        f"tiers={ {name: t.ready for name, t in status.tiers} }; blockers={blockers}"
    )


def _top(status: ApplianceStatus) -> Blocker:
    assert status.top_blockers, f"expected a top blocker, got none: {_describe(status)}"
    return status.top_blockers[0]


@then(parsers.parse('the rollup state is "{state}"'))
def rollup_is(status: ApplianceStatus, state: str) -> None:
    assert status.rollup.state == RollupState(state), _describe(status)


@then(parsers.parse('the rollup state is not "{state}"'))
def rollup_is_not(status: ApplianceStatus, state: str) -> None:
    assert status.rollup.state != RollupState(state), _describe(status)


@then("the rollup state is not login-ready")
def rollup_not_login_ready(status: ApplianceStatus) -> None:
    assert not status.rollup.state.login_ready, _describe(status)


def _tier(status: ApplianceStatus, name: str) -> Any:
    field = {"fullHealth": "full_health"}.get(name, name)
    return getattr(status.tiers, field)


@then(parsers.parse('the tier "{name}" is ready'))
def tier_ready(status: ApplianceStatus, name: str) -> None:
    assert _tier(status, name).ready, _describe(status)


@then(parsers.parse('the tier "{name}" is not ready'))
def tier_not_ready(status: ApplianceStatus, name: str) -> None:
    tier = _tier(status, name)
    assert not tier.ready, _describe(status)
    assert tier.reasons, f"tier {name} is not ready but gives no reason"


@then("every tier is ready")
def every_tier_ready(status: ApplianceStatus) -> None:
    assert all(tier.ready for _, tier in status.tiers), _describe(status)


@then(parsers.parse('the top blocker layer is "{layer}"'))
def top_layer(status: ApplianceStatus, layer: str) -> None:
    assert _top(status).layer == layer, _describe(status)


@then(parsers.parse('the top blocker component is "{component}"'))
def top_component(status: ApplianceStatus, component: str) -> None:
    assert _top(status).component == component, _describe(status)


@then("the top blocker is login-blocking")
def top_login_blocking(status: ApplianceStatus) -> None:
    assert _top(status).login_blocking, _describe(status)


@then("the top blocker is not login-blocking")
def top_not_login_blocking(status: ApplianceStatus) -> None:
    assert not _top(status).login_blocking, _describe(status)


@then("the top blocker is retryable")
def top_retryable(status: ApplianceStatus) -> None:
    assert _top(status).retryable, _describe(status)


@then(parsers.parse('the top blocker next action mentions "{text}"'))
def top_next_action(status: ApplianceStatus, text: str) -> None:
    top = _top(status)
    assert text in top.next_action, f"{text!r} not in next action {top.next_action!r}"


@then(parsers.parse('the top blocker reason mentions "{text}"'))
def top_reason(status: ApplianceStatus, text: str) -> None:
    top = _top(status)
    said = " ".join([top.reason, *(e.message for e in top.evidence)])
    assert text in said, f"{text!r} not in reason/evidence {said!r}"


@then(parsers.parse('the top blocker reason does not mention "{text}"'))
def top_reason_not(status: ApplianceStatus, text: str) -> None:
    assert text not in _top(status).reason, _describe(status)


@then(parsers.parse('the top blocker cites evidence from "{name}"'))
def top_evidence(status: ApplianceStatus, name: str) -> None:
    objects = [e.object for e in _top(status).evidence]
    assert any(name in obj for obj in objects), f"{name!r} not among evidence {objects}"


@then(parsers.parse('no blocker has layer "{layer}"'))
def no_blocker_layer(status: ApplianceStatus, layer: str) -> None:
    assert all(b.layer != layer for b in status.top_blockers), _describe(status)


@then(parsers.parse('some blocker mentions "{text}"'))
def some_blocker_mentions(status: ApplianceStatus, text: str) -> None:
    said = [
        " ".join([b.reason, b.next_action, *(e.message for e in b.evidence)])
        for b in status.top_blockers
    ]
    assert any(text in s for s in said), _describe(status)


@then("no top blocker is both login-blocking and not retryable")
def nothing_action_required(status: ApplianceStatus) -> None:
    hard = [b for b in status.top_blockers if b.login_blocking and not b.retryable]
    assert not hard, _describe(status)


@then("no login-blocking blocker names a background component")
def background_never_blocks(status: ApplianceStatus) -> None:
    offenders = [b for b in status.top_blockers if b.login_blocking and b.component in BACKGROUND]
    assert not offenders, _describe(status)


def _blocker_for(status: ApplianceStatus, component: str) -> Blocker:
    for blocker in status.top_blockers:
        if blocker.component == component:
            return blocker
    raise AssertionError(f"no blocker for {component}: {_describe(status)}")


@then(parsers.parse('the blocker for component "{component}" has layer "{layer}"'))
def blocker_for_layer(status: ApplianceStatus, component: str, layer: str) -> None:
    assert _blocker_for(status, component).layer == layer, _describe(status)


@then(parsers.parse('the blocker for component "{component}" is not login-blocking'))
def blocker_for_not_login_blocking(status: ApplianceStatus, component: str) -> None:
    assert not _blocker_for(status, component).login_blocking, _describe(status)


@then(parsers.parse('the status reports the status service "{name}" as missing'))
def status_service_missing(status: ApplianceStatus, name: str) -> None:
    said = [
        *status.tiers.platform.reasons,
        status.rollup.message,
        *(f"{b.component} {b.reason} {b.next_action}" for b in status.top_blockers),
    ]
    assert any(name in text for text in said), f"{name} absence not reported: {said}"


@then(parsers.parse('an active operation pulls "{image}" for component "{component}"'))
def active_pull(status: ApplianceStatus, image: str, component: str) -> None:
    found = [
        op for op in status.active_operations if op.image == image and op.component == component
    ]
    assert found, f"no active pull of {image} for {component}: {status.active_operations}"


def _the_operation(status: ApplianceStatus) -> ActiveOperation:
    assert status.active_operations, f"no active operation: {_describe(status)}"
    return status.active_operations[0]


@then(parsers.parse("the active operation has been running for at least {seconds:d} seconds"))
def operation_elapsed(status: ApplianceStatus, seconds: int) -> None:
    assert _the_operation(status).elapsed_seconds >= seconds


@then(parsers.parse('the active operation estimates a size of "{size}"'))
def operation_size(status: ApplianceStatus, size: str) -> None:
    estimated = _the_operation(status).estimated_size or ""
    assert size in estimated, f"{size!r} not in estimated size {estimated!r}"


@then("the active operation says progress is not available")
def operation_no_progress(status: ApplianceStatus) -> None:
    operation = _the_operation(status)
    assert not operation.progress_available
    assert operation.note


@then(parsers.parse('the login probe is ok with status {code:d} and location "{location}"'))
def login_probe_ok(status: ApplianceStatus, code: int, location: str) -> None:
    probe = status.login_probe
    assert probe.ok, probe
    assert probe.status_code == code
    assert probe.location == location


@then(parsers.parse("the bootstrap seed shows {count:d} users, verified"))
def seed_verified(status: ApplianceStatus, count: int) -> None:
    assert status.bootstrap.seed.users_count == count
    assert status.bootstrap.seed.verified


@then("the bootstrap seed is not verified")
def seed_not_verified(status: ApplianceStatus) -> None:
    assert not status.bootstrap.seed.verified
    reasons = " ".join([*status.tiers.bootstrap.reasons, status.bootstrap.seed.note or ""])
    assert "not verified" in reasons or "not measured" in reasons or "could not" in reasons, reasons


def _canonical(status: ApplianceStatus) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(status.to_json())
    return data


@then("the canonical JSON has the keys:")
def canonical_keys(status: ApplianceStatus, datatable: list[list[str]]) -> None:
    data = _canonical(status)
    wanted = [row[0] for row in datatable[1:]]
    missing = [key for key in wanted if key not in data]
    assert not missing, f"canonical JSON lacks {missing}; has {sorted(data)}"


@then("the canonical JSON tiers are platform, core, bootstrap, login, background and fullHealth")
def canonical_tiers(status: ApplianceStatus) -> None:
    tiers = _canonical(status)["tiers"]
    assert set(tiers) == {"platform", "core", "bootstrap", "login", "background", "fullHealth"}
    assert all(set(t) >= {"ready", "reasons"} for t in tiers.values())


@then("the canonical JSON has no top blockers")
def canonical_no_blockers(status: ApplianceStatus) -> None:
    assert _canonical(status)["topBlockers"] == [], _describe(status)


@then(
    "the canonical JSON lists the components db, redis, pgbouncer, alga-core, email-service, "
    "temporal, temporal-ui, workflow-worker and temporal-worker"
)
def canonical_components(status: ApplianceStatus) -> None:
    names = {c["name"] for c in _canonical(status)["components"]}
    wanted = {
        "db",
        "redis",
        "pgbouncer",
        "alga-core",
        "email-service",
        "temporal",
        "temporal-ui",
        "workflow-worker",
        "temporal-worker",
    }
    assert wanted <= names, f"missing components {wanted - names}"


# --- steps kept in sibling modules -------------------------------------------------------------
# pytest-bdd registers each step as a fixture in the module that defines it; conftest re-exports
# those fixtures (steps and helpers alike) so every feature sees them.
def _reexport_steps(*modules: ModuleType) -> None:
    for module in modules:
        globals().update(
            {
                name: value
                for name, value in vars(module).items()
                if isinstance(value, FixtureFunctionDefinition)
            }
        )


from tests.bdd import (  # noqa: E402
    manifest_steps,
    rbac_steps,
    service_steps,
    world_cluster_steps,
    world_status_steps,
    world_steps,
)

_reexport_steps(
    manifest_steps,
    service_steps,
    world_steps,
    world_status_steps,
    world_cluster_steps,
    rbac_steps,
)
