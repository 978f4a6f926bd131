"""`appliance status --watch`: what counts as a change, and the loop that shows changes."""

from __future__ import annotations

import pytest

from appliance.canonical import ApplianceStatus
from appliance.status_watch import fingerprint, watch_loop
from tests.unit.status_web.samples import installing, ready


def _ticked(status: ApplianceStatus, seconds: float) -> ApplianceStatus:
    """The same status a few seconds later: clocks and elapsed times moved, nothing else."""
    ops = [op.model_copy(update={"elapsed_seconds": seconds}) for op in status.active_operations]
    return status.model_copy(update={"active_operations": ops})


def test_ticking_clocks_are_no_change() -> None:
    """A pull's elapsed time moving is not a change; a new rollup state is."""
    status = installing()
    assert status.active_operations  # the sample pulls an image
    assert fingerprint(_ticked(status, 999.0)) == fingerprint(status)
    assert fingerprint(ready()) != fingerprint(status)


def _run(reads: list[ApplianceStatus | str], *, in_place: bool) -> tuple[list[str], list[str]]:
    shown: list[str] = []
    notes: list[str] = []
    pending = list(reads)

    def read() -> ApplianceStatus | str:
        return pending.pop(0)

    def sleep(_: float) -> None:
        if not pending:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        watch_loop(
            read,
            show=lambda status: shown.append(status.rollup.state.value),
            note=notes.append,
            redraw_every_read=in_place,
            interval=5.0,
            sleep=sleep,
        )
    return shown, notes


def test_piped_watch_prints_changes_only() -> None:
    """Piped: one summary per change; an unreachable API is said once, until it changes."""
    first = installing()
    reads: list[ApplianceStatus | str] = [
        first,
        _ticked(first, 300.0),
        "cannot reach the Kubernetes API at https://10.0.0.1:6443: connection refused",
        "cannot reach the Kubernetes API at https://10.0.0.1:6443: connection refused",
        ready(),
        ready(),
    ]
    shown, notes = _run(reads, in_place=False)
    assert shown == ["installing", "ready"]
    assert notes == [reads[2]]


def test_terminal_watch_redraws_every_read() -> None:
    """On a terminal the summary is redrawn at every read, so elapsed times tick."""
    first = installing()
    shown, _ = _run([first, _ticked(first, 300.0), ready()], in_place=True)
    assert shown == ["installing", "installing", "ready"]
