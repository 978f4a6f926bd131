"""A kubeconfig is read safely (appliance/cluster/kubeconfig.py): what an adversary's fuzzing
found taking memory without end, hanging, tracebacks and credentials on stderr is now one line,
exit 2, through `appliance status` as an admin runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from appliance.cluster.kubeconfig import load_kubeconfig
from appliance.errors import ClusterError

ROOT = Path(__file__).resolve().parents[3]
SECRET = "hunter2-SECRET"


def _kubeconfig(cluster: object = None, user: object = None, **top: object) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": cluster or {"server": "https://127.0.0.1:1"}}],
        "users": [{"name": "u", "user": user if user is not None else {"token": "t"}}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "x",
        **top,
    }


def _status(tmp_path: Path, kubeconfig: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "appliance.cli", "status", "--kubeconfig", kubeconfig],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("name", "document", "said"),
    [
        (
            "oidc-not-signed-in",
            _kubeconfig(
                user={
                    "password": SECRET,
                    "auth-provider": {"name": "oidc", "config": {"client-secret": SECRET}},
                }
            ),
            "Expected key id-token",
        ),
        ("server-number", _kubeconfig(cluster={"server": 12345}), "server is not an https://"),
        ("server-ipv6", _kubeconfig(cluster={"server": "https://[::1"}), "server is not an"),
        ("user-string", _kubeconfig(user="x"), "users[0].user is not a map"),
        ("token-file-device", _kubeconfig(user={"tokenFile": "/dev/zero"}), "a character device"),
        ("deep", None, "nested too deeply"),
        (
            # The client library logged `ERROR:root:exec: process returned 1` and went on
            # without credentials; kubectl stops at a failed credential plugin.
            "exec-plugin-fails",
            _kubeconfig(
                user={
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1",
                        "command": "false",
                        "env": [{"name": "PASSWORD", "value": SECRET}],
                    }
                }
            ),
            "getting the user's credentials failed: exec: process returned 1",
        ),
        (
            "insecure-text",
            _kubeconfig(cluster={"server": "https://a:6443", "insecure-skip-tls-verify": "no"}),
            "insecure-skip-tls-verify is not true or false",
        ),
    ],
)
def test_a_bad_kubeconfig_is_one_line_without_its_secrets(
    tmp_path: Path, name: str, document: object, said: str
) -> None:
    path = tmp_path / f"{name}.yaml"
    if document is None:
        path.write_text("[" * 50_000)
    else:
        path.write_text(yaml.safe_dump(document))
    done = _status(tmp_path, path.name)
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert said in done.stderr
    assert SECRET not in done.stderr


def test_what_is_no_regular_file_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for target, what in ((fifo, "a FIFO"), (Path("/dev/zero"), "a character device")):
        done = _status(tmp_path, str(target))
        assert done.returncode == 2
        assert f"kubeconfig {target} is {what}" in done.stderr


def test_credential_files_are_found_beside_the_kubeconfig(tmp_path: Path) -> None:
    (tmp_path / "ca.crt").write_text("not checked here")
    path = tmp_path / "config"
    path.write_text(
        yaml.safe_dump(
            _kubeconfig(cluster={"server": "https://a:6443", "certificate-authority": "ca.crt"})
        )
    )
    loaded = load_kubeconfig(path)
    assert loaded["clusters"][0]["cluster"]["certificate-authority"] == str(tmp_path / "ca.crt")
    path.write_text(
        yaml.safe_dump(_kubeconfig(cluster={"server": "https://a:6443", "proxy-url": "ftp://p"}))
    )
    with pytest.raises(ClusterError, match="proxy-url is not an http"):
        load_kubeconfig(path)
