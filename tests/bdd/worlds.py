"""A simulated appliance for world-level scenarios, and the admin's commands run against it.

`WorldSession` starts `simulator.world.World` for a scenario of `scenarios/` (fake API, registry,
Talos endpoint, app endpoint, our status service as a real process) and runs our console
scripts (`appliance ...`) as subprocesses the way an admin would: PATH holds the fake
`talosctl`/`flux`, the kubeconfig and config dir are real files. Everything the simulator and the
bootstrapper need from each other passes through here, so adapting to their interfaces is one
place.

Time is warped by default (simulator/warp.py): each command runs on a lease of the world's
clock, which jumps whenever every process waits, so an hour-long install takes seconds and
happens the same way every run. `pytest --fixed-speed` (or the `fixed_speed` marker on a
scenario) runs the worlds at the scenario's fixed speed instead, for watching one by hand.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "ROOT",
    "SITE_ID",
    "CommandResult",
    "WorldSession",
    "make_manifest_repo",
    "observed_fresh_bootstrap",
]

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SITE_ID = "appliance-single-node"
RELEASE_BRANCH = "release/1.0-rc5"
# Wall-clock bound on one command, so a hung bootstrapper fails the scenario instead of CI.
COMMAND_TIMEOUT = 240.0


@dataclass(frozen=True)
class CommandResult:
    """What one command printed and returned, and what it asked of the fake API."""

    argv: tuple[str, ...]
    exit_code: int
    output: str
    requests: tuple[Any, ...] = ()
    stdout: str = ""
    # files under the config dir the command created or rewrote
    written: tuple[Path, ...] = ()

    def describe(self) -> str:
        """The command and its output, for assertion messages."""
        return f"$ {shlex.join(self.argv)}\n(exit {self.exit_code})\n{self.output}"


def make_manifest_repo(directory: Path) -> tuple[Path, str]:
    """A local git repository whose release branch holds our manifests, as Flux would fetch.

    The working tree's manifests are committed (not the checkout's HEAD), so a scenario proves
    the manifests under test, whatever state the CI checkout is in.
    """
    repo = directory / "alga-psa.git-work"
    target = repo / "appliance" / "manifests"
    shutil.copytree(ROOT / "appliance" / "manifests", target)
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "bdd",
        "GIT_AUTHOR_EMAIL": "bdd@example.invalid",
        "GIT_COMMITTER_NAME": "bdd",
        "GIT_COMMITTER_EMAIL": "bdd@example.invalid",
    }
    for argv in (
        ["git", "init", "-q", "-b", RELEASE_BRANCH],
        ["git", "add", "-A"],
        ["git", "commit", "-q", "-m", "manifests under test"],
    ):
        subprocess.run(argv, cwd=repo, env=env, check=True, capture_output=True, timeout=60)
    return repo, RELEASE_BRANCH


def observed_fresh_bootstrap(*, dns_servers: str | None, warped: bool = True) -> str:
    """The field log's fresh bootstrap command, with placeholders for the simulated node.

    Warped, its timeouts are the defaults (cluster time is the admin's time); at a fixed speed
    its polls are shorter and its limits longer, since wall seconds are minutes there.
    """
    command = (
        "appliance bootstrap --bootstrap-mode fresh --release-version 1.0-rc5 "
        "--node-ip {node_ip} --hostname appliance-single-node --app-url {app_url} "
        "--interface enp0s1 --network-mode dhcp --install-disk /dev/sda "
        "--repo-url {repo_url} --branch-override {branch} --site-id appliance-single-node "
        "--config-dir {config_dir} --registry-url {registry_url}"
    )
    if not warped:
        command += " --poll-interval 0.5 --install-timeout 4800 --host-timeout 120"
    if dns_servers:
        command += f" --dns-servers {dns_servers}"
    return command


@dataclass
class WorldSession:
    """One running world and the files an admin would have beside it."""

    world: Any
    workdir: Path
    repo_url: str
    branch: str
    results: list[CommandResult] = field(default_factory=list)
    talosconfig: Path | None = None

    @classmethod
    def start(
        cls,
        scenario: str,
        *,
        workdir: Path,
        installed: bool = False,
        replay_minutes: float | None = None,
        warped: bool = True,
    ) -> WorldSession:
        """Start the world for `scenarios/<scenario>.yaml` with its servers, warped (or at the
        scenario's fixed speed).

        With `replay_minutes` the scenario replays as scripted (what the old bootstrapper and
        the admins did included) on a frozen clock up to that virtual time, then holds still:
        the observed failure, reproduced, waiting to be diagnosed.
        """
        from simulator.world.scenario import load_scenario
        from simulator.world.served import ServedWorld

        path = ROOT / "scenarios" / f"{scenario}.yaml"
        model = load_scenario(path)
        if installed and model.host is not None:
            host = model.host.model_copy(update={"initial_state": "running", "kubernetes_up": True})
            model = model.model_copy(update={"host": host})
        replay = replay_minutes is not None
        world = ServedWorld(
            model,
            speed=0.0 if replay else None,
            skip_actors=() if replay else model.bootstrap.skip_actors,
            base_dir=path.parent,
            node_ip=_node_address(),
            warp=warped and not replay,
        )
        world.start()
        if replay_minutes is not None:
            world.run_until(replay_minutes * 60)
        (workdir / "config").mkdir(parents=True, exist_ok=True)
        repo, branch = make_manifest_repo(workdir)
        return cls(world=world, workdir=workdir, repo_url=str(repo), branch=branch)

    def stop(self) -> None:
        """Stop every server and process of the world."""
        self.world.stop()

    @property
    def warped(self) -> bool:
        """Whether the world's clock jumps when every process waits."""
        return bool(getattr(self.world, "warped", False))

    def let_time_pass(self, seconds: float) -> None:
        """Let `seconds` of virtual time pass (warped: as fast as the processes keep up)."""
        if self.world is not None:
            self.world.let_time_pass(seconds)

    def participant(self, name: str, *, driver: bool = True) -> Any:
        """A lease on the warped world's clock for a process about to start (else None)."""
        if not self.warped:
            return None
        return self.world.participant(name, driver=driver)

    # -- what the admin has ----------------------------------------------------------------------

    @property
    def node_ip(self) -> str:
        return str(self.world.node_ip)

    @property
    def config_dir(self) -> Path:
        return self.workdir / "config"

    @property
    def site_dir(self) -> Path:
        return self.config_dir / SITE_ID

    @property
    def kubeconfig(self) -> Path:
        """The kubeconfig the bootstrapper wrote, else the one the world serves."""
        written = self.site_dir / "kubeconfig"
        if written.exists() or self.world is None:
            return written
        return Path(self.world.kubeconfig_path)

    @property
    def status_token_file(self) -> Path:
        return self.site_dir / "status-token"

    def placeholders(self) -> dict[str, str]:
        """Values for `{name}` in a command or an expected text."""
        values = {"config_dir": str(self.config_dir)}
        if self.world is None:
            return values
        values |= {
            "node_ip": self.node_ip,
            "app_url": f"http://{self.node_ip}:3000",
            "status_url": f"http://{self.node_ip}:8080",
            "kubeconfig": str(self.kubeconfig),
            "repo_url": self.repo_url,
            "branch": self.branch,
            "registry_url": str(self.world.registry_url or ""),
            "talosconfig": str(self.talosconfig or self.site_dir / "talosconfig"),
        }
        if self.status_token_file.exists():
            values["status_token"] = self.status_token_file.read_text(encoding="utf-8").strip()
            values["status_token_file"] = str(self.status_token_file)
        return values

    def expand(self, text: str) -> str:
        """`text` with its `{placeholders}` filled in."""
        return text.format_map(self.placeholders())

    # -- running commands ------------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        """The admin's environment: fake talosctl/flux first on PATH, our console scripts next."""
        bin_dirs = [str(d) for d in _world_bin_dirs(self.world)] + [str(BIN)]
        return {
            **os.environ,
            "PATH": os.pathsep.join([*bin_dirs, os.environ.get("PATH", "")]),
            "HOME": str(self.workdir),
            "KUBECONFIG": str(self.kubeconfig),
            "NO_COLOR": "1",
            "TERM": "dumb",
        }

    def run(self, command: str) -> CommandResult:
        """Run an admin command line (placeholders expanded) and record what it did."""
        argv = shlex.split(self.expand(command))
        if argv and argv[0] in {"appliance", "appliance-status", "appliance-sim"}:
            argv[0] = str(BIN / argv[0])
        log = _request_log(self.world)
        before = len(log)
        files_before = _file_stamps(self.config_dir)
        # Warped, the command is a driver on the world's clock for as long as it runs.
        participant = self.participant(f"command {argv[0].rsplit('/', 1)[-1]}")
        try:
            completed = subprocess.run(
                argv,
                env={**self.env(), **(participant.env if participant else {})},
                cwd=self.workdir,
                capture_output=True,
                text=True,
                timeout=COMMAND_TIMEOUT,
                check=False,
            )
        finally:
            if participant is not None:
                participant.close()
        result = CommandResult(
            argv=tuple(argv),
            exit_code=completed.returncode,
            output=completed.stdout + completed.stderr,
            stdout=completed.stdout,
            requests=tuple(_request_log(self.world)[before:]),
            written=tuple(
                path
                for path, stamp in _file_stamps(self.config_dir).items()
                if files_before.get(path) != stamp
            ),
        )
        self.results.append(result)
        return result


def _file_stamps(directory: Path) -> dict[Path, tuple[int, int]]:
    """(mtime, size) of every file under `directory`, to tell what a command wrote."""
    if not directory.exists():
        return {}
    return {
        path: (path.stat().st_mtime_ns, path.stat().st_size)
        for path in directory.rglob("*")
        if path.is_file()
    }


def _node_address() -> str:
    """A free simulated node address in 127.0.0.0/8 (ports 3000/8080/50000 unused there)."""
    from simulator.neighbours.addresses import choose_node_address

    return str(choose_node_address())


def _world_bin_dirs(world: Any) -> list[Path]:
    """Where the world put its fake `talosctl` and `flux` shims."""
    found = getattr(world, "bin_dir", None)
    if found is None:
        return []
    return [Path(found)]


def _request_log(world: Any) -> list[Any]:
    """The fake API's request log (empty when the world serves none)."""
    api = getattr(world, "api", None)
    if api is None:
        servers = getattr(world, "_servers", [])
        api = next((s for s in servers if hasattr(s, "request_log")), None)
    return list(getattr(api, "request_log", []) or [])
