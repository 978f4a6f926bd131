"""Running the real bootstrapper against a world and watching the status service's rollup.

The simulator never imports the bootstrapper: it runs the scenario's `bootstrap.runs` argv
templates as external commands (with the world's fake `talosctl`/`flux` first on PATH when
present), and polls `GET http://NODE_IP:8080/api/status` with the Bearer token the bootstrapper
writes to `<config-dir>/<site-id>/status-token`, printing the rollup timeline: virtual time, state
and top blocker, one line per change.

In a warped world each run is a driver on the clock (its env names its lease) and the status is
read at every quiescent point, just before the clock jumps: what the status service shows at
each instant, the same on every run. At a fixed speed it is polled every `poll_wall` seconds.
"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from simulator.lifecycle import raise_if_stopped
from simulator.neighbours.api_connection import ApiConnection
from simulator.neighbours.clock_endpoint import Participant
from simulator.world.served import ServedWorld
from simulator.world.timeline import format_elapsed

__all__ = ["SETTLED_STATES", "BootstrapSession", "RollupLine", "StatusPoller"]

# Rollup states after which waiting longer changes nothing by itself.
SETTLED_STATES = frozenset(
    {"ready_with_background_issues", "fully_healthy", "failed_action_required"}
)


@dataclass(frozen=True)
class RollupLine:
    """One change of the status service's rollup."""

    at: float
    state: str
    blocker: str

    def render(self) -> str:
        """`+42m10s  installing  blocker: Core Postgres storage initialization (db)`."""
        return f"{format_elapsed(self.at):>10}  {self.state:<30} {self.blocker}".rstrip()


@dataclass
class StatusPoller:
    """Polls the status API and keeps the rollup changes."""

    world: ServedWorld
    token_file: Path
    status_url: str
    lines: list[RollupLine] = field(default_factory=list)
    first_answer_at: float | None = None
    last: dict[str, Any] | None = None
    # One connection for every poll, kept alive.
    client: ApiConnection = field(init=False)

    def __post_init__(self) -> None:
        self.client = ApiConnection(self.status_url, timeout=2.0)

    def sign_in_link(self) -> str:
        """The status UI link that signs a browser in (`?token=`), or the URL without a token."""
        if not self.token_file.exists():
            return f"{self.status_url} (no token was written)"
        token = self.token_file.read_text(encoding="utf-8").strip()
        return f"{self.status_url}/?{urlencode({'token': token})}"

    def poll(self) -> RollupLine | None:
        """One poll; returns the new line when the (state, top blocker) changed."""
        if not self.token_file.exists():
            return None
        token = self.token_file.read_text(encoding="utf-8").strip()
        try:
            response = self.client.get("/api/status", headers={"Authorization": f"Bearer {token}"})
        except (OSError, http.client.HTTPException):
            return None
        if response.status_code != 200:
            return None
        if self.first_answer_at is None:
            self.first_answer_at = self.world.elapsed
        body = response.json()
        self.last = body
        state = str((body.get("rollup") or {}).get("state", "?"))
        blockers = body.get("topBlockers") or []
        blocker = ""
        if blockers:
            top = blockers[0]
            # The status page's words: a blocker blocks login, anything else is a background
            # issue; like the rollup's headline, one layer names all its components.
            title = "blocker" if top.get("loginBlocking") else "background issue"
            alike = [
                b.get("component")
                for b in blockers
                if b.get("component")
                and (b.get("layer"), bool(b.get("loginBlocking")))
                == (top.get("layer"), bool(top.get("loginBlocking")))
            ]
            where = f" ({', '.join(dict.fromkeys(alike))})" if alike else ""
            blocker = f"{title}: {top.get('layer', '')}{where}"
        if self.lines and (self.lines[-1].state, self.lines[-1].blocker) == (state, blocker):
            return None
        line = RollupLine(self.world.elapsed, state, blocker)
        self.lines.append(line)
        return line


class BootstrapSession:
    """Runs the scenario's bootstrapper invocations against a served, running world."""

    def __init__(
        self,
        world: ServedWorld,
        *,
        config_dir: Path,
        bin_dir: Path | None = None,
        fields: dict[str, str] | None = None,
        echo: Callable[[str], None] = print,
    ) -> None:
        self.world = world
        self.config_dir = config_dir
        self.bin_dir = bin_dir
        self.echo = echo
        site = world.scenario.bootstrap.site_id
        self.poller = StatusPoller(
            world,
            token_file=config_dir / site / "status-token",
            status_url=f"http://{world.node_ip}:8080",
        )
        self.fields = {
            "node_ip": world.node_ip,
            "kubeconfig": str(config_dir / site / "kubeconfig"),
            "config_dir": str(config_dir),
            "api_url": world.api_url or "",
            "world_kubeconfig": str(world.kubeconfig_path or ""),
            "registry_url": world.registry_url or "",
            "site_id": site,
            "repo_url": "",
            "branch": "",
            **(fields or {}),
        }
        self.exit_codes: list[int] = []
        self._observing = threading.Lock()
        # The run whose output is echoed now; the main thread and the observer both drain it.
        self._running: subprocess.Popen[str] | None = None
        self._draining = threading.RLock()

    def argv(self, template: list[str]) -> list[str]:
        """The argv with `{field}` placeholders filled in."""
        return [part.format(**self.fields) for part in template]

    def environment(self, extra: dict[str, str]) -> dict[str, str]:
        """The bootstrapper's environment: PATH with the world's fake tools first."""
        env = dict(os.environ)
        path = [str(Path(sys.executable).parent)]
        if self.bin_dir is not None:
            path.insert(0, str(self.bin_dir))
        env["PATH"] = os.pathsep.join([*path, env.get("PATH", "")])
        env.update(extra)
        return env

    def run(
        self,
        *,
        until_state: str | Collection[str] | None = None,
        until_seconds: float | None = None,
        poll_wall: float = 0.25,
    ) -> int:
        """Run every invocation in turn, watching the status API; returns the last exit code."""
        warp = self.world.warp
        remove: Callable[[], None] = lambda: None  # noqa: E731 - a no-op remover
        if warp is not None:
            if until_seconds is not None:
                warp.horizon = self.world.clock.start + timedelta(seconds=until_seconds)
            remove = warp.add_observer(self._observe)
        try:
            return self._run_all(until_state, until_seconds, poll_wall)
        finally:
            remove()
            self.poller.client.close()

    def _run_all(
        self,
        until_state: str | Collection[str] | None,
        until_seconds: float | None,
        poll_wall: float,
    ) -> int:
        code = 0
        for number, run in enumerate(self.world.scenario.bootstrap.runs, start=1):
            argv = self.argv(run.argv)
            self.echo(f"{format_elapsed(self.world.elapsed):>10}  $ {' '.join(argv)}")
            participant = self.world.participant(f"bootstrap run {number}")
            returned = self._run_one(argv, run.env, participant, until_seconds, poll_wall)
            if returned is None:
                return 0  # the time limit cut it short
            code = returned
            self.exit_codes.append(code)
            self.echo(f"{format_elapsed(self.world.elapsed):>10}  exit {code}")
            if run.expect_exit is not None and code != run.expect_exit:
                return code
        self._observe()  # the instant the last run ended, before time moves on
        while not self._poll_and_check(until_state, until_seconds):
            raise_if_stopped()
            if until_state is None and until_seconds is None:
                break
            if self.world.warped:
                # Time passes until the status service shows a wanted state, not a minute more.
                def reached() -> bool:
                    return self._reached(until_state)

                if self.world.let_time_pass(60.0, until=reached) <= 0 and not reached():
                    break  # the horizon: time will not pass any more
            else:
                time.sleep(poll_wall)
        return code

    def _run_one(
        self,
        argv: list[str],
        extra_env: dict[str, str],
        participant: Participant | None,
        until_seconds: float | None,
        poll_wall: float,
    ) -> int | None:
        """One invocation to its end; None when the time limit ended it."""
        env = {**self.environment(extra_env), **(participant.env if participant else {})}
        try:
            process = subprocess.Popen(
                argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
        except BaseException:
            if participant is not None:
                participant.close()
            raise
        if participant is not None:
            participant.close_when_done(process)  # an exited run holds the clock no more
        assert process.stdout is not None
        os.set_blocking(process.stdout.fileno(), False)
        self._running = process
        try:
            cut_short = self._follow(process, participant, until_seconds, poll_wall)
            if not cut_short:
                self._drain(process)
        except BaseException:
            # Ctrl-C or SIGTERM: the bootstrapper is our child, it must not outlive us.
            self._stop_echoing()
            _end(process)
            raise
        self._stop_echoing()
        if cut_short:
            _end(process)
            return None
        process.stdout.close()
        return process.returncode

    def _follow(
        self,
        process: subprocess.Popen[str],
        participant: Participant | None,
        until_seconds: float | None,
        poll_wall: float,
    ) -> bool:
        """Echo the run's output until it exits (False) or the time limit comes (True)."""
        while process.poll() is None:
            raise_if_stopped()
            self._drain(process)
            # The bootstrapper decides when it is done; only the time limit cuts it short.
            if participant is not None:
                if until_seconds is not None and self.world.elapsed >= until_seconds:
                    return True
                time.sleep(0.02)
                continue
            if self._poll_and_check(None, until_seconds):
                return True
            time.sleep(poll_wall)
        return False

    def _stop_echoing(self) -> None:
        """The observer no longer drains the run's output (it is about to be closed)."""
        with self._draining:
            self._running = None

    def _observe(self) -> None:
        """Read the status (warped: at a quiescent point, from the world's scheduler)."""
        with self._observing:
            line = self.poller.poll()
        if line is not None:
            # What the run printed before this instant comes first, on every run: warped, the
            # world is quiescent here, so the run's lines are in the pipe (it flushes each one)
            # but the main thread may not have echoed them yet.
            with self._draining:
                if self._running is not None:
                    self._drain(self._running)
                self.echo(f"{line.render()}   [status]")

    def _drain(self, process: subprocess.Popen[str]) -> None:
        with self._draining:
            assert process.stdout is not None
            while True:
                line = process.stdout.readline()
                if not line:
                    return
                self.echo(f"{'':>10}  | {line.rstrip()}")

    def _poll_and_check(
        self, until_state: str | Collection[str] | None, until_seconds: float | None
    ) -> bool:
        if not self.world.warped:  # warped, the observer reads it at every quiescent point
            self._observe()
        if self._reached(until_state):
            return True
        return until_seconds is not None and self.world.elapsed >= until_seconds

    def _reached(self, until_state: str | Collection[str] | None) -> bool:
        """Whether the last rollup the status service showed is a wanted state."""
        wanted = {until_state} if isinstance(until_state, str) else set(until_state or ())
        return bool(wanted and self.poller.lines and self.poller.lines[-1].state in wanted)


def _end(process: subprocess.Popen[str]) -> None:
    """Stop a child bootstrapper: terminate, then kill if it lingers."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    if process.stdout is not None:
        process.stdout.close()
