"""What a fake `talosctl` or `flux` run imports, started by its shim as the bootstrapper starts it.

Each run is a fresh interpreter (a test run starts ~700 talosctl and ~70 flux), so what a command
does not use must not be imported: the host model and the kind table (pydantic, dataclasses),
yaml for commands that read no YAML, `secrets` for commands that generate none, and `typing`.
Module sets only, never timings: `PYTHONPROFILEIMPORTTIME` makes the shim's own interpreter list
every module it imports on stderr.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from simulator.neighbours.shims import write_shims

# Nothing listens on port 1 of the loopback: the commands that connect fail fast, after their
# imports, with the real tools' connection errors.
_CLOSED = "127.0.0.1"
# Every run: no pydantic, no simulator model, no dataclasses (which import inspect), no typing,
# no runpy (the shims run `-c`, not `-m`).
_NEVER = {
    "runpy",
    "pydantic",
    "simulator.neighbours.talos",
    "simulator.api.kind_table",
    "simulator.api.kinds",
    "dataclasses",
    "typing",
}
_NO_GENERATION = {"secrets", "random", "copy"}  # only `gen config` makes keys and patches
# What a poll reads it reads with open(): pathlib (and urllib.parse) is for gen config.
_POLL_FREE = {"pathlib", "urllib.parse"}


def _imported(tool: Path, *args: str, cwd: Path) -> set[str]:
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1", "SIM_TALOS_PORT": "1"}
    env.pop("APPLIANCE_TEST_CLOCK", None)
    # The commands that connect fail (nothing listens): only what they imported is looked at.
    done = subprocess.run(
        [str(tool), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=60,
        check=False,
    )
    lines = [line for line in done.stderr.splitlines() if line.startswith("import time:")]
    assert lines, done.stderr  # the shim ran its interpreter with the import profile
    return {line.rsplit("|", 1)[1].strip() for line in lines[1:]}


@pytest.fixture
def shims(tmp_path: Path) -> dict[str, Path]:
    return write_shims(tmp_path / "bin")


def _talosconfig(tmp_path: Path) -> Path:
    path = tmp_path / "talosconfig"
    path.write_text(
        "context: a\ncontexts:\n  a:\n    endpoints: [127.0.0.1]\n    nodes: [127.0.0.1]\n"
        "    ca: Y2E=\n"
    )
    return path


@pytest.mark.parametrize(
    "args",
    [
        ["version", "--client"],
        ["get", "disks", "--insecure", "-n", _CLOSED, "-e", _CLOSED],
        ["apply-config", "--insecure", "-n", _CLOSED, "-e", _CLOSED, "--file", "talosconfig"],
        ["dmesg", "--insecure", "-n", _CLOSED, "-e", _CLOSED],
    ],
    ids=" ".join,
)
def test_talosctl_commands_without_a_talosconfig_import_no_yaml(
    shims: dict[str, Path], tmp_path: Path, args: list[str]
) -> None:
    _talosconfig(tmp_path)
    imported = _imported(shims["talosctl"], *args, cwd=tmp_path)
    assert "simulator.neighbours.talos_config" in imported  # the shim ran the fake
    assert not imported & (_NEVER | _NO_GENERATION | _POLL_FREE | {"yaml"})


@pytest.mark.parametrize("command", ["bootstrap", "health", "version"])
def test_talosctl_polls_with_a_talosconfig_import_yaml_and_nothing_heavier(
    shims: dict[str, Path], tmp_path: Path, command: str
) -> None:
    """The bootstrapper's polls: `--talosconfig FILE bootstrap|health -n IP -e IP`."""
    config = str(_talosconfig(tmp_path))
    args = ["--talosconfig", config, command, "-n", _CLOSED, "-e", _CLOSED]
    imported = _imported(shims["talosctl"], *args, cwd=tmp_path)
    assert {"yaml", "hashlib"} <= imported  # the talosconfig and its CA's fingerprint
    assert not imported & (_NEVER | _NO_GENERATION | _POLL_FREE)


def test_talosctl_gen_config_is_the_command_that_generates(
    shims: dict[str, Path], tmp_path: Path
) -> None:
    args = ["gen", "config", "a", "https://127.0.0.1:6443", "--output-dir", str(tmp_path / "out")]
    imported = _imported(shims["talosctl"], *args, cwd=tmp_path)
    assert {"yaml", "secrets"} <= imported
    assert not imported & _NEVER


def test_flux_version_client_imports_no_yaml(shims: dict[str, Path], tmp_path: Path) -> None:
    imported = _imported(shims["flux"], "version", "--client", cwd=tmp_path)
    assert "simulator.neighbours.api_connection" in imported  # the shim ran the fake
    assert not imported & (_NEVER | {"yaml", "tempfile"})


def test_flux_install_imports_no_kind_table(shims: dict[str, Path], tmp_path: Path) -> None:
    """`flux install` against a cluster that refuses: its manifests, YAML and the HTTP client."""
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: a\n"
        "clusters: [{name: a, cluster: {server: 'http://127.0.0.1:1'}}]\n"
        "contexts: [{name: a, context: {cluster: a, user: a}}]\n"
        "users: [{name: a, user: {token: t}}]\n"
    )
    imported = _imported(shims["flux"], "install", "--kubeconfig", str(kubeconfig), cwd=tmp_path)
    assert {"yaml", "http.client"} <= imported
    assert not imported & _NEVER
