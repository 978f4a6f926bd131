"""World-level steps: a scenario of scenarios/ in the simulator, our real commands against it.

The world is warped (tests/bdd/worlds.py): our commands run as subprocesses exactly as an admin
types them, each on a lease of the world's clock; the Then steps read their output, the
simulated cluster, and the real status service our bootstrapper deployed, letting virtual time
pass while they wait for what they expect.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import shlex
import ssl
import stat
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytest_bdd import given, parsers, then, when

from appliance.tokens import generate_token
from tests.bdd.worlds import BIN, SITE_ID, CommandResult, WorldSession, observed_fresh_bootstrap

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


# --- Then: `appliance status --json` -------------------------------------------------------


def _status_output(result: CommandResult) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(result.stdout)
    except ValueError as exc:
        raise AssertionError(f"no status JSON on stdout ({exc}):\n{result.describe()}") from exc
    return data


def _blockers_said(data: dict[str, Any]) -> str:
    return "; ".join(
        f"{b['layer']} [{b.get('component')}] loginBlocking={b['loginBlocking']}"
        for b in data.get("topBlockers", [])
    )


@then(
    parsers.parse('the status JSON blocker for "{component}" has layer "{layer}"'),
    target_fixture="blocker",
)
def json_blocker_for(result: CommandResult, component: str, layer: str) -> dict[str, Any]:
    data = _status_output(result)
    for blocker in data.get("topBlockers", []):
        if blocker.get("component") == component:
            assert blocker["layer"] == layer, _blockers_said(data)
            found: dict[str, Any] = blocker
            return found
    raise AssertionError(f"no blocker for {component}: {_blockers_said(data)}")


@then(parsers.parse('the status JSON has a blocker for "{component}"'), target_fixture="blocker")
def json_has_blocker(result: CommandResult, component: str) -> dict[str, Any]:
    data = _status_output(result)
    for blocker in data.get("topBlockers", []):
        if blocker.get("component") == component:
            found: dict[str, Any] = blocker
            return found
    raise AssertionError(f"no blocker for {component}: {_blockers_said(data)}")


@then(parsers.parse('that blocker\'s reason mentions "{text}"'))
def that_blocker_reason(blocker: dict[str, Any], text: str) -> None:
    assert text in blocker["reason"], blocker["reason"]


@then("that blocker is login-blocking")
def that_blocker_blocks(blocker: dict[str, Any]) -> None:
    assert blocker["loginBlocking"] is True, blocker


@then("that blocker is not login-blocking")
def that_blocker_does_not_block(blocker: dict[str, Any]) -> None:
    assert blocker["loginBlocking"] is False, blocker


@then("that blocker is retryable")
def that_blocker_retryable(blocker: dict[str, Any]) -> None:
    assert blocker.get("retryable") is True, blocker


@then(parsers.parse('that blocker\'s next action mentions "{text}"'))
def that_blocker_next_action(blocker: dict[str, Any], text: str) -> None:
    assert text in blocker["nextAction"], blocker["nextAction"]


@then(parsers.parse('the status JSON rollup state is "{state}"'))
def json_rollup(result: CommandResult, state: str) -> None:
    data = _status_output(result)
    assert data["rollup"]["state"] == state, f"{data['rollup']}; {_blockers_said(data)}"


@then(parsers.parse('the status JSON shows an active pull of "{image}" for "{component}"'))
def json_active_pull(result: CommandResult, image: str, component: str) -> None:
    operations = _status_output(result).get("activeOperations", [])
    found = [o for o in operations if o["image"] == image and o["component"] == component]
    assert found, f"no active pull of {image} for {component}: {operations}"


@then(parsers.parse('the status JSON top blocker has layer "{layer}"'))
def json_top_layer(result: CommandResult, layer: str) -> None:
    data = _status_output(result)
    blockers = data.get("topBlockers", [])
    assert blockers, f"no blockers: {data['rollup']}"
    assert blockers[0]["layer"] == layer, _blockers_said(data)


@then(parsers.parse('some status JSON blocker mentions "{text}"'))
def json_blocker_mentions(result: CommandResult, text: str) -> None:
    data = _status_output(result)
    said = [json.dumps(b) for b in data.get("topBlockers", [])]
    assert any(text in b for b in said), _blockers_said(data)


@then(parsers.parse("the status JSON shows {count:d} seeded users, verified"))
def json_seeded(result: CommandResult, count: int) -> None:
    bootstrap = _status_output(result)["bootstrap"]
    assert bootstrap["seed"]["usersCount"] == count, bootstrap
    assert bootstrap["seed"]["verified"] is True, bootstrap
    assert bootstrap["job"]["state"] == "completed", bootstrap


@then(parsers.parse('the status JSON login probe answered {code:d} with location "{location}"'))
def json_login_probe(result: CommandResult, code: int, location: str) -> None:
    probe = _status_output(result)["loginProbe"]
    assert probe["ok"] is True, probe
    assert probe["statusCode"] == code, probe
    assert probe["location"] == location, probe


# --- Then: the token --------------------------------------------------------------------------


def _token(session: WorldSession) -> str:
    assert session.status_token_file.exists(), f"no token file at {session.status_token_file}"
    return session.status_token_file.read_text(encoding="utf-8").strip()


@then("the status token file exists with mode 0600")
def token_file_private(session: WorldSession) -> None:
    _token(session)
    mode = stat.S_IMODE(session.status_token_file.stat().st_mode)
    assert mode == 0o600, f"{session.status_token_file} has mode {oct(mode)}"


@then("the output contains the token from the status token file")
def output_has_token(session: WorldSession, result: CommandResult) -> None:
    assert _token(session) in result.output, result.describe()


@then(parsers.parse('the Secret "{ref}" holds the same token'))
def secret_holds_token(session: WorldSession, ref: str) -> None:
    namespace, name = ref.split("/", 1)
    secret = session.world.get("Secret", name, namespace)
    assert secret is not None, f"no Secret {ref} in the cluster"
    data = secret.get("data", {})
    value = base64.b64decode(data["token"]).decode() if "token" in data else None
    value = value or secret.get("stringData", {}).get("token")
    assert value == _token(session)


# --- Then: the cluster ------------------------------------------------------------------------


@then(parsers.parse('the node "{name}" is Ready'))
def node_ready(session: WorldSession, name: str) -> None:
    eventually(
        lambda: session.world.ready("Node", name), what=f"node {name} Ready", session=session
    )


def _events(session: WorldSession) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = session.world.objects.list("v1", "Event", None)
    return events


@then(parsers.parse('no event mentions "{text}"'))
def no_event_mentions(session: WorldSession, text: str) -> None:
    said = [e.get("message", "") for e in _events(session) if text in e.get("message", "")]
    assert not said, f"events mention {text!r}: {said[:3]}"
    for pod in session.world.pods():
        for status in pod.get("status", {}).get("containerStatuses", []) or []:
            for state in (status.get("state", {}), status.get("lastState", {})):
                for detail in state.values():
                    message = str(detail.get("message", ""))
                    assert text not in message, f"{pod['metadata']['name']}: {message}"


def _workload(session: WorldSession, name: str, namespace: str = "msp") -> dict[str, Any] | None:
    for kind in ("Deployment", "StatefulSet"):
        found: dict[str, Any] | None = session.world.get(kind, name, namespace)
        if found is not None:
            return found
    return None


@then(parsers.parse('the component "{name}" is ready'))
def component_ready(session: WorldSession, name: str) -> None:
    def ready() -> bool:
        workload = _workload(session, name)
        return workload is not None and bool(workload.get("status", {}).get("readyReplicas"))

    eventually(ready, what=f"component {name} ready", session=session)


def _cluster_pod_spec(session: WorldSession, ref: str) -> dict[str, Any]:
    namespace, name = ref.split("/", 1)
    workload = _workload(session, name, namespace)
    assert workload is not None, f"no workload {ref} in the cluster"
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


@then(parsers.parse('the Deployment "{ref}" in the cluster runs a command containing "{text}"'))
def cluster_command(session: WorldSession, ref: str, text: str) -> None:
    containers = _cluster_pod_spec(session, ref)["containers"]
    commands = [shlex.join([*c.get("command", []), *c.get("args", [])]) for c in containers]
    assert any(text in c for c in commands), f"{ref} runs {commands}"


@then(parsers.parse('the Deployment "{ref}" in the cluster sets enableServiceLinks to false'))
def cluster_no_service_links(session: WorldSession, ref: str) -> None:
    assert _cluster_pod_spec(session, ref).get("enableServiceLinks") is False


@then(parsers.parse('the Job "{ref}" in the cluster completed without a failed attempt'))
def cluster_job_completed(session: WorldSession, ref: str) -> None:
    namespace, name = ref.split("/", 1)

    def completed() -> dict[str, Any] | None:
        job: dict[str, Any] | None = session.world.get("Job", name, namespace)
        conditions = (job or {}).get("status", {}).get("conditions", []) or []
        done = any(c["type"] == "Complete" and c["status"] == "True" for c in conditions)
        return job if done else None

    job = eventually(completed, what=f"Job {ref} Complete", session=session)
    assert not job["status"].get("failed"), f"Job {ref} had failed attempts: {job['status']}"


@then(parsers.parse('the Kustomization "{name}" in the cluster depends on "{other}"'))
def cluster_kustomization_depends(session: WorldSession, name: str, other: str) -> None:
    kustomization = session.world.get("Kustomization", name, "flux-system")
    assert kustomization is not None, f"no Kustomization flux-system/{name} in the cluster"
    names = [d["name"] for d in kustomization["spec"].get("dependsOn", [])]
    assert names == [other], f"{name} dependsOn {names}"


@then(parsers.parse('the Kustomization "{name}" in the cluster is Ready'))
def cluster_kustomization_ready(session: WorldSession, name: str) -> None:
    eventually(
        lambda: session.world.ready("Kustomization", name, "flux-system"),
        what=f"Kustomization {name} Ready",
        session=session,
    )


# --- Then: the status service and the app -----------------------------------------------------


def _status(session: WorldSession, *, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(f"http://{session.node_ip}:8080/api/status", headers=headers, timeout=5.0)


def _status_json(session: WorldSession) -> dict[str, Any]:
    response = _status(session, token=_token(session))
    response.raise_for_status()
    data: dict[str, Any] = response.json()
    return data


@then(parsers.parse('the status service reports the tier "{tier}" ready'))
def service_tier_ready(session: WorldSession, tier: str) -> None:
    eventually(
        lambda: _status_json(session)["tiers"][tier]["ready"],
        what=f"status tier {tier} ready",
        session=session,
    )


@then(parsers.parse('the status service reports rollup "{state}"'))
def service_rollup(session: WorldSession, state: str) -> None:
    eventually(
        lambda: _status_json(session)["rollup"]["state"] == state,
        what=f"status rollup {state}",
        session=session,
    )


@then(
    parsers.parse(
        'the status service reports a blocker "{layer}" for "{component}" that is not '
        "login-blocking"
    )
)
def service_blocker(session: WorldSession, layer: str, component: str) -> None:
    def found() -> bool:
        return any(
            b["layer"] == layer and b["component"] == component and not b["loginBlocking"]
            for b in _status_json(session)["topBlockers"]
        )

    eventually(found, what=f"a non-login-blocking {layer} blocker for {component}", session=session)


@then("the status service reports more than 0 seeded users or a completed bootstrap Job")
def service_seeded(session: WorldSession) -> None:
    def seeded() -> bool:
        bootstrap = _status_json(session)["bootstrap"]
        users = bootstrap["seed"].get("usersCount")
        return (users or 0) > 0 or bootstrap["job"]["state"] == "completed"

    eventually(seeded, what="seeded users or a completed bootstrap Job", session=session)


@then(parsers.parse('the status service on "{address}" answers 401 without a token'))
def service_401(session: WorldSession, address: str) -> None:
    url = f"http://{session.expand(address)}/api/status"
    eventually(
        lambda: httpx.get(url, timeout=5.0).status_code == 401,
        what=f"401 from {url}",
        session=session,
    )


@then(
    parsers.parse(
        'the status service on "{address}" answers the status JSON with the printed token'
    )
)
def service_answers_printed_token(
    session: WorldSession, result: CommandResult, address: str
) -> None:
    token = _token(session)
    assert token in result.output, "the bootstrapper did not print the token it stored"
    url = f"http://{session.expand(address)}/api/status"

    def answered() -> bool:
        response = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=5.0)
        return response.status_code == 200 and response.json()["siteId"] == SITE_ID

    eventually(answered, what=f"status JSON from {url}", session=session)


@then(parsers.parse('the app URL answers {code:d} with location "{location}"'))
def app_answers(session: WorldSession, code: int, location: str) -> None:
    url = f"http://{session.node_ip}:3000/"

    def answered() -> bool:
        response = httpx.get(url, timeout=5.0, follow_redirects=False)
        return response.status_code == code and response.headers.get("location", "").endswith(
            location
        )

    eventually(answered, what=f"{code} to {location} from {url}", session=session)


@then("the monitor succeeds")
def monitor_succeeds(monitor_output: list[str]) -> None:
    code, output = monitor_output
    assert code == "0", output


@then("the status API answered before the app URL")
def status_before_app(monitor_output: list[str]) -> None:
    _, output = monitor_output
    report = json.loads(output[output.index("{") :])
    assert report["statusFirstPoll"] is not None, report
    assert report["appFirstPoll"] is None or report["statusFirstPoll"] < report["appFirstPoll"], (
        report
    )


# --- T015: RBAC enforced by the fake API ------------------------------------------------------


@pytest.fixture
def fake_apis() -> Iterator[list[Any]]:
    """Stops every fake API server a scenario started."""
    servers: list[Any] = []
    yield servers
    for server in servers:
        server.stop()


@given("the fake API with our status manifests applied", target_fixture="fake_api")
def fake_api_with_status(fake_apis: list[Any]) -> Any:
    from simulator.api import ApiServer
    from simulator.api.store import ObjectStore
    from simulator.clock import VirtualClock
    from tests.bdd.manifest_steps import ROOT, kustomize
    from tests.fixtures import NOW, Appliance

    store = ObjectStore(VirtualClock(NOW))
    for crd in _flux_crds():
        store.create(crd)
    for obj in kustomize(ROOT / "appliance" / "manifests" / "status"):
        store.create(obj)
    for namespace in ("msp", "flux-system"):
        if store.get("v1", "Namespace", namespace) is None:
            store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "appliance-status-auth", "namespace": "appliance-system"},
        "data": {"token": base64.b64encode(b"s3cret-token").decode()},
    }
    if store.get("v1", "Secret", "appliance-status-auth", "appliance-system") is None:
        store.create(secret)
    for pod in Appliance.healthy().of_kind("Pod"):
        if pod["metadata"]["namespace"] == "msp":
            store.create({k: v for k, v in pod.items() if k != "status"})
    server = ApiServer(store, host="127.0.0.1", port=0)
    server.start()
    fake_apis.append(server)
    return server


def _flux_crds() -> list[dict[str, Any]]:
    from simulator.neighbours.flux_crds import FLUX_CRDS

    return [dict(crd) for crd in FLUX_CRDS]


@given(parsers.parse('a token for ServiceAccount "{ref}"'), target_fixture="sa_token")
def serviceaccount_token(fake_api: Any, ref: str) -> str:
    namespace, name = ref.split("/", 1)
    return str(fake_api.issue_token(namespace, name))


_COLLECTIONS = {
    "pods": "/api/v1/pods",
    "events": "/api/v1/events",
    "secrets": "/api/v1/secrets",
    "helmreleases": "/apis/helm.toolkit.fluxcd.io/v2/helmreleases",
}


def _call(fake_api: Any, token: str, method: str, path: str, **kwargs: Any) -> int:
    response = httpx.request(
        method,
        f"{fake_api.url.rstrip('/')}{path}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10.0,
        verify=ssl.create_default_context(cafile=str(fake_api.ca_file))
        if fake_api.ca_file
        else True,
        **kwargs,
    )
    return response.status_code


@then(parsers.parse('with that token listing "{resource}" in all namespaces is allowed'))
def listing_allowed(fake_api: Any, sa_token: str, resource: str) -> None:
    assert _call(fake_api, sa_token, "GET", _COLLECTIONS[resource]) == 200


@then(parsers.parse('with that token listing "{resource}" in all namespaces is forbidden'))
def listing_forbidden(fake_api: Any, sa_token: str, resource: str) -> None:
    assert _call(fake_api, sa_token, "GET", _COLLECTIONS[resource]) == 403


@then(parsers.parse('with that token reading Secret "{ref}" is forbidden'))
def secret_forbidden(fake_api: Any, sa_token: str, ref: str) -> None:
    namespace, name = ref.split("/", 1)
    path = f"/api/v1/namespaces/{namespace}/secrets/{name}"
    assert _call(fake_api, sa_token, "GET", path) == 403


@then(parsers.parse('with that token creating a ConfigMap in "{namespace}" is forbidden'))
def create_forbidden(fake_api: Any, sa_token: str, namespace: str) -> None:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {}}
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    assert _call(fake_api, sa_token, "POST", path, json=body) == 403


@then(parsers.parse('with that token deleting pod "{ref}" is forbidden'))
def delete_forbidden(fake_api: Any, sa_token: str, ref: str) -> None:
    namespace, name = ref.split("/", 1)
    assert _call(fake_api, sa_token, "DELETE", f"/api/v1/namespaces/{namespace}/pods/{name}") == 403


@then(parsers.parse('with that token exec into "{ref}" is forbidden'))
def exec_forbidden(fake_api: Any, sa_token: str, ref: str) -> None:
    namespace, name = ref.split("/", 1)
    path = f"/api/v1/namespaces/{namespace}/pods/{name}/exec?command=sh&stdout=true"
    assert _call(fake_api, sa_token, "POST", path) == 403
