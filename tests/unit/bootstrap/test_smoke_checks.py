"""The T022/T023 judgements of `smoke verify`, on plain objects."""

from __future__ import annotations

from typing import Any

from appliance.smoke.verify import Check, _status_checks, _temporal_checks, settled


def deployment(*, command: list[str] | None, links: bool | None, ready: int) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "c"}
    if command is not None:
        container["command"] = command
    spec: dict[str, Any] = {"containers": [container]}
    if links is not None:
        spec["enableServiceLinks"] = links
    return {"spec": {"template": {"spec": spec}}, "status": {"readyReplicas": ready}}


def test_temporal_checks_pass_on_our_manifests() -> None:
    """T023: autosetup, service links off and ready replicas on both deployments pass."""
    objects = {
        "temporal": deployment(
            command=["/etc/temporal/entrypoint.sh", "autosetup"], links=False, ready=1
        ),
        "temporal-ui": deployment(command=None, links=False, ready=1),
    }
    checks = _temporal_checks(objects.get)
    assert all(c.ok for c in checks), checks
    assert len(checks) == 5


def test_temporal_without_autosetup_and_with_links_fails() -> None:
    """T023 catches the field log's chart: no autosetup, service links on (default)."""
    objects = {
        "temporal": deployment(command=None, links=None, ready=0),
        "temporal-ui": deployment(command=None, links=True, ready=1),
    }
    failed = {c.name for c in _temporal_checks(objects.get) if not c.ok}
    assert failed == {
        "temporal runs autosetup",
        "temporal enableServiceLinks false",
        "temporal ready replicas",
        "temporal-ui enableServiceLinks false",
    }


def test_status_check_wants_background_issue_not_login_blocking() -> None:
    """T022: ready_with_background_issues with a non-login-blocking workflow-worker tag blocker."""
    status = {
        "rollup": {"state": "ready_with_background_issues"},
        "topBlockers": [
            {
                "layer": "Image tag availability",
                "component": "workflow-worker",
                "reason": "not found",
                "loginBlocking": False,
            }
        ],
    }
    assert all(c.ok for c in _status_checks(status, None, "ready_with_background_issues"))
    status["topBlockers"][0]["loginBlocking"] = True
    assert not all(c.ok for c in _status_checks(status, None, "ready_with_background_issues"))


def test_unreachable_status_api_is_a_failed_check() -> None:
    """No status answer is one failing T022 check with the reason."""
    checks = _status_checks(None, "ConnectError", "ready_with_background_issues")
    assert [(c.ok, c.detail) for c in checks] == [(False, "ConnectError")]


def test_checks_that_lag_are_asked_again_until_they_pass() -> None:
    """Temporal's Deployment appears a few seconds after login answers: `settled` waits for it
    (the user guide's rehearsal once failed T023 when verify read it only once)."""
    ready = deployment(command=["/etc/temporal/entrypoint.sh", "autosetup"], links=False, ready=1)
    appears_at = 3
    rounds: list[int] = []
    now = [0.0]

    def round_() -> list[Check]:
        rounds.append(len(rounds))
        objects = {"temporal": ready, "temporal-ui": ready} if len(rounds) > appears_at else {}
        return _temporal_checks(objects.get)

    checks = settled(
        round_, 60.0, sleep=lambda s: now.__setitem__(0, now[0] + s), monotonic=lambda: now[0]
    )
    assert all(c.ok for c in checks), checks
    assert len(rounds) == appears_at + 1
    assert now[0] == 2.0 * appears_at


def test_checks_still_failing_at_the_deadline_are_reported() -> None:
    """A Deployment that never comes is reported missing once `settle` has passed."""
    now = [0.0]
    none: dict[str, dict[str, Any]] = {}
    checks = settled(
        lambda: _temporal_checks(none.get),
        10.0,
        sleep=lambda s: now.__setitem__(0, now[0] + s),
        monotonic=lambda: now[0],
    )
    assert [c.name for c in checks if not c.ok] == [
        "temporal deployment exists",
        "temporal-ui deployment exists",
    ]
    assert now[0] == 10.0
