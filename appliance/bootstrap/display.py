"""What the admin sees: phase markers, progress lines, warnings, blocks, the failure summary.

On a terminal a rich status line shows the current phase with its elapsed time; otherwise (CI,
pipes, tests) every event is one plain line, so logs stay greppable (`==> [2/6] Platform`).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from typing import IO, Any

from appliance.tier_table import TIERS

__all__ = ["PHASES", "Display", "make_display"]

# Talos first, then one phase per readiness tier, named as the status page and `appliance status`
# name them (tier_table.py), so the three never disagree.
PHASES: tuple[str, ...] = ("Host/Talos", *(spec.label for spec in TIERS))
# Each marker says what the phase is made of, as the page's checklist does: "Core services ready"
# while the app image still pulls is true only if the admin reads which services those are.
_PHASE_CONTENTS: dict[str, str] = {
    "Host/Talos": "Talos on the node, etcd and Kubernetes",
    **{spec.label: spec.description for spec in TIERS},
}


class Display:
    """Plain-line output; the base for the rich terminal display."""

    def __init__(
        self, stream: IO[str] | None = None, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._stream = stream or sys.stdout
        self._monotonic = monotonic
        self._phase_started: float | None = None
        self.current_phase: str | None = None

    def _line(self, text: str) -> None:
        self._stream.write(text + "\n")
        self._stream.flush()

    def _elapsed(self) -> str:
        if self._phase_started is None:
            return ""
        seconds = int(self._monotonic() - self._phase_started)
        return f"{seconds // 60:d}m{seconds % 60:02d}s"

    def phase(self, name: str) -> None:
        """Announce a phase: `==> [n/6] Name: what it is made of`."""
        index = PHASES.index(name) + 1
        self.current_phase = name
        self._phase_started = self._monotonic()
        self._line(f"==> [{index}/{len(PHASES)}] {name}: {_PHASE_CONTENTS[name]}")

    def step(self, text: str) -> None:
        """A headline that is not one of the six phases (preflight, plan)."""
        self._line(f"==> {text}")

    def progress(self, text: str) -> None:
        """One progress line under the current phase."""
        self._line(f"    {text}")

    def warn(self, text: str) -> None:
        """A non-blocking problem the admin should know about."""
        self._line(f"WARNING: {text}")

    def block(self, title: str, rows: Sequence[tuple[str, str]]) -> None:
        """A titled key/value block (source summary, status UI)."""
        self._line("")
        self._line(title)
        width = max((len(k) for k, _ in rows), default=0)
        for key, value in rows:
            self._line(f"  {key.ljust(width)}  {value}")
        self._line("")

    def failure(self, message: str, *, layer: str, next_action: str) -> None:
        """The failure summary every failed run ends with; its first line on stderr too, where
        a script (or an admin who hid the progress) looks for why the command failed."""
        self._line(f"ERROR: {message}")
        self._line(f"Failure layer: {layer}")
        self._line(f"Next action: {next_action}")
        if self._stream is not sys.stderr:
            sys.stderr.write(f"appliance bootstrap: error: {message}\n")
            sys.stderr.flush()

    def done(self, text: str) -> None:
        """The closing line of a successful run."""
        self._line(text)

    def close(self) -> None:
        """Stop any live rendering."""


class _PhaseLabel:
    """A rich renderable that reads the elapsed time whenever the spinner redraws."""

    def __init__(self, display: Display) -> None:
        self._display = display

    def __rich__(self) -> Any:
        from rich.text import Text

        label = Text(self._display.current_phase or "starting", style="bold")
        label.append(f"  {self._display._elapsed()}")
        return label


class RichDisplay(Display):
    """The same events on a terminal, with a live spinner showing phase and elapsed time."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        super().__init__(stream)
        from rich.console import Console

        self._console = Console(file=self._stream, highlight=False)
        self._status: Any = None

    def _line(self, text: str) -> None:
        self._console.print(text, markup=False)

    def phase(self, name: str) -> None:
        super().phase(name)
        if self._status is None:
            # The spinner redraws a few times a second, so the elapsed time keeps ticking
            # between progress lines (a 16-minute image pull shows it is still alive).
            self._status = self._console.status(_PhaseLabel(self), refresh_per_second=4)
            self._status.start()

    def close(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None


def make_display(stream: IO[str] | None = None) -> Display:
    """Rich on a terminal, plain lines otherwise."""
    target = stream or sys.stdout
    if target.isatty():
        return RichDisplay(target)
    return Display(target)
