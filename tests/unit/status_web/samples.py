"""Canonical statuses for status-service tests: one per rollup state, built by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from appliance.canonical import (
    ActiveOperation,
    ApplianceStatus,
    Blocker,
    ClusterInfo,
    Component,
    EventSummary,
    Evidence,
    FluxObject,
    FluxSummary,
    LoginProbe,
    Rollup,
    RollupState,
    Tier,
    Tiers,
    Urls,
)

__all__ = ["LOGIN_URL", "NOW", "failed", "install_story", "installing", "ready"]

NOW = datetime(2026, 4, 30, 9, 30, tzinfo=UTC)
LOGIN_URL = "https://psa.example.test"

_READY = Tier(ready=True)


def _tiers(*, core: bool, login: bool, background: bool) -> Tiers:
    def tier(ready: bool, reason: str) -> Tier:
        return _READY if ready else Tier(ready=False, reasons=[reason])

    return Tiers(
        platform=_READY,
        core=tier(core, "db not ready: 0/1 replicas"),
        bootstrap=tier(core and login, "waiting for core"),
        login=tier(login, "app URL not answering yet"),
        background=tier(background, "temporal: 0/1 replicas"),
        full_health=tier(core and login and background, "background not ready"),
    )


def _events() -> list[EventSummary]:
    return [
        EventSummary(
            timestamp=NOW - timedelta(minutes=3),
            type="Normal",
            reason="Pulling",
            object="Pod/msp/alga-core-abc",
            message='Pulling image "ghcr.io/nine-minds/alga-psa-ee:94446747"',
        ),
        EventSummary(
            timestamp=NOW - timedelta(minutes=1),
            type="Warning",
            reason="BackOff",
            object="Pod/msp/db-0",
            message="Back-off restarting failed container",
            count=4,
        ),
    ]


def installing(*, site_id: str = "site-a") -> ApplianceStatus:
    """Core still coming up, a 1.8 GB image pulling."""
    return ApplianceStatus(
        site_id=site_id,
        timestamp=NOW,
        urls=Urls(status_url="http://192.0.2.10:8080", login_url=LOGIN_URL),
        rollup=Rollup(
            state=RollupState.INSTALLING,
            message="Core services are starting; the app image is still downloading.",
            next_action="Wait: the image pull usually takes 5-15 minutes.",
        ),
        tiers=_tiers(core=False, login=False, background=False),
        components=[
            Component(
                name="db",
                tier="core",
                ready=False,
                kind="StatefulSet",
                replicas=1,
                ready_replicas=0,
                namespace="msp",
            ),
            Component(
                name="redis",
                tier="core",
                ready=True,
                kind="Deployment",
                replicas=1,
                ready_replicas=1,
                namespace="msp",
            ),
        ],
        recent_events=_events(),
        active_operations=[
            ActiveOperation(
                component="alga-core",
                image="ghcr.io/nine-minds/alga-psa-ee:94446747",
                elapsed_seconds=192,
                estimated_size="~1.8 GB",
                estimated_size_bytes=1_800_000_000,
                expected_seconds=962.0,
                note="Kubernetes does not report byte-level pull progress.",
            )
        ],
        flux=FluxSummary(
            source=FluxObject(
                kind="GitRepository",
                name="alga",
                namespace="flux-system",
                ready=True,
                revision="main@sha1:abc123",
            ),
            kustomizations=[
                FluxObject(
                    kind="Kustomization",
                    name="alga-core",
                    ready=False,
                    reason="DependencyNotReady",
                    message="waiting",
                )
            ],
        ),
        cluster=ClusterInfo(reachable=True, server_time=NOW),
    )


def failed(*, site_id: str = "site-a") -> ApplianceStatus:
    """A missing image tag blocks login."""
    return installing(site_id=site_id).model_copy(
        update={
            "rollup": Rollup(
                state=RollupState.FAILED_ACTION_REQUIRED,
                message="An image tag of this release does not exist.",
                next_action="Pick a release whose images exist, then rerun bootstrap.",
            ),
            "top_blockers": [
                Blocker(
                    layer="Image tag availability",
                    component="alga-core",
                    reason='image "ghcr.io/nine-minds/alga-psa-ee:0000000" not found',
                    next_action="Pick a release whose images exist, then rerun bootstrap.",
                    login_blocking=True,
                    since=NOW - timedelta(minutes=2),
                    evidence=[
                        Evidence(
                            object="Pod/msp/alga-core-abc", message="ImagePullBackOff: not found"
                        )
                    ],
                )
            ],
            "active_operations": [],
        }
    )


def ready(*, site_id: str = "site-a") -> ApplianceStatus:
    """Login works; background services still starting."""
    return installing(site_id=site_id).model_copy(
        update={
            "rollup": Rollup(
                state=RollupState.READY,
                message="You can log in. Background services are still starting.",
            ),
            "tiers": _tiers(core=True, login=True, background=False),
            "active_operations": [],
            "login_probe": LoginProbe(
                url=LOGIN_URL,
                attempted=True,
                ok=True,
                status_code=307,
                location="/msp/dashboard",
                checked_at=NOW,
            ),
        }
    )


def install_story(*, site_id: str = "site-a") -> list[ApplianceStatus]:
    """An install as the status service sees it, minute by minute: the platform is up, core
    services start, the core image pulls for 16 minutes, migrations run, login works, and a
    background image tag turns out to be missing."""
    started = NOW - timedelta(minutes=38)
    first = NOW - timedelta(minutes=35)
    pull = installing(site_id=site_id).active_operations[0]

    def at(minutes: float, status: ApplianceStatus, **update: object) -> ApplianceStatus:
        when = first + timedelta(minutes=minutes)
        return status.model_copy(update={"timestamp": when, "install_started": started, **update})

    def tiers(**ready: bool) -> Tiers:
        base = _tiers(core=False, login=False, background=False)
        return base.model_copy(update={name: _READY for name, on in ready.items() if on})

    pulling = installing(site_id=site_id)
    issue = Blocker(
        layer="Image tag availability",
        component="workflow-worker",
        reason='Image "ghcr.io/nine-minds/workflow-worker:61e4a00e" is not in the registry.',
        next_action="Publish the tag, or install a release whose images all exist.",
        login_blocking=False,
    )
    done = ready(site_id=site_id)
    return [
        at(0, pulling, tiers=tiers(), active_operations=[]),
        at(
            4,
            pulling,
            tiers=tiers(core=True),
            active_operations=[pull.model_copy(update={"elapsed_seconds": 60})],
        ),
        at(
            12,
            pulling,
            tiers=tiers(core=True),
            active_operations=[pull.model_copy(update={"elapsed_seconds": 540})],
        ),
        at(19, pulling, tiers=tiers(core=True, bootstrap=True), active_operations=[]),
        at(21, done, tiers=tiers(core=True, bootstrap=True, login=True)),
        at(
            35,
            done,
            tiers=tiers(core=True, bootstrap=True, login=True),
            rollup=Rollup(
                state=RollupState.READY_WITH_BACKGROUND_ISSUES,
                message="You can log in. Background services have issues: "
                "Image tag availability (workflow-worker).",
                next_action=issue.next_action,
            ),
            top_blockers=[issue],
        ),
    ]
