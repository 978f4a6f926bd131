"""The background collector, stepped by hand with a fake cache and a fake engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from appliance.canonical import ApplianceStatus, LoginProbe
from appliance.snapshot import Snapshot
from status_web.collecting import Collector
from tests.unit.status_web.conftest import FakeClock
from tests.unit.status_web.samples import NOW, failed, installing, ready


@dataclass
class FakeSource:
    """A watch cache double: a snapshot set by the test."""

    snap: Snapshot = field(default_factory=lambda: Snapshot(server_time=NOW))
    synced: bool = True
    generation: int = 0

    def snapshot(self) -> Snapshot:
        return self.snap

    def wait_for_change(self, after: int, *, timeout: float) -> int:
        return self.generation

    def settle(self, after: int) -> int:
        return self.generation

    def with_previous_logs(self, snapshot: Snapshot) -> Snapshot:
        return snapshot


@dataclass
class FakeEngine:
    """Returns the status it is told to; records its keyword arguments."""

    status: ApplianceStatus = field(default_factory=installing)
    calls: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, snapshot: Snapshot, **kwargs: Any) -> ApplianceStatus:
        self.calls.append({"snapshot": snapshot, **kwargs})
        return self.status


def _collector(source: FakeSource, engine: FakeEngine, clock: FakeClock, **kw: Any) -> Collector:
    return Collector(
        source, site_id="site-a", app_url="http://app", evaluate_fn=engine, monotonic=clock, **kw
    )


def test_no_status_before_first_sync(clock: FakeClock) -> None:
    """Until every kind was listed (within the grace time) there is no status yet."""
    collector = _collector(FakeSource(synced=False), FakeEngine(), clock)
    assert collector.collect_once() is None
    assert collector.latest() is None


def test_unsynced_cache_is_evaluated_after_grace(clock: FakeClock) -> None:
    """An API that never answers still yields a status (saying so) after the grace time."""
    source = FakeSource(synced=False, snap=Snapshot(server_time=NOW, api_error="refused"))
    collector = _collector(source, FakeEngine(), clock, first_read_grace=10)
    clock.advance(11)
    observation = collector.collect_once()
    assert observation is not None
    assert observation.api_error == "refused"


def test_in_cluster_service_never_measures_users(clock: FakeClock) -> None:
    """The engine is told the users count is not measurable (no exec right)."""
    engine = FakeEngine()
    _collector(FakeSource(), engine, clock).collect_once()
    assert engine.calls[0]["users_count"] is None
    assert engine.calls[0]["users_count_measurable"] is False
    assert engine.calls[0]["login_url"] == "http://app"


def test_api_failure_keeps_last_good_status_marked_stale(clock: FakeClock) -> None:
    """After a good reading, an API error serves the last good status, stale, with its age."""
    source, engine = FakeSource(), FakeEngine(status=ready())
    collector = _collector(source, engine, clock)
    collector.collect_once()
    engine.status = failed()
    source.snap = Snapshot(server_time=NOW, api_error="HTTP 503")
    clock.advance(30)
    collector.collect_once()
    latest = collector.latest()
    assert latest is not None
    assert latest.stale
    assert latest.api_error == "HTTP 503"
    assert latest.status.rollup.state == ready().rollup.state
    assert latest.age_seconds == 30


def test_recovery_clears_staleness(clock: FakeClock) -> None:
    """When the API answers again the status is fresh again."""
    source, engine = FakeSource(), FakeEngine()
    collector = _collector(source, engine, clock)
    collector.collect_once()
    source.snap = Snapshot(server_time=NOW, api_error="down")
    collector.collect_once()
    source.snap = Snapshot(server_time=NOW)
    observation = collector.collect_once()
    assert observation is not None
    assert not observation.stale
    assert observation.age_seconds == 0


def test_version_moves_only_on_substance(clock: FakeClock) -> None:
    """A new cluster time alone (the status's and the API's clock) is not a new version; a new
    rollup is."""
    source, engine = FakeSource(), FakeEngine()
    collector = _collector(source, engine, clock)
    first = collector.collect_once()
    later = NOW.replace(minute=59)
    status = installing()
    cluster = status.cluster.model_copy(update={"server_time": later})
    engine.status = status.model_copy(update={"timestamp": later, "cluster": cluster})
    second = collector.collect_once()
    engine.status = ready()
    third = collector.collect_once()
    assert first is not None
    assert second is not None
    assert third is not None
    assert first.version == second.version
    assert third.version == second.version + 1


def test_engine_crash_keeps_previous_status(clock: FakeClock) -> None:
    """If the engine raises, the previous status stays served."""
    engine = FakeEngine()
    collector = _collector(FakeSource(), engine, clock)
    collector.collect_once()

    def boom(snapshot: Snapshot, **kwargs: Any) -> ApplianceStatus:
        raise RuntimeError("bug")

    collector._evaluate = boom
    assert collector.collect_once() is not None
    latest = collector.latest()
    assert latest is not None
    assert latest.status.rollup.state.value == "installing"


def test_probe_result_reaches_the_engine(clock: FakeClock) -> None:
    """The login probe runs on its own and its result is passed to the next evaluation."""
    seen: list[str] = []

    def probe(url: str, *, timeout: float, now: object) -> LoginProbe:
        seen.append(url)
        return LoginProbe(url=url, attempted=True, ok=True, status_code=307)

    engine = FakeEngine()
    collector = _collector(FakeSource(), engine, clock, probe_fn=probe)
    collector.probe_once()
    collector.collect_once()
    assert seen == ["http://app"]
    assert engine.calls[0]["login_probe"].status_code == 307


def test_probe_exception_becomes_failed_probe(clock: FakeClock) -> None:
    """A probe that raises is recorded as a failed probe, not a crash."""

    def probe(url: str, *, timeout: float, now: object) -> LoginProbe:
        raise OSError("no route")

    collector = _collector(FakeSource(), FakeEngine(), clock, probe_fn=probe)
    result = collector.probe_once()
    assert result is not None
    assert result.ok is False
    assert result.error == "no route"
