"""A fresh bootstrap cut short anywhere, then `--bootstrap-mode recover` (issue 9 item 9).

The real `appliance` CLI runs a fresh install against a served happy-path world (fake Talos node
in maintenance mode, fake API, registry). When it prints the line that marks an interruption
point, the test kills it: `kill -9` of the bootstrapper alone (talosctl children run on, as they
would), or SIGINT to its whole process group (what Ctrl-C in a terminal does). Then the admin's
next step: `--bootstrap-mode recover` (or the same fresh command when the run says nothing was
installed). It must reach login ready with the token the first run printed, the machine config
the node was installed with, and no duplicate objects.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import select
import signal
import struct
import subprocess
import termios
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.neighbours.addresses import choose_node_address
from simulator.world.scenario import Scenario, load_scenario
from simulator.world.served import ServedWorld
from tests.integration.test_bootstrap_e2e import (
    BIN,
    SCENARIOS,
    WALL_TIMEOUT,
    appliance,
    bootstrap_args,
    env_for,
    secret,
)
from tests.tools import ctrl_c_as_in_a_terminal

# (name, the line after which the kill lands): every step the host and platform phases take.
POINTS = [
    ("during-gen-config", "generating Talos machine config"),
    ("after-talosconfig-written", "wrote talosconfig"),
    ("waiting-for-maintenance", "waiting for the Talos maintenance API"),
    ("during-apply-config", "applying machine config to"),
    ("after-apply-config", "waiting for the Talos install to finish"),
    ("after-etcd-bootstrap", "etcd bootstrapped"),
    ("after-kubeconfig", "wrote kubeconfig"),
    ("platform-start", "==> [2/6] Platform"),
    ("after-namespaces", "namespaces: flux-system"),
    ("after-token-secret", "holds the status token"),
    ("after-status-service", "status service manifests applied"),
    ("after-gitops", "GitOps submitted"),
    ("while-watching", "==> [3/"),  # the first phase watched through the status engine
]
SIGNALS = {"kill-9": signal.SIGKILL, "sigint": signal.SIGINT}
SITE = "appliance-single-node"


def quick_happy_path() -> Scenario:
    """happy-path with its long waits cut to seconds: the Talos install and etcd's bootstrap, and
    the image pulls (the core image's is four minutes). The matrix tests what a second run makes
    of a first one cut short, not how long an install takes; warped, each virtual second spent
    waiting still costs work (the bootstrapper's talosctl polls, Flux's 5 s health polls, each a
    jump that wakes every process), and the matrix runs 26 installs."""
    scenario = load_scenario(SCENARIOS / "happy-path.yaml")
    assert scenario.host is not None
    assert scenario.registry is not None
    host = scenario.host.model_copy(update={"install_seconds": 10.0, "bootstrap_seconds": 5.0})
    images = {
        ref: spec.model_copy(update={"pull_seconds": min(spec.pull_seconds, 5.0)})
        for ref, spec in scenario.registry.images.items()
    }
    registry = scenario.registry.model_copy(update={"images": images})
    return scenario.model_copy(update={"host": host, "registry": registry})


@pytest.fixture
def world() -> ServedWorld:
    scenario = quick_happy_path()
    # Warped, as the other end-to-end worlds: real git and kustomize work costs no virtual time.
    served = ServedWorld(
        scenario,
        skip_actors=scenario.bootstrap.skip_actors,
        node_ip=choose_node_address(),
        base_dir=SCENARIOS,
        warp=True,
    ).start()
    if served.bin_dir is None:
        served.stop()
        pytest.skip("the simulated world serves no fake talosctl")
    try:
        yield served
    finally:
        served.stop()


def fresh_args(world: ServedWorld, config_dir: Path) -> list[str]:
    return bootstrap_args(world, config_dir, "--dns-servers", "1.1.1.1,8.8.8.8")


def interrupted_run(world: ServedWorld, config_dir: Path, trigger: str, signum: int) -> str:
    """Run a fresh bootstrap and deliver `signum` as soon as it prints `trigger`.

    The run is a driver on the world's clock until it has exited; talosctl children that
    outlive a `kill -9` then wait on the machine's clock, as orphans of a real admin's shell do.
    """
    participant = world.participant("appliance bootstrap (interrupted)")
    assert participant is not None
    try:
        return _interrupt(world, config_dir, trigger, signum, participant.env)
    finally:
        participant.close()


def _interrupt(
    world: ServedWorld, config_dir: Path, trigger: str, signum: int, clock_env: dict[str, str]
) -> str:
    # kill -9 skips the official client's removal of its kubeconfig copies at exit: they go to
    # the test's folder, not the machine's /tmp.
    temporary = config_dir.parent / "tmp"
    temporary.mkdir(exist_ok=True)
    env = {**env_for(world), **clock_env, "PYTHONUNBUFFERED": "1", "TMPDIR": str(temporary)}
    lines: list[str] = []
    sent = False
    with (
        ctrl_c_as_in_a_terminal(),
        subprocess.Popen(
            [str(BIN / "appliance"), *fresh_args(world, config_dir)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a shell job would be
        ) as process,
    ):
        assert process.stdout is not None
        reading = UnreadOutput(process.stdout.fileno())
        # Warped, the rest of an install is a second of wall time: a reader that falls behind on
        # a busy machine would find the trigger after the run had ended. Until the signal is
        # sent, output not yet looked at keeps the clock still, as a human's reading would not
        # need to.
        assert world.warp is not None
        remove_probe = world.warp.add_probe(
            "the interrupting test reads the run's output", lambda: not sent and reading.behind()
        )
        watchdog = threading.Timer(WALL_TIMEOUT, process.kill)
        watchdog.start()
        try:
            for line in reading.lines():
                lines.append(line)
                if not sent and trigger in line:
                    # How the run stood to signals when it got this one, for a run that goes
                    # on as if it had not (seen once, in a fresh clone's full suite).
                    lines.append(
                        f"[test: sent {signal.Signals(signum).name}; {_signals(process.pid)}]\n"
                    )
                    if signum == signal.SIGKILL:
                        os.kill(process.pid, signal.SIGKILL)
                    else:
                        os.killpg(process.pid, signal.SIGINT)
                    sent = True
            process.wait(timeout=30)
        finally:
            remove_probe()
            watchdog.cancel()
    output = "".join(lines)
    assert sent, f"the run never printed {trigger!r}:\n{output}"
    return output


def _signals(pid: int) -> str:
    """The process's blocked, ignored and caught signal masks, as /proc shows them."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError as exc:
        return f"no /proc status ({exc.strerror})"
    return ", ".join(
        line.replace("\t", " ")
        for line in status.splitlines()
        if line.startswith(("SigBlk", "SigIgn", "SigCgt"))
    )


class UnreadOutput:
    """A pipe read line by line that knows whether output waits to be looked at: bytes in the
    pipe, or a chunk read and not yet handed out."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._handling = False

    def behind(self) -> bool:
        if self._handling:
            return True
        try:
            waiting: int = struct.unpack("i", fcntl.ioctl(self._fd, termios.FIONREAD, b"\0" * 4))[0]
        except OSError:  # closed: nothing more to read
            return False
        return waiting > 0

    def lines(self) -> Iterator[str]:
        pending = b""
        while True:
            select.select([self._fd], [], [])
            self._handling = True  # before the read: the bytes leave the pipe for our buffer
            chunk = os.read(self._fd, 65536)
            if not chunk:
                self._handling = False
                break
            *complete, pending = (pending + chunk).split(b"\n")
            for line in complete:
                yield line.decode(errors="replace") + "\n"
            self._handling = False
        if pending:
            yield pending.decode(errors="replace")


def file_digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def duplicates(world: ServedWorld) -> list[str]:
    """Objects made twice: a second ReplicaSet of an unchanged Deployment, extra pods."""
    found: list[str] = []
    owners: Counter[tuple[str, str]] = Counter()
    for rs in world.objects.list("apps/v1", "ReplicaSet", None, {}):
        if (rs.get("spec") or {}).get("replicas", 1):
            for ref in rs["metadata"].get("ownerReferences") or []:
                owners[(rs["metadata"]["namespace"], ref["name"])] += 1
    found.extend(
        f"Deployment {ns}/{name}: {n} live ReplicaSets" for (ns, name), n in owners.items() if n > 1
    )
    status_pods = world.pods("appliance-system", name="appliance-status")
    if len(status_pods) != 1:
        found.append(f"{len(status_pods)} appliance-status pods")
    repositories = world.objects.list("source.toolkit.fluxcd.io/v1", "GitRepository", None, {})
    if len(repositories) != 1:
        found.append(f"{len(repositories)} GitRepositories")
    return found


@pytest.mark.parametrize("how", list(SIGNALS))
@pytest.mark.parametrize(("point", "trigger"), POINTS, ids=[p for p, _ in POINTS])
def test_an_interrupted_fresh_install_is_recovered(
    world: ServedWorld, tmp_path: Path, point: str, trigger: str, how: str
) -> None:
    """Cut short at `point`, the install continues to login ready with the same token, the
    same machine config and no duplicates."""
    config_dir = tmp_path / "cfg"
    config_dir.mkdir()
    site = config_dir / SITE
    first = interrupted_run(world, config_dir, trigger, SIGNALS[how])
    if how == "sigint":
        assert "Failure layer: interrupted" in first, first
        assert "Traceback" not in first
        promised = "kubeconfig" in first.split("Next action:")[-1].split("(", 1)[-1]
        assert not promised or (site / "kubeconfig").is_file(), "promised a missing kubeconfig"
    token_file = site / "status-token"
    token = token_file.read_text().strip() if token_file.is_file() else None
    applied = world.talos is not None and world.talos.config is not None
    machine_config = file_digest(site / "controlplane.yaml") if applied else None

    recover = appliance(world, *fresh_args(world, config_dir), "--bootstrap-mode", "recover")
    if recover.returncode == 2 and "run --bootstrap-mode fresh" in recover.stderr:
        # Nothing was installed yet: the admin is told to run the same fresh command.
        assert not applied
        recover = appliance(world, *fresh_args(world, config_dir))
    output = recover.stdout + recover.stderr
    assert recover.returncode == 0, f"first run:\n{first}\nrecover:\n{output}"
    assert "LOGIN READY" in recover.stdout
    if token is not None:
        # The status UI block's rows are aligned to its longest label (`Sign-in link`).
        assert re.search(rf"^  Token +{re.escape(token)}$", recover.stdout, re.MULTILINE)
        assert secret(world, "appliance-system", "appliance-status-auth", "token") == token
    if machine_config is not None:
        assert file_digest(site / "controlplane.yaml") == machine_config
    assert world.talos is not None
    assert world.talos.config is not None
    assert world.talos.etcd_bootstrapped
    assert duplicates(world) == []
