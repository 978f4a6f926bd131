"""The status engine against the verdicts Argo CD's own tests assert for real objects (issue 10).

Each of Argo's test objects is evaluated as the matching appliance component inside an otherwise
healthy appliance dump, and untouched beside a healthy appliance (tests/fixtures/argo.py says
how). Degraded: a blocker names it, never fully healthy, action required when its tier gates
login. Progressing: no failure blamed on it, not fully healthy while ours. Suspended: a reason
says so. Healthy: nothing names it. Where the appliance's rules deliberately differ, the case is
in EXCEPTIONS with its reason (docs/architecture.md lists the same lines), and the test checks
the difference is still there, so an exception cannot outlive its reason silently.
"""

from __future__ import annotations

import pytest

from appliance.snapshot import KINDS
from tests.fixtures.argo import (
    DATA,
    SHARED,
    Case,
    as_component,
    as_foreign,
    cases,
    evaluate_dump,
    load_object,
    problems,
)

# Login first: once the app answers, nothing blocks login (rollup.py). These four objects fail
# while the previous replicas, release or revision still serve the app.
_LOGIN_ANSWERS = (
    "the previous {what} still serves alga-core, so login answers: the failure is named (ready "
    "with issues), not 'action required'"
)
EXCEPTIONS: dict[tuple[str, str], str] = {
    ("component", "deployment-degraded"): _LOGIN_ANSWERS.format(what="ReplicaSet"),
    ("component", "HelmRelease-degraded"): _LOGIN_ANSWERS.format(what="Helm release"),
    ("component", "Kustomization-degraded"): _LOGIN_ANSWERS.format(what="platform revision"),
    ("component", "GitRepository-degraded"): _LOGIN_ANSWERS.format(what="fetched revision"),
    ("component", "pod-running-restart-never"): (
        "a Ready pod of alga-core's Deployment serves; Argo's Progressing is for run-to-completion "
        "hook pods"
    ),
    ("component", "pod-running-restart-onfailure"): (
        "a crash loop is a failure for a pod that is no Job's attempt; Argo spares OnFailure pods "
        "for its sync hooks"
    ),
    ("component", "pod-succeeded"): (
        "a Deployment's pod that ran to completion serves nothing: alga-core is not ready"
    ),
}

# Kinds an appliance dump does not carry (`kubectl get nodes,pods,events,deployments,...`):
# the engine never sees them, so neither placement applies.
NOT_READ = {"DaemonSet", "Service", "Ingress", "HorizontalPodAutoscaler", "APIService"}


def _id(case: Case) -> str:
    return case.id


def _in_scope() -> list[Case]:
    return [c for c in cases() if load_object(c)["kind"] not in NOT_READ]


def test_the_set_is_complete_and_its_scope_explicit() -> None:
    """45 verdicts; the only cases left out are kinds the engine never reads."""
    all_cases = cases()
    assert len(all_cases) == 45
    left_out = {load_object(c)["kind"] for c in all_cases} - set(KINDS)
    assert left_out == NOT_READ


def test_the_copy_in_the_repository_is_the_shared_one() -> None:
    """The repository's copy (what CI reads) is byte for byte the peer set beside the checkout."""
    if not SHARED.is_dir():
        pytest.skip(f"no peer set at {SHARED} (only the lead's machine has it; CI reads {DATA})")
    names = sorted(
        p.relative_to(SHARED).as_posix()
        for p in SHARED.rglob("*")
        if p.is_file() and p.name not in {"SOURCES.md", "LICENSE"}
    )
    assert names
    for name in names:
        assert (DATA / name).read_bytes() == (SHARED / name).read_bytes(), name


@pytest.mark.parametrize("case", _in_scope(), ids=_id)
def test_as_an_appliance_component(case: Case) -> None:
    """The object in the place of the matching component of a healthy appliance."""
    placed = as_component(case)
    assert placed is not None
    found = problems(case, placed, evaluate_dump(placed.appliance))
    reason = EXCEPTIONS.get(("component", case.id))
    if reason is None:
        assert found == []
    else:
        assert found, f"{case.id} now agrees with Argo: drop its exception ({reason})"


@pytest.mark.parametrize("case", _in_scope(), ids=_id)
def test_beside_a_healthy_appliance(case: Case) -> None:
    """The object untouched, next to a healthy appliance: judged alone, never one of ours."""
    placed = as_foreign(case)
    assert placed is not None
    found = problems(case, placed, evaluate_dump(placed.appliance))
    reason = EXCEPTIONS.get(("foreign", case.id))
    if reason is None:
        assert found == []
    else:
        assert found, f"{case.id} now agrees with Argo: drop its exception ({reason})"


def test_every_exception_is_a_case() -> None:
    """No stale exception names a case that does not exist."""
    ids = {c.id for c in _in_scope()}
    assert {case_id for _, case_id in EXCEPTIONS} <= ids
