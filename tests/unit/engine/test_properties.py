"""The engine never raises, every tier that is not ready says why, and the rollup never
contradicts the blockers (hypothesis)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appliance.canonical import ApplianceStatus, LoginProbe, RollupState
from appliance.engine import evaluate
from appliance.snapshot import Snapshot
from tests.fixtures import MSG_DNS_PULL, MSG_SUBPATH, Appliance, missing_tag_message

BASE = Appliance.healthy().all()

messages = st.one_of(
    st.text(max_size=80),
    st.sampled_from(
        [
            MSG_DNS_PULL,
            MSG_SUBPATH,
            missing_tag_message("ghcr.io/x/y:1"),
            "context canceled",
            'Pulling image "ghcr.io/nine-minds/alga-psa-ee:1"',
            "cannot unmarshal !!str `tcp://1` into int",
            "sql schema version compatibility check failed",
        ]
    ),
)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 10**12), messages, st.lists(st.integers(), max_size=2)
)
reasons = st.one_of(
    st.sampled_from(
        [
            "CrashLoopBackOff",
            "ErrImagePull",
            "ImagePullBackOff",
            "Failed",
            "Pulling",
            "Pulled",
            "BackOff",
            "ContainerCreating",
            "CreateContainerConfigError",
        ]
    ),
    st.text(max_size=20),
)

# Paths (into one object) that a mutation may overwrite or delete.
PATHS: list[tuple[str, ...]] = [
    ("metadata",),
    ("metadata", "name"),
    ("metadata", "namespace"),
    ("metadata", "labels"),
    ("metadata", "creationTimestamp"),
    ("status",),
    ("status", "conditions"),
    ("status", "phase"),
    ("status", "containerStatuses"),
    ("status", "readyReplicas"),
    ("spec",),
    ("spec", "replicas"),
    ("message",),
    ("reason",),
    ("type",),
    ("involvedObject",),
    ("involvedObject", "name"),
    ("lastTimestamp",),
    ("firstTimestamp",),
    ("count",),
    ("kind",),
]


def _mutate(obj: dict[str, Any], path: tuple[str, ...], value: Any, delete: bool) -> None:
    target: Any = obj
    for key in path[:-1]:
        if not isinstance(target, dict) or key not in target:
            return
        target = target[key]
    if not isinstance(target, dict):
        return
    if delete:
        target.pop(path[-1], None)
    else:
        target[path[-1]] = value


mutation = st.tuples(
    st.integers(0, len(BASE) - 1),
    st.sampled_from(PATHS),
    scalars,
    st.booleans(),
)

extra_event = st.fixed_dictionaries(
    {
        "kind": st.just("Event"),
        "type": st.sampled_from(["Warning", "Normal", None]),
        "reason": reasons,
        "message": messages,
        "involvedObject": st.fixed_dictionaries(
            {
                "kind": st.sampled_from(["Pod", "HelmRelease", "Node", "Job", "Weird"]),
                "name": st.sampled_from(["db-0", "alga-core-sebastian-6f7d9c8b4-q2w3e", "x", ""]),
                "namespace": st.sampled_from(["msp", "alga-system", None]),
            }
        ),
        "lastTimestamp": st.one_of(
            st.none(), st.sampled_from(["2026-04-29T14:50:00Z", "garbage", ""])
        ),
        "count": scalars,
    }
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    mutations=st.lists(mutation, max_size=8),
    events=st.lists(extra_event, max_size=5),
    probe_ok=st.one_of(st.none(), st.booleans()),
    users=st.one_of(st.none(), st.integers(-1, 10)),
    api_error=st.one_of(st.none(), st.text(max_size=20)),
)
def test_engine_never_raises_and_explains_every_tier(
    mutations: list[tuple[int, tuple[str, ...], Any, bool]],
    events: list[dict[str, Any]],
    probe_ok: bool | None,
    users: int | None,
    api_error: str | None,
) -> None:
    """Arbitrary messages, reasons and missing fields: no exception, and no silent tier."""
    objects = copy.deepcopy(BASE)
    for index, path, value, delete in mutations:
        _mutate(objects[index], path, value, delete)
    objects.extend(events)
    buckets: dict[str, list[Any]] = {}
    from appliance.snapshot import KINDS

    for obj in objects:
        field = KINDS.get(str(obj.get("kind")), "events")
        buckets.setdefault(field, []).append(obj)
    fields: dict[str, Any] = {k: tuple(v) for k, v in buckets.items()}
    snap = Snapshot(
        server_time=datetime(2026, 4, 29, 15, tzinfo=UTC), api_error=api_error or None, **fields
    )
    probe = (
        None if probe_ok is None else LoginProbe(url="http://x:3000", attempted=True, ok=probe_ok)
    )
    status = evaluate(
        snap,
        site_id="prop",
        login_probe=probe,
        users_count=users,
        users_count_measurable=users is not None,
    )
    for name in ("platform", "core", "bootstrap", "login", "background", "full_health"):
        tier = getattr(status.tiers, name)
        assert tier.ready or tier.reasons, name
    assert "status engine could not evaluate" not in status.rollup.message
    assert_rollup_agrees_with_blockers(status)
    status.to_json()


def assert_rollup_agrees_with_blockers(status: ApplianceStatus) -> None:
    """Issue 10, item 1: never 'healthy' beside a blocker, never 'ready' beside one that blocks
    login, and 'action required' only for a login-blocking blocker that waiting will not clear."""
    state = status.rollup.state
    blockers = status.top_blockers
    if state is RollupState.FULLY_HEALTHY:
        assert not blockers, blockers
        assert status.tiers.full_health.ready
    if state.login_ready:
        assert status.tiers.login.ready
        assert not [b for b in blockers if b.login_blocking], blockers
    else:
        assert not status.tiers.login.ready
    if state is RollupState.FAILED_ACTION_REQUIRED:
        assert any(b.login_blocking and not b.retryable for b in blockers), blockers
