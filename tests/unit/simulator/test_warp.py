"""The warp's books: when a served world may jump its clock, and where to."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from simulator.clock import VirtualClock
from simulator.warp import Warp
from simulator.world.scheduling import Scheduler

START = datetime(2026, 6, 20, 14, 0, tzinfo=UTC)


@pytest.fixture
def warp() -> Warp:
    return Warp(VirtualClock(START))


def _sleep_in_thread(
    warp: Warp, *args: object, **kwargs: object
) -> tuple[threading.Thread, list[str]]:
    woke: list[str] = []
    thread = threading.Thread(
        target=lambda: woke.append(warp.sleep(*args, **kwargs)),  # type: ignore[arg-type]
        daemon=True,
    )
    thread.start()
    return thread, woke


def _wait_until(predicate: object, seconds: float = 5.0) -> None:
    deadline = threading.Event()
    for _ in range(int(seconds / 0.01)):
        if predicate():  # type: ignore[operator]
            return
        deadline.wait(0.01)
    raise AssertionError("condition not reached")


def test_a_working_participant_keeps_the_clock_still(warp: Warp) -> None:
    """A lease starts holding a token; only once released is the world quiescent."""
    lease = warp.lease("bootstrap", driver=True)
    assert not warp.quiescent()
    assert warp.busy_reasons() == ["bootstrap: 1 thread(s) working"]
    warp.release(lease)
    assert warp.quiescent()
    warp.hold(lease)
    assert not warp.quiescent()


def test_a_sleep_releases_its_token_until_a_jump_reaches_its_deadline(warp: Warp) -> None:
    """sleep(n) is 'wake me at cluster time t+n': the jump to t+n wakes it holding again."""
    lease = warp.lease("bootstrap", driver=True)
    thread, woke = _sleep_in_thread(warp, lease, 30.0)
    _wait_until(warp.quiescent)
    assert warp.next_driver_deadline() == START + timedelta(seconds=30)
    warp.jump_to(START + timedelta(seconds=10))
    assert woke == []  # not yet
    warp.jump_to(START + timedelta(seconds=30))
    thread.join(5)
    assert woke == ["time"]
    assert not warp.quiescent()  # awake again: it works until it sleeps or leaves


def test_followers_and_lazy_sleeps_never_choose_the_next_jump(warp: Warp) -> None:
    """A status service's cadence (follower) and a heartbeat (lazy) wake when time passes them."""
    follower = warp.lease("status service", driver=False)
    driver = warp.lease("bootstrap", driver=True)
    _, follower_woke = _sleep_in_thread(warp, follower, 5.0)
    _, lazy_woke = _sleep_in_thread(warp, driver, 1.0, lazy=True)
    _wait_until(warp.quiescent)
    assert warp.has_driver()
    assert warp.next_driver_deadline() is None
    warp.jump_to(START + timedelta(seconds=60))
    _wait_until(lambda: follower_woke == ["time"] and lazy_woke == ["time"])


def test_watch_lines_written_keep_a_participant_busy_until_acknowledged(warp: Warp) -> None:
    """The fake API counts lines written to a lease's streams; the lease's sleep acks them."""
    lease = warp.lease("status service", driver=False)
    _sleep_in_thread(warp, lease, 60.0, wid="a", acked=0)
    _wait_until(warp.quiescent)
    warp.watch_written(lease.id, 3)
    assert warp.busy_reasons() == ["status service: acted on 0 of 3 watch lines"]
    warp.cancel(lease, "a")  # the collector wakes for the change, evaluates...
    _sleep_in_thread(warp, lease, 60.0, wid="b", acked=3)  # ...and sleeps having seen all 3
    _wait_until(warp.quiescent)


def test_a_stream_the_server_ended_is_owed_until_watched_again(warp: Warp) -> None:
    """Between a server-side end of a watch and the next watch request the lease is busy."""
    lease = warp.lease("status service", driver=False, held=0)
    warp.watch_ended(lease.id, "/api/v1/pods")
    assert not warp.quiescent()
    warp.watch_requested(lease.id, "/api/v1/pods")
    assert warp.quiescent()


def test_a_cancel_that_arrives_first_ends_the_sleep_on_arrival(warp: Warp) -> None:
    """Another thread may wake a sleep before its request reached us: it ends at once."""
    lease = warp.lease("p", driver=True)
    warp.cancel(lease, "w1")
    assert warp.sleep(lease, 60.0, wid="w1") == "cancel"
    assert lease.held == 1


def test_closing_a_lease_wakes_its_sleepers_and_forgets_it(warp: Warp) -> None:
    """A process that exits holds the clock no more, whatever it was doing."""
    lease = warp.lease("p", driver=True)
    thread, woke = _sleep_in_thread(warp, lease, 60.0)
    _wait_until(lambda: lease.sleepers)
    warp.close(lease)
    thread.join(5)
    assert woke == ["closed"]
    assert warp.quiescent()
    assert not warp.has_driver()


def test_the_scheduler_jumps_from_event_to_deadline_only_while_everyone_waits() -> None:
    """The warped loop runs a callback at t+5 and wakes a driver at t+10, in that order."""
    clock = VirtualClock(START)
    warp = Warp(clock)
    scheduler = Scheduler(clock)
    seen: list[tuple[str, float]] = []
    scheduler.call_at(START + timedelta(seconds=5), lambda: seen.append(("event", clock.elapsed())))
    driver = warp.lease("bootstrap", driver=True)
    scheduler.start_warped(warp)
    try:
        assert warp.sleep(driver, 10.0, wall_timeout=10) == "time"
        seen.append(("driver", clock.elapsed()))
        assert seen == [("event", 5.0), ("driver", 10.0)]
        # While the driver works (holds its token) the clock stands still.
        scheduler.call_at(START + timedelta(seconds=20), lambda: seen.append(("late", 0.0)))
        threading.Event().wait(0.2)
        assert clock.elapsed() == 10.0
    finally:
        warp.close(driver)
        scheduler.stop()


def test_without_a_driver_the_clock_stands_still() -> None:
    """Nobody wants time to pass (a world between two commands): no jump, however idle."""
    clock = VirtualClock(START)
    warp = Warp(clock)
    scheduler = Scheduler(clock)
    scheduler.call_at(START + timedelta(seconds=5), lambda: None)
    scheduler.start_warped(warp)
    try:
        threading.Event().wait(0.2)
        assert clock.elapsed() == 0.0
    finally:
        scheduler.stop()


def test_observers_see_each_quiescent_instant_before_the_jump() -> None:
    """What an observer reads is the world at that instant, on every run."""
    clock = VirtualClock(START)
    warp = Warp(clock)
    scheduler = Scheduler(clock)
    for at in (5, 7):
        scheduler.call_at(START + timedelta(seconds=at), lambda: None)
    instants: list[float] = []
    warp.add_observer(lambda: instants.append(clock.elapsed()))
    driver = warp.lease("bootstrap", driver=True)
    scheduler.start_warped(warp)
    try:
        warp.sleep(driver, 10.0, wall_timeout=10)
    finally:
        warp.close(driver)
        scheduler.stop()
    assert instants[:3] == [0.0, 5.0, 7.0]


def test_no_jump_goes_past_the_horizon() -> None:
    """A run's time limit: the clock stops there even if a driver sleeps longer."""
    clock = VirtualClock(START)
    warp = Warp(clock)
    warp.horizon = START + timedelta(seconds=30)
    scheduler = Scheduler(clock)
    driver = warp.lease("bootstrap", driver=True)
    scheduler.start_warped(warp)
    try:
        assert warp.sleep(driver, 60.0, wall_timeout=0.5) == "timeout"
        assert clock.elapsed() == 30.0
    finally:
        warp.close(driver)
        scheduler.stop()


def test_a_sleep_due_now_is_woken_before_any_jump(warp: Warp) -> None:
    """A zero-time sleep (a settle point) that arrives after the scheduler looked for due
    sleepers still wakes at this instant: the jump is refused until it has woken."""
    driver = warp.lease("bootstrap", driver=True)
    status = warp.lease("status service", driver=False)
    later, _ = _sleep_in_thread(warp, driver, 60.0)
    settle, woke = _sleep_in_thread(warp, status, 0.0)
    _wait_until(warp.quiescent)
    target = START + timedelta(seconds=60)
    assert not warp.jump_if_quiescent(target)
    assert warp.clock.now() == START
    assert warp.wake_due()
    settle.join(5)
    assert woke == ["time"]
    warp.release(status)
    assert warp.jump_if_quiescent(target)
    warp.wake_due()
    later.join(5)
