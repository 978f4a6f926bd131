"""SIGTERM ends the product's long-running processes as their own stop does, and the kubeconfig's
credentials do not outlive them.

The official client copies a kubeconfig's CA, client certificate and client key into files in the
temporary folder and removes them at exit (atexit). Python's default SIGTERM skips atexit: every
`kill`, `timeout`, service manager's stop or simulator's end of a run left the admin's client
key in /tmp. Here each process gets its own temporary folder (TMPDIR), a kubeconfig that holds
all three, and SIGTERM once it serves or watches; the folder must be empty after.
"""

from __future__ import annotations

import base64
import datetime
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from appliance.clocking import TEST_CLOCK_ENV
from simulator.api import ApiServer
from simulator.api.store import ObjectStore
from simulator.api.tls import CertificateAuthority
from simulator.clock import VirtualClock
from simulator.neighbours.addresses import choose_node_address

BIN = Path(sys.executable).parent
pytestmark = pytest.mark.skipif(
    not (BIN / "appliance-status").exists(), reason="the CLIs are not installed (pip install -e .)"
)


def _client_credentials() -> tuple[bytes, bytes]:
    """A client certificate and its key (PEM), as a Talos admin kubeconfig holds them."""
    authority = CertificateAuthority("talos-ca")
    issued = authority.issue("admin", organizations=["os:admin"], client=True)
    return issued.cert_pem, issued.key_pem


@pytest.fixture(scope="module")
def kubeconfig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The fake API's admin kubeconfig (its CA as data), with client certificate data added."""
    api = ApiServer(ObjectStore(VirtualClock(datetime.datetime(2026, 4, 30, tzinfo=datetime.UTC))))
    api.start()
    try:
        config = api.kubeconfig()
        certificate, key = _client_credentials()
        user = config["users"][0]["user"]  # type: ignore[index]
        user["client-certificate-data"] = base64.b64encode(certificate).decode()
        user["client-key-data"] = base64.b64encode(key).decode()
        path = tmp_path_factory.mktemp("kubeconfig") / "admin.kubeconfig"
        path.write_text(yaml.safe_dump(config))
        path.chmod(0o600)
        yield path
    finally:
        api.stop()


class Ended:
    """How a process ended: its exit code and what it wrote."""

    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def _run_until_terminated(
    command: list[str],
    folder: Path,
    ready: Callable[[Path], bool],
    env: dict[str, str] | None = None,
) -> Ended:
    """Start `command` with its own TMPDIR (`folder/tmp`) and `env`, its output in
    `folder/out`, send SIGTERM once `ready(out)` and its credential copies are written, and say
    how it ended."""
    temporary, out, err = folder / "tmp", folder / "out", folder / "err"
    temporary.mkdir()
    env = {**os.environ, **(env or {}), "TMPDIR": str(temporary)}
    with out.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen(command, env=env, stdout=stdout, stderr=stderr, text=True)
    try:
        deadline = time.monotonic() + 60
        while not (len(list(temporary.iterdir())) >= 3 and ready(out)):
            assert process.poll() is None, err.read_text()
            assert time.monotonic() < deadline, f"not ready after 60 s: {err.read_text()}"
            time.sleep(0.1)
        copies = sorted(p.read_text().split("\n", 1)[0] for p in temporary.iterdir())
        assert "-----BEGIN PRIVATE KEY-----" in copies  # the premise: the key is on disk
        process.send_signal(signal.SIGTERM)
        returncode = process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return Ended(returncode, out.read_text(), err.read_text())


def _status_service(kubeconfig: Path, folder: Path) -> tuple[list[str], str]:
    """The command that serves the status service on a free loopback address, and its host."""
    host = choose_node_address(ports=(8080,))
    token = folder / "token"
    token.write_text("a-status-token-long-enough-for-the-service-0123456789\n")
    token.chmod(0o600)
    command = [str(BIN / "appliance-status"), "serve", "--host", host, "--port", "8080"]
    return [*command, "--kubeconfig", str(kubeconfig), "--token-file", str(token)], host


def test_the_status_service_stops_on_sigterm_and_leaves_no_credentials(
    kubeconfig: Path, tmp_path: Path
) -> None:
    """Exit 0, as its --help says of SIGTERM, after a graceful stop; nothing left in TMPDIR."""
    command, host = _status_service(kubeconfig, tmp_path)

    def serving(out: Path) -> bool:
        try:
            return httpx.get(f"http://{host}:8080/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    done = _run_until_terminated(command, tmp_path, serving)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_watching_status_command_ends_interrupted_on_sigterm_and_leaves_no_credentials(
    kubeconfig: Path, tmp_path: Path
) -> None:
    """`appliance status --watch` (any `appliance` command) takes SIGTERM as Ctrl-C: one line,
    exit 130; nothing left in TMPDIR."""
    command = [str(BIN / "appliance"), "status", "--watch", "--kubeconfig", str(kubeconfig)]
    done = _run_until_terminated(command, tmp_path, lambda out: out.stat().st_size > 0)
    assert done.returncode == 130, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "appliance status: interrupted"
    assert "Traceback" not in done.stderr
    assert list((tmp_path / "tmp").iterdir()) == []


def test_the_status_service_interrupted_before_it_serves_leaves_no_credentials(
    kubeconfig: Path, tmp_path: Path
) -> None:
    """SIGTERM after it has loaded the kubeconfig and before it serves: one line, exit 130, as
    Ctrl-C there; nothing left in TMPDIR. It was Python's default before: killed on the spot,
    the client key left behind. To hold it there, its test clock switch names an endpoint that
    takes the connection and never answers: the last step before serving tells that clock the
    main thread is done (`clock.release()`), and waits for the answer."""
    silent = socket.create_server(("127.0.0.1", 0))  # listens, never accepts nor answers
    clock = f"http://127.0.0.1:{silent.getsockname()[1]}/leases/held"
    command, _ = _status_service(kubeconfig, tmp_path)
    try:
        done = _run_until_terminated(
            command, tmp_path, lambda out: True, env={TEST_CLOCK_ENV: clock}
        )
    finally:
        silent.close()
    assert "serving on" not in done.stderr  # the premise: stopped before it served
    assert done.returncode == 130, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "appliance-status: interrupted"
    assert "Traceback" not in done.stderr
    assert list((tmp_path / "tmp").iterdir()) == []
