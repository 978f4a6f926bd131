"""The simulator's own kubeconfig reading (`appliance-sim record` and `replay`, through
`simulator/replay/kubeclient.py`), which may not import the product's: the adversary's
kubeconfigs are one line there too, never a hang, a traceback or a quoted secret."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from simulator.errors import SimulatorError
from simulator.replay.kubeclient import KubeClient

ROOT = Path(__file__).resolve().parents[3]
SECRET = "hunter2-SECRET"


def _kubeconfig(user: object) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
        "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "x",
    }


EXEC_FAILS = _kubeconfig(
    {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": "false",
            "env": [{"name": "PASSWORD", "value": SECRET}],
        }
    }
)
OIDC_NOT_SIGNED_IN = _kubeconfig(
    {"password": SECRET, "auth-provider": {"name": "oidc", "config": {"client-secret": SECRET}}}
)


@pytest.mark.parametrize(
    ("name", "make", "said"),
    [
        ("fifo", os.mkfifo, "not a regular file"),
        ("dev-zero", lambda p: p.symlink_to("/dev/zero"), "not a regular file"),
        ("deep", lambda p: p.write_text("[" * 50_000), "nested too deeply"),
        ("oidc", lambda p: p.write_text(yaml.safe_dump(OIDC_NOT_SIGNED_IN)), "is not usable"),
        (
            "exec-plugin-fails",
            lambda p: p.write_text(yaml.safe_dump(EXEC_FAILS)),
            "getting the user's credentials failed: exec: process returned 1",
        ),
    ],
)
def test_a_bad_kubeconfig_is_one_reason_without_its_secrets(
    tmp_path: Path, name: str, make: object, said: str, capfd: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / name
    make(path)  # type: ignore[operator]
    with pytest.raises(SimulatorError) as refused:
        KubeClient(path)
    message = str(refused.value)
    assert said in message
    assert SECRET not in message
    assert len(message.splitlines()) == 1
    # Nothing besides: the client library logged a failed plugin on the root logger.
    assert capfd.readouterr().err == ""


def test_record_stops_at_a_failed_credential_plugin(tmp_path: Path) -> None:
    """As kubectl does, instead of recording with no credentials after a stray log line."""
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump(EXEC_FAILS))
    command = ["record", "--kubeconfig", str(kubeconfig), "--out", str(tmp_path / "recorded.yaml")]
    done = subprocess.run(
        [sys.executable, "-m", "simulator.cli", *command],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        f"appliance-sim record: kubeconfig {kubeconfig}: getting the user's credentials "
        "failed: exec: process returned 1"
    ]
    assert not (tmp_path / "recorded.yaml").exists()
