"""World-level steps: a scenario of scenarios/ in the simulator, our real commands against it.

The world is warped (tests/bdd/worlds.py): our commands run as subprocesses exactly as an admin
types them, each on a lease of the world's clock; the Then steps read their output here, the
simulated cluster in `world_cluster_steps.py`, and the status our commands print and the real
status service our bootstrapper deployed in `world_status_steps.py`, letting virtual time pass
(`eventually`) while they wait for what they expect.
"""

from __future__ import annotations

import dataclasses
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytest_bdd import given, parsers, then, when

from appliance.tokens import generate_token
from tests.bdd.worlds import BIN, CommandResult, WorldSession, observed_fresh_bootstrap

__all__ = ["eventually", "stop_shared_worlds"]

# Wall seconds a Then step waits for the world to reach what it expects (a fixed-speed world
# keeps running meanwhile, so this is hours of virtual time).
SETTLE_SECONDS = 60.0
# Warped, a Then step lets virtual time pass in these steps, up to SETTLE_VIRTUAL_SECONDS.
STEP_VIRTUAL_SECONDS = 30.0
SETTLE_VIRTUAL_SECONDS = 2 * 3600.0
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}


def eventually(
    check: Callable[[], Any],
    *,
    what: str,
    seconds: float = SETTLE_SECONDS,
    session: WorldSession | None = None,
) -> Any:
    """Check until `check` returns a truthy value; fail naming `what` and the last answer.

    In a warped world (`session`) virtual time passes between checks, as it would while an
    admin waits; at a fixed speed the world moves on by itself.
    """
    deadline = time.monotonic() + seconds
    warped = session is not None and session.warped
    passed = 0.0
    last: Any = None
    while True:
        try:
            last = check()
        except (httpx.HTTPError, OSError, KeyError, ValueError) as exc:
            last = exc
        else:
            if last:
                return last
        if time.monotonic() > deadline or passed > SETTLE_VIRTUAL_SECONDS:
            raise AssertionError(
                f"{what}: not reached within {seconds:.0f}s wall"
                + (f" ({passed:.0f}s virtual)" if warped else "")
                + f"; last: {last!r}"
            )
        if session is not None and warped:
            session.let_time_pass(STEP_VIRTUAL_SECONDS)
            passed += STEP_VIRTUAL_SECONDS
        else:
            time.sleep(0.1)


@pytest.fixture
def warped(request: pytest.FixtureRequest) -> bool:
    """Whether this scenario's world is warped (`--fixed-speed` or the marker say not)."""
    return (
        not _fixed_speed(request.config) and request.node.get_closest_marker("fixed_speed") is None
    )


def _fixed_speed(config: pytest.Config) -> bool:
    return bool(config.getoption("--fixed-speed"))


# --- the world --------------------------------------------------------------------------------


@pytest.fixture
def world_sessions() -> Iterator[list[WorldSession]]:
    """Stops every world a scenario started, whatever happened in it."""
    sessions: list[WorldSession] = []
    yield sessions
    for session in sessions:
        session.stop()


def _start(
    sessions: list[WorldSession],
    tmp_path: Path,
    scenario: str,
    *,
    warped: bool,
    installed: bool = False,
) -> WorldSession:
    session = WorldSession.start(scenario, workdir=tmp_path, installed=installed, warped=warped)
    sessions.append(session)
    return session


@given(parsers.parse('the world "{scenario}"'), target_fixture="session")
def the_world(
    world_sessions: list[WorldSession], tmp_path: Path, scenario: str, warped: bool
) -> WorldSession:
    return _start(world_sessions, tmp_path, scenario, warped=warped)


@given(
    parsers.parse('the world "{scenario}" with the appliance already installed'),
    target_fixture="session",
)
def installed_world(
    world_sessions: list[WorldSession], tmp_path: Path, scenario: str, warped: bool
) -> WorldSession:
    return _start(world_sessions, tmp_path, scenario, warped=warped, installed=True)


SharedWorlds = dict[tuple[str, str], tuple[WorldSession, CommandResult]]


# Worlds bootstrapped once and shared by every scenario that only reads from them. The same
# scenario file and the same command give the same world (the replay is deterministic), so
# scenarios that check different facts of one outcome share one run instead of replaying the
# hour-long install each. conftest stops them after the last BDD test (`stop_shared_worlds`), so
# they do not keep running beside the rest of the suite.
_SHARED: SharedWorlds = {}


def stop_shared_worlds() -> None:
    """Stop every shared world (their servers and our status service processes)."""
    while _SHARED:
        _, (session, _) = _SHARED.popitem()
        session.stop()


@pytest.fixture(scope="session")
def shared_worlds(pytestconfig: pytest.Config) -> Iterator[SharedWorlds]:
    """The shared worlds; stopped at the end of the session at the latest."""
    global _SHARED_WARPED  # noqa: PLW0603 - one setting for the session's shared worlds
    _SHARED_WARPED = not _fixed_speed(pytestconfig)
    yield _SHARED
    stop_shared_worlds()


# Shared worlds serve many scenarios, so only `--fixed-speed` (not a scenario's marker) slows them.
_SHARED_WARPED = True


def _shared(
    cache: SharedWorlds, factory: pytest.TempPathFactory, scenario: str, servers: str
) -> WorldSession:
    key = (scenario, servers)
    if key not in cache:
        session = WorldSession.start(
            scenario,
            workdir=factory.mktemp(f"shared-{scenario.replace('/', '-')}"),
            warped=_SHARED_WARPED,
        )
        try:
            result = session.run(
                observed_fresh_bootstrap(dns_servers=servers, warped=session.warped)
            )
            # The scenarios read the world after the install settles: warped, it holds still
            # once the bootstrapper is done, so let it run to the end of its timeline.
            if session.warped:
                session.let_time_pass(session.world.scenario.end - session.world.elapsed)
        except BaseException:
            session.stop()
            raise
        cache[key] = (session, result)
    session, result = cache[key]
    # a view of its own per scenario: the bootstrap is its first result, files are its own
    return dataclasses.replace(session, results=[result], talosconfig=None)


@pytest.fixture
def result(session: WorldSession) -> CommandResult:
    """The last command of the scenario (the shared bootstrap until a When runs another)."""
    assert session.results, "no command ran in this scenario"
    return session.results[-1]


@given(
    parsers.parse('the world "{scenario}" after a fresh bootstrap with DNS servers "{servers}"'),
    target_fixture="session",
)
def shared_bootstrapped_world(
    shared_worlds: SharedWorlds,
    tmp_path_factory: pytest.TempPathFactory,
    scenario: str,
    servers: str,
) -> WorldSession:
    return _shared(shared_worlds, tmp_path_factory, scenario, servers)


@given(
    parsers.parse('the world "{scenario}" after a successful bootstrap'),
    target_fixture="session",
)
def bootstrapped_world(
    shared_worlds: SharedWorlds, tmp_path_factory: pytest.TempPathFactory, scenario: str
) -> WorldSession:
    session = _shared(shared_worlds, tmp_path_factory, scenario, "1.1.1.1,8.8.8.8")
    assert session.results[0].exit_code == 0, session.results[0].describe()
    return session


@given(
    parsers.parse('the world "{scenario}" after a successful bootstrap of its own'),
    target_fixture="session",
)
def private_bootstrapped_world(
    world_sessions: list[WorldSession], tmp_path: Path, scenario: str, warped: bool
) -> WorldSession:
    """For scenarios that change the world (recover re-applies): nobody else sees it."""
    session = _start(world_sessions, tmp_path, scenario, warped=warped)
    result = session.run(
        observed_fresh_bootstrap(dns_servers="1.1.1.1,8.8.8.8", warped=session.warped)
    )
    assert result.exit_code == 0, result.describe()
    return session


@given(
    parsers.parse('the world "{scenario}" replayed for {minutes:d} minutes'),
    target_fixture="session",
)
def replayed_world(
    world_sessions: list[WorldSession], tmp_path: Path, scenario: str, minutes: int
) -> WorldSession:
    """The scenario as observed (old bootstrapper included), stopped at that virtual time."""
    session = WorldSession.start(scenario, workdir=tmp_path, replay_minutes=minutes)
    world_sessions.append(session)
    return session


@given("a fresh config directory", target_fixture="session")
def fresh_config_dir(tmp_path: Path) -> WorldSession:
    """No world at all: commands that must work before any cluster exists (e.g. --dry-run)."""
    (tmp_path / "config").mkdir()
    return WorldSession(world=None, workdir=tmp_path, repo_url="", branch="")


@given("an explicit talosconfig file with known content", target_fixture="explicit_files")
def explicit_talosconfig(session: WorldSession) -> dict[Path, bytes]:
    """An admin's own talosconfig and the kubeconfig in use, with their bytes remembered."""
    talosconfig = session.workdir / "explicit" / "talosconfig"
    talosconfig.parent.mkdir(parents=True, exist_ok=True)
    talosconfig.write_text(
        "context: appliance-single-node\ncontexts:\n  appliance-single-node:\n"
        f"    endpoints: [{session.node_ip}]\n    ca: admins-own-ca\n",
        encoding="utf-8",
    )
    session.talosconfig = talosconfig
    kubeconfig = session.kubeconfig
    return {talosconfig: talosconfig.read_bytes(), kubeconfig: kubeconfig.read_bytes()}


# --- the admin's commands ---------------------------------------------------------------------


@when("the admin runs the observed fresh bootstrap without DNS servers", target_fixture="result")
def fresh_without_dns(session: WorldSession) -> CommandResult:
    return session.run(observed_fresh_bootstrap(dns_servers=None, warped=session.warped))


@when(
    parsers.parse('the admin runs the observed fresh bootstrap with DNS servers "{servers}"'),
    target_fixture="result",
)
def fresh_with_dns(session: WorldSession, servers: str) -> CommandResult:
    return session.run(observed_fresh_bootstrap(dns_servers=servers, warped=session.warped))


@when(parsers.parse('the admin runs "{command}"'), target_fixture="result")
def admin_runs(session: WorldSession, command: str) -> CommandResult:
    return session.run(command)


@when(
    parsers.parse(
        'the admin runs the observed fresh bootstrap with DNS servers "{servers}" '
        'while "appliance smoke monitor" watches'
    ),
    target_fixture="result",
)
def fresh_with_monitor(
    session: WorldSession, servers: str, monitor_output: list[str]
) -> CommandResult:
    """The monitor starts first, with the token the bootstrapper will reuse (it keeps a token)."""
    session.site_dir.mkdir(parents=True, exist_ok=True)
    token = generate_token()  # as the bootstrapper makes them: never starting with '-'
    session.status_token_file.write_text(token + "\n", encoding="utf-8")
    session.status_token_file.chmod(0o600)
    argv = [
        str(BIN / "appliance"),
        "smoke",
        "monitor",
        "--status-url",
        f"http://{session.node_ip}:8080",
        "--app-url",
        f"http://{session.node_ip}:3000",
        "--token-file",
        str(session.status_token_file),
        "--interval",
        "0.05",
        "--timeout",
        # Cluster seconds when warped (the whole install), wall seconds at a fixed speed.
        "4800" if session.warped else "170",
        "--json",
    ]
    # Warped, the monitor follows the world's clock: it looks at every instant the world
    # stands still at, without moving time itself.
    follower = session.participant("smoke monitor", driver=False)
    monitor = subprocess.Popen(
        argv,
        env={**session.env(), **(follower.env if follower else {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    if follower is not None:
        follower.close_when_done(monitor)  # an exited monitor holds the clock no more
    try:
        result = session.run(observed_fresh_bootstrap(dns_servers=servers, warped=session.warped))
        # Warped, the monitor still waits for the app: let time pass until it has answered.
        deadline = time.monotonic() + 180
        while session.warped and monitor.poll() is None and time.monotonic() < deadline:
            session.let_time_pass(STEP_VIRTUAL_SECONDS)
        output, _ = monitor.communicate(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if monitor.poll() is None:
            monitor.kill()
            monitor.communicate()
        if follower is not None:
            follower.close()
    monitor_output.extend([str(monitor.returncode), output])
    return result


@pytest.fixture
def monitor_output() -> list[str]:
    """[exit code, output] of `appliance smoke monitor` once it finished."""
    return []


# --- Then: the command ------------------------------------------------------------------------


@then("the bootstrap succeeded")
@then("the command succeeds")
def command_succeeds(result: CommandResult) -> None:
    assert result.exit_code == 0, result.describe()


@then("the command fails")
def command_fails(result: CommandResult) -> None:
    assert result.exit_code != 0, result.describe()


@then(parsers.parse('the output contains "{text}"'))
def output_contains(session: WorldSession, result: CommandResult, text: str) -> None:
    expected = session.expand(text) if "{" in text else text
    assert expected in result.output, f"{expected!r} not printed:\n{result.describe()}"


@then(parsers.parse('the output does not contain "{text}"'))
def output_lacks(result: CommandResult, text: str) -> None:
    assert text not in result.output, f"{text!r} printed:\n{result.describe()}"


@then(parsers.parse('the output names the existing tag "{tag}" of "{image}"'))
def output_names_existing_tag(result: CommandResult, tag: str, image: str) -> None:
    lines = [line for line in result.output.splitlines() if image in line and tag in line]
    assert lines, f"no line names {image} and its tag {tag}:\n{result.describe()}"


@then("the output shows the phase markers in order:")
def phase_markers(result: CommandResult, datatable: list[list[str]]) -> None:
    markers = [line for line in result.output.splitlines() if line.lstrip().startswith("==>")]
    positions = []
    for (phase,) in datatable[1:]:
        found = [i for i, line in enumerate(markers) if phase in line]
        assert found, f"no phase marker for {phase} among {markers}"
        positions.append(found[0])
    assert positions == sorted(positions), f"phase markers out of order: {markers}"


@then("the fake API received no mutating request during the command")
def no_mutation(result: CommandResult) -> None:
    def method(record: Any) -> str:
        value = record.get("method") if isinstance(record, dict) else getattr(record, "method", "")
        return str(value).upper()

    writes = [r for r in result.requests if method(r) in MUTATING]
    assert not writes, f"mutating requests during a dry run: {writes}"


@then(parsers.parse('talosctl was never asked to "{subcommand}"'))
def talosctl_not_asked(session: WorldSession, result: CommandResult, subcommand: str) -> None:
    assert f"talosctl {subcommand}" not in result.output, result.describe()
    generated = [p for p in result.written if p.name in {"controlplane.yaml", "talosconfig"}]
    assert not generated, f"Talos config was generated during the command: {generated}"


@then("the explicit talosconfig file is unchanged")
def talosconfig_unchanged(session: WorldSession, explicit_files: dict[Path, bytes]) -> None:
    assert session.talosconfig is not None
    assert session.talosconfig.read_bytes() == explicit_files[session.talosconfig]


@then("the explicit kubeconfig file is unchanged")
def kubeconfig_unchanged(explicit_files: dict[Path, bytes]) -> None:
    for path, content in explicit_files.items():
        assert path.read_bytes() == content, f"{path} was rewritten"
