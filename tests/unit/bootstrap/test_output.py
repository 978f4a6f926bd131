"""T024: phase markers, progress lines, the status UI block and the failure summary."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from appliance.bootstrap.display import Display
from appliance.bootstrap.flags import BootstrapOptions
from appliance.bootstrap.running import Collaborators, run_bootstrap
from appliance.bootstrap.watching import PULL_REPORT_SECONDS, REREAD_SECONDS, watch_install
from appliance.canonical import (
    ActiveOperation,
    ApplianceStatus,
    Blocker,
    ClusterInfo,
    Component,
    Rollup,
    RollupState,
    Tier,
    Tiers,
)
from appliance.errors import BootstrapError
from appliance.words import human_elapsed

T0 = datetime(2026, 4, 30, 12, 0, tzinfo=UTC)


def status(
    seconds: float,
    *,
    ready: set[str],
    state: RollupState = RollupState.INSTALLING,
    db: bool = False,
    blockers: list[Blocker] | None = None,
) -> ApplianceStatus:
    def tier(name: str) -> Tier:
        return Tier(ready=name in ready, reasons=[] if name in ready else ["not yet"])

    return ApplianceStatus(
        site_id="s",
        timestamp=T0 + timedelta(seconds=seconds),
        rollup=Rollup(state=state, message=state.value),
        tiers=Tiers(
            platform=tier("platform"),
            core=tier("core"),
            bootstrap=tier("bootstrap"),
            login=tier("login"),
            background=tier("background"),
            full_health=tier("fullHealth"),
        ),
        components=[Component(name="db", tier="core", ready=db)],
        top_blockers=blockers or [],
        cluster=ClusterInfo(reachable=True),
    )


def feed(statuses: list[ApplianceStatus]) -> Callable[[], ApplianceStatus]:
    it: Iterator[ApplianceStatus] = iter(statuses)
    return lambda: next(it)


def test_dry_run_prints_phase_markers_and_status_ui_block(
    tmp_path: Path, options_for: Callable[..., BootstrapOptions]
) -> None:
    """T024: all six markers in order, then the status URL and token block."""
    out = io.StringIO()
    options = options_for("--dry-run", "--repo-url", "/nowhere", "--branch-override", "main")
    code = run_bootstrap(
        options, display=Display(out), collaborators=Collaborators(workdir=tmp_path)
    )
    text = out.getvalue()
    assert code == 0, text
    phases = [
        "Host/Talos",
        "Platform",
        "Core services",
        "Bootstrap",
        "Login",
        "Background services",
    ]
    markers = [f"==> [{i}/6] {name}" for i, name in enumerate(phases, start=1)]
    positions = [text.index(m) for m in markers]
    assert positions == sorted(positions)
    # Each marker says what its tier is made of, in the page's words.
    assert "==> [3/6] Core services: Postgres, Redis and PgBouncer\n" in text
    assert "Appliance status UI: http://192.0.2.10:8080" in text
    assert "  Token " in text
    assert "Flux source summary:" in text


def test_watch_announces_phases_and_login_ready() -> None:
    """One phase per tier, announced as the status advances; a tier's phase closes when it is."""
    out = io.StringIO()
    outcome = watch_install(
        feed(
            [
                status(0, ready={"platform"}),
                status(60, ready={"platform"}, db=True),
                status(120, ready={"platform", "core"}, db=True),
                status(
                    180,
                    ready={"platform", "core", "bootstrap", "login"},
                    db=True,
                    state=RollupState.READY,
                ),
                status(
                    240,
                    ready={"platform", "core", "bootstrap", "login"},
                    db=True,
                    state=RollupState.READY_WITH_BACKGROUND_ISSUES,
                    blockers=[
                        Blocker(
                            layer="Image tag availability",
                            component=name,
                            reason="not in the registry",
                            next_action="publish it",
                            login_blocking=False,
                        )
                        for name in ("temporal-worker", "workflow-worker")
                    ],
                ),
            ]
        ),
        display=Display(out),
        timeout=3600,
        interval=1,
        sleep=lambda _: None,
    )
    text = out.getvalue()
    assert outcome.login_ready
    assert outcome.background_done
    # Each phase says how long it took itself; one ready when it opened says so.
    assert [
        line.strip()
        for line in text.splitlines()
        if "ready" in line.lower() and "rollup" not in line
    ] == [
        "Platform already ready",
        "Core services ready after 2m00s",
        "Bootstrap ready after 1m00s",
        "Login already ready",
        "LOGIN READY: None",
        "Background services not ready: 2 background issues, none blocks login (see the summary)",
    ]
    markers = [
        "[3/6] Core services",
        "[4/6] Bootstrap",
        "[5/6] Login",
        "LOGIN READY",
        "[6/6] Background services",
        "background issue [Image tag availability] temporal-worker",
        "Background services not ready",
    ]
    positions = [text.index(marker) for marker in markers]
    assert positions == sorted(positions), text
    # Background has issues: its phase is never called ready.
    assert "Background services ready" not in text


def _pulling(seconds: float, *pulls: tuple[str, float]) -> ApplianceStatus:
    """Core still pulling: (component, seconds since its pull started) per pull."""
    return status(seconds, ready={"platform"}).model_copy(
        update={
            "active_operations": [
                ActiveOperation(
                    component=name, image=f"{name}:1", elapsed_seconds=elapsed, note="pulling"
                )
                for name, elapsed in pulls
            ]
        }
    )


def test_pulls_started_apart_are_reported_together_once_a_period() -> None:
    """Each pull is announced, then re-announced with its elapsed time every PULL_REPORT_SECONDS;
    a pull that started 5 s after another is reported with it (one reading, not two)."""
    out = io.StringIO()
    waits: list[float] = []
    period = PULL_REPORT_SECONDS
    readings = [
        _pulling(0, ("alga-core", 0)),
        _pulling(5, ("alga-core", 5), ("bootstrap", 0)),
        _pulling(period, ("alga-core", period), ("bootstrap", period - 5)),
        _pulling(2 * period, ("alga-core", 2 * period), ("bootstrap", 2 * period - 5)),
    ]
    with pytest.raises(StopIteration):
        watch_install(
            feed(readings),
            display=Display(out),
            timeout=3600,
            interval=1,
            wait=waits.append,
        )
    text = out.getvalue()
    for name, elapsed in (
        ("alga-core", 0),
        ("bootstrap", 0),
        ("alga-core", period),
        ("bootstrap", period - 5),
        ("alga-core", 2 * period),
        ("bootstrap", 2 * period - 5),
    ):
        line = f"{name}: pulling {name}:1 ({human_elapsed(elapsed)} so far)"
        assert text.count(line) == 1, (line, text)
    # The readings come when the cluster changes or a minute passed (REREAD_SECONDS), and never
    # 5 s after a pull report just to report the other pull.
    assert all(wait >= min(REREAD_SECONDS, period - 5) for wait in waits), waits


def test_a_phase_is_ready_only_when_its_tier_is() -> None:
    """Issue 14: core ready while alga-core still pulls prints no 'ready' for the app's phases."""
    out = io.StringIO()
    with pytest.raises(BootstrapError):
        watch_install(
            feed(
                [
                    status(0, ready={"platform"}),
                    status(60, ready={"platform", "core"}, db=True),
                    status(120, ready={"platform", "core"}, db=True),
                ]
            ),
            display=Display(out),
            timeout=120,
            interval=1,
            sleep=lambda _: None,
        )
    text = out.getvalue()
    ready_lines = [line.strip() for line in text.splitlines() if " ready" in line]
    assert ready_lines == ["Platform already ready", "Core services ready after 1m00s"]
    assert "[4/6] Bootstrap" in text
    assert "[5/6] Login" not in text


def test_a_long_pull_is_a_few_lines_not_one_per_reading() -> None:
    """Read every minute through a 16-minute pull (a watching run reads at least that often):
    the rollup's sentence, whose elapsed time ticks, is printed once; the pull every 5 minutes."""
    image = "ghcr.io/nine-minds/alga-psa-ee:94446747"

    def pulling(minute: int) -> ApplianceStatus:
        elapsed = human_elapsed(minute * 60)
        return status(minute * 60, ready={"platform", "core"}, db=True).model_copy(
            update={
                "rollup": Rollup(
                    state=RollupState.INSTALLING,
                    message=f"Installing: pulling {image} for alga-core ({elapsed} so far).",
                ),
                "active_operations": [
                    ActiveOperation(
                        component="alga-core",
                        image=image,
                        elapsed_seconds=minute * 60,
                        note="no byte progress",
                    )
                ],
            }
        )

    out = io.StringIO()
    with pytest.raises(BootstrapError):
        watch_install(
            feed([pulling(minute) for minute in range(17)]),
            display=Display(out),
            timeout=16 * 60,
            interval=60,
            sleep=lambda _: None,
        )
    lines = [line.strip() for line in out.getvalue().splitlines()]
    assert sum(line.startswith("rollup: installing") for line in lines) == 1
    pulls = [line for line in lines if line.startswith("alga-core: pulling")]
    assert [line.split("(")[1] for line in pulls] == [
        "0s so far)",
        "5m00s so far)",
        "10m00s so far)",
        "15m00s so far)",
    ]


def test_login_ready_moves_past_a_platform_gap() -> None:
    """Login answers while the platform is not fully ready (finding-20): the gap is named once,
    and the watch goes on to the background phase without calling the platform ready."""
    out = io.StringIO()
    outcome = watch_install(
        feed(
            [
                status(0, ready={"core"}),
                status(
                    60,
                    ready={"core", "bootstrap", "login", "background"},
                    state=RollupState.READY,
                ),
            ]
        ),
        display=Display(out),
        timeout=3600,
        interval=1,
        sleep=lambda _: None,
    )
    text = out.getvalue()
    assert outcome.background_done
    assert "Platform not fully ready (not yet); login works" in text
    assert "Platform ready" not in text
    # Every later tier turned ready in the reading that closed the platform's phase.
    assert "Core services already ready" in text
    assert "Background services already ready" in text


def test_watch_fails_with_the_blockers_layer_and_action() -> None:
    """A login-blocking failure held for the grace period ends the run with its layer."""
    blocker = Blocker(
        layer="Core Postgres storage initialization",
        component="db",
        reason="subPath",
        next_action="fix the PVC",
        login_blocking=True,
    )
    failed = RollupState.FAILED_ACTION_REQUIRED
    with pytest.raises(BootstrapError) as caught:
        watch_install(
            feed([status(t, ready=set(), state=failed, blockers=[blocker]) for t in (0, 30, 60)]),
            display=Display(io.StringIO()),
            timeout=3600,
            interval=1,
            sleep=lambda _: None,
        )
    assert caught.value.layer == "Core Postgres storage initialization"
    assert caught.value.next_action == "fix the PVC"


def test_one_odd_failed_snapshot_does_not_end_the_install() -> None:
    """A failure that clears before the grace period is survived."""
    blocker = Blocker(layer="x", component="db", reason="r", next_action="a", login_blocking=True)
    failed = RollupState.FAILED_ACTION_REQUIRED
    everything = {"platform", "core", "bootstrap", "login", "background"}
    outcome = watch_install(
        feed(
            [
                status(0, ready=set(), state=failed, blockers=[blocker]),
                status(30, ready=everything, db=True, state=RollupState.FULLY_HEALTHY),
            ]
        ),
        display=Display(io.StringIO()),
        timeout=3600,
        interval=1,
        sleep=lambda _: None,
    )
    assert outcome.login_ready


def test_watch_times_out_on_the_cluster_clock() -> None:
    """The timeout counts status timestamps (cluster time), not polls."""
    with pytest.raises(BootstrapError, match="after 1m40s"):
        watch_install(
            feed([status(0, ready=set()), status(50, ready=set()), status(100, ready=set())]),
            display=Display(io.StringIO()),
            timeout=100,
            interval=1,
            sleep=lambda _: None,
        )


def test_failure_summary_lines() -> None:
    """A failure prints `Failure layer:` and `Next action:` lines."""
    out = io.StringIO()
    Display(out).failure("boom", layer="host", next_action="do x")
    assert out.getvalue().splitlines() == [
        "ERROR: boom",
        "Failure layer: host",
        "Next action: do x",
    ]


def test_rich_display_prints_the_same_markers() -> None:
    """The terminal display writes the same phase markers and failure lines as plain output."""
    from appliance.bootstrap.display import RichDisplay

    out = io.StringIO()
    display = RichDisplay(out)
    display.phase("Platform")
    display.progress("namespaces")
    display.failure("boom", layer="platform", next_action="retry")
    display.close()
    text = out.getvalue()
    assert "==> [2/6] Platform: Kubernetes, the node, Flux and the status service" in text
    assert "Failure layer: platform" in text
