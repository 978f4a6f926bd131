"""The watch cache's bookkeeping, driven synchronously through a fake API client."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from appliance.clocking import SystemClock, Waiter
from appliance.cluster import streams
from appliance.cluster.watching import RESOURCES, WatchCache, WatchedResource

PODS = next(r for r in RESOURCES if r.field == "pods")
HELM = next(r for r in RESOURCES if r.field == "helm_releases")


@dataclass
class FakeRaw:
    chunks: list[bytes]

    def stream(self, amt: int, decode_content: bool) -> Any:
        yield from self.chunks


@dataclass(eq=False)
class FakeResponse:
    status: int
    body: bytes = b""
    chunks: list[bytes] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.response = FakeRaw(self.chunks)

    def read(self) -> bytes:
        return self.body

    def close(self) -> None:
        return None


@dataclass
class FakeApiClient:
    """Answers each path with the next queued response."""

    answers: dict[str, list[FakeResponse]]

    def param_serialize(self, *, method: str, resource_path: str, auth_settings: Any) -> Any:
        return method, resource_path, {}, None, None

    def call_api(self, method: str, url: str, **kwargs: Any) -> FakeResponse:
        path = url.split("?", maxsplit=1)[0]
        return self.answers[path].pop(0)


@dataclass
class FakeCluster:
    api_client: FakeApiClient
    host: str = "https://fake:6443"
    last_server_time: datetime | None = datetime(2026, 4, 30, 9, 0, tzinfo=UTC)


def _pod(name: str, uid: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "msp", "uid": uid, "resourceVersion": "5"}}


def _list(*items: dict[str, Any]) -> FakeResponse:
    body = {"kind": "PodList", "metadata": {"resourceVersion": "7"}, "items": list(items)}
    return FakeResponse(200, json.dumps(body).encode())


def _cache(answers: dict[str, list[FakeResponse]], *resources: WatchedResource) -> WatchCache:
    return WatchCache(FakeCluster(FakeApiClient(answers)), resources=resources or (PODS,))  # type: ignore[arg-type]


def test_list_fills_the_snapshot_with_kinds() -> None:
    """Listed items appear in the snapshot, with the kind the list omitted."""
    cache = _cache({PODS.path: [_list(_pod("db-0", "u1"))]})
    assert cache._list(PODS) == "7"
    snapshot = cache.snapshot()
    assert [p["metadata"]["name"] for p in snapshot.pods] == ["db-0"]
    assert snapshot.pods[0]["kind"] == "Pod"
    assert snapshot.api_error is None
    assert cache.synced


def test_watch_events_add_modify_delete() -> None:
    """ADDED, MODIFIED and DELETED events keep the mirror current; each bumps the generation."""
    cache = _cache({})
    before = cache.generation
    cache._apply(PODS, {"type": "ADDED", "object": _pod("a", "u1")})
    cache._apply(PODS, {"type": "ADDED", "object": _pod("b", "u2")})
    cache._apply(PODS, {"type": "DELETED", "object": _pod("a", "u1")})
    assert [p["metadata"]["name"] for p in cache.snapshot().pods] == ["b"]
    assert cache.generation == before + 3


def test_gone_event_asks_for_a_relist() -> None:
    """An ERROR event with code 410 (history compacted) leads to a relist."""
    cache = _cache({})
    with pytest.raises(streams._Relist):
        cache._apply(PODS, {"type": "ERROR", "object": {"code": 410, "message": "too old"}})


def test_watch_stream_split_across_chunks_is_parsed() -> None:
    """Events split across network chunks are reassembled, and the stream's end relists."""
    event = json.dumps({"type": "ADDED", "object": _pod("db-0", "u1")}).encode() + b"\n"
    stream = FakeResponse(200, chunks=[event[:10], event[10:]])
    cache = _cache({PODS.path: [stream]})
    with pytest.raises(streams._Relist):
        cache._watch(PODS, "7")
    assert [p["metadata"]["name"] for p in cache.snapshot().pods] == ["db-0"]


def test_forbidden_names_the_fix() -> None:
    """A 403 says which kind failed and that the read-only ClusterRole is missing."""
    body = json.dumps({"message": 'pods is forbidden: User "x" cannot list'}).encode()
    cache = _cache({PODS.path: [FakeResponse(403, body)]})
    with pytest.raises(streams._ApiFailure, match="appliance-status-readonly"):
        cache._list(PODS)


def test_missing_crd_is_not_an_error() -> None:
    """A 404 for a Flux kind means its CRD is not installed yet: listed as missing, no error."""
    cache = _cache({HELM.path: [FakeResponse(404, b"{}")]}, HELM)
    with pytest.raises(streams._Missing):
        cache._list(HELM)
    cache._mark_missing(HELM)
    snapshot = cache.snapshot()
    assert snapshot.missing_kinds == ("HelmRelease",)
    assert snapshot.api_error is None


def test_errors_survive_in_the_snapshot_with_old_objects() -> None:
    """After a failure the last objects stay and api_error says what failed."""
    cache = _cache({PODS.path: [_list(_pod("db-0", "u1"))]})
    cache._list(PODS)
    cache._set_error("pods", "HTTP 503")
    snapshot = cache.snapshot()
    assert snapshot.api_error == "HTTP 503"
    assert len(snapshot.pods) == 1


def test_unsynced_cache_says_it_is_still_reading() -> None:
    """Before the first list the snapshot says which kinds are not read yet."""
    snapshot = _cache({}).snapshot()
    assert snapshot.api_error is not None
    assert "Pod not listed yet" in snapshot.api_error


@dataclass(eq=False)
class RecordingWaiter:
    """A wait in progress that only records whether something ended it."""

    interrupted: int = 0

    def wait(self, seconds: float, *, acked: int | None = None, lazy: bool = False) -> bool:
        return True

    def interrupt(self) -> None:
        self.interrupted += 1


def _heartbeat_once(cache: WatchCache, waiter: RecordingWaiter) -> None:
    """One heartbeat round while `waiter` waits (its pause ends the loop)."""
    cache._waits._waiters.add(waiter)
    cache._waits.heartbeat = lambda seconds: cache._stopping.set()  # type: ignore[method-assign]
    cache._stopping.clear()
    cache._heartbeat_rounds()


def test_a_heartbeat_ends_waits_only_when_the_apis_health_changed() -> None:
    """A heartbeat that finds the API as before is no change: a caller waiting for one (the
    bootstrapper until its next deadline) keeps waiting; the API going away, or coming back,
    ends the wait. (Ending it every second read the whole status every second, and every jump
    of a warped world.)"""
    version = FakeResponse(200, b'{"major": "1", "minor": "31"}')
    down = FakeResponse(503, b"")
    cache = _cache({"/version": [version, version, down, down, version]})
    waiter = RecordingWaiter()
    _heartbeat_once(cache, waiter)
    _heartbeat_once(cache, waiter)
    assert waiter.interrupted == 0
    before = cache.mark()
    _heartbeat_once(cache, waiter)
    assert waiter.interrupted == 1
    assert cache.mark().generation > before.generation
    assert cache.snapshot().api_error is not None
    _heartbeat_once(cache, waiter)
    assert waiter.interrupted == 1  # still down: nothing new
    _heartbeat_once(cache, waiter)
    assert waiter.interrupted == 2


class CountingClock(SystemClock):
    """The machine's clock, whose waits only count that they began (and run their time)."""

    def __init__(self) -> None:
        super().__init__()
        self.waits = 0

    def waiter(self) -> Waiter:
        clock = self

        class Counting(RecordingWaiter):
            def wait(self, seconds: float, *, acked: int | None = None, lazy: bool = False) -> bool:
                clock.waits += 1
                return True

        return Counting()


def test_a_wake_while_no_one_waits_ends_the_next_wait_at_once() -> None:
    """The collector is evaluating when a login probe's answer comes and wakes it: that wake
    must end its next wait, not be lost until the next change (a status 18 virtual seconds late
    on a loaded machine, in the warped demo)."""
    clock = CountingClock()
    cache = WatchCache(FakeCluster(FakeApiClient({})), resources=(PODS,), clock=clock)  # type: ignore[arg-type]
    mark = cache.mark()
    cache.wake()  # nobody waits now
    cache.wait_for_change(mark, timeout=30.0)
    assert clock.waits == 0  # ended before it began
    cache.wait_for_change(mark, timeout=30.0)
    assert clock.waits == 1  # the wake was taken: this one waits


@dataclass
class EndlessApiClient:
    """Answers every request, forever: 404 for the Flux kinds (Flux not installed yet), the
    API's version for `/version`; counts what it was asked."""

    asked: list[str] = field(default_factory=list)
    configuration: Any = field(default_factory=lambda: SimpleNamespace(connection_pool_maxsize=99))

    def param_serialize(self, *, method: str, resource_path: str, auth_settings: Any) -> Any:
        return method, resource_path, {}, None, None

    def call_api(self, method: str, url: str, **kwargs: Any) -> FakeResponse:
        path = url.split("?", maxsplit=1)[0]
        self.asked.append(path)
        if path == "/version":
            return FakeResponse(200, b'{"major": "1", "minor": "31"}')
        return FakeResponse(404, b"{}")


def test_kinds_missing_together_do_not_retry_each_other() -> None:
    """Before Flux is installed its three kinds are missing. Each thread that finds its kind
    missing says the cache moved; that must end callers' waits (and the heartbeat's), not the
    other threads' retry pauses, or the three (and the heartbeat) asked again and again: about
    1,400 requests a second against the fake API, from every status service and bootstrapper."""
    flux = tuple(r for r in RESOURCES if r.optional)
    api = EndlessApiClient()
    cache = WatchCache(
        FakeCluster(api),  # type: ignore[arg-type]
        resources=flux,
        heartbeat_seconds=60.0,
        missing_retry_seconds=60.0,
    )
    cache.start()
    try:
        deadline = time.monotonic() + 10.0
        while not cache.synced and time.monotonic() < deadline:
            time.sleep(0.01)
        assert cache.synced
        time.sleep(0.2)  # time enough for hundreds of requests, were they retrying each other
    finally:
        cache.stop()
    # Each kind once; the heartbeat once, and once more at most for each change (a kind found
    # missing), which ends its pause so the cluster's time is read again.
    assert sorted(p for p in api.asked if p != "/version") == sorted(r.path for r in flux)
    assert 1 <= api.asked.count("/version") <= 1 + len(flux), api.asked[:12]
    assert cache.snapshot().missing_kinds == tuple(r.kind for r in flux)
