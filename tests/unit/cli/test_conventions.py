"""The kubectl/flux conventions on every `appliance` command: --version, exit codes, completion."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.cli import build_parser, main
from appliance.command_line import package_version

APPLIANCE = Path(sys.executable).parent / "appliance"


def _commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, (*path, name))


COMMANDS = [path for path, _ in _commands(build_parser())]


@pytest.mark.parametrize("path", COMMANDS, ids=lambda path: " ".join(path) or "appliance")
def test_every_command_prints_its_version(
    path: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    """`appliance [command...] --version` prints the installed version and exits 0."""
    with pytest.raises(SystemExit) as exited:
        main([*path, "--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"appliance {package_version()}"


@pytest.mark.parametrize("path", COMMANDS, ids=lambda path: " ".join(path) or "appliance")
def test_every_command_lists_its_exit_codes(path: tuple[str, ...]) -> None:
    """The help of every command ends with what each exit code means."""
    parser = dict(_commands(build_parser()))[path]
    if path == ("completion",):
        return  # prints a script; it has no failure of its own
    text = parser.format_help()
    assert "exit codes:" in text
    assert "\n    0  " in text or "\n  0  " in text


def test_completion_script_and_a_real_completion(tmp_path: Path) -> None:
    """`appliance completion bash` prints argcomplete's script; the completer answers."""
    script = subprocess.run(
        [str(APPLIANCE), "completion", "bash"], capture_output=True, text=True, check=True
    ).stdout
    assert "complete " in script
    assert "appliance" in script
    answer = tmp_path / "answer"
    env = {
        **os.environ,
        "_ARGCOMPLETE": "1",
        "COMP_LINE": "appliance status --wa",
        "COMP_POINT": str(len("appliance status --wa")),
        "_ARGCOMPLETE_STDOUT_FILENAME": str(answer),
    }
    subprocess.run([str(APPLIANCE)], env=env, check=True, timeout=60)
    assert answer.read_text().split() == ["--watch"]


def test_secrets_on_the_command_line_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """The old `--token VALUE` exits 2 and says how to pass the token instead."""
    with pytest.raises(SystemExit) as exited:
        main(
            [
                "smoke",
                "monitor",
                "--status-url",
                "http://x",
                "--app-url",
                "http://y",
                "--token",
                "t",
            ]
        )
    assert exited.value.code == 2
    assert "--token-file FILE or set $APPLIANCE_STATUS_TOKEN" in capsys.readouterr().err


def test_the_bootstrapper_loads_the_kubernetes_client_only_to_talk_to_a_cluster() -> None:
    """Importing the bootstrap command (every `appliance bootstrap` run, including one that
    stops in the host layer before any cluster exists) does not import `kubernetes`, a quarter
    of a second of start-up; connecting does."""
    probe = (
        "import sys, appliance.bootstrap.running, appliance.cluster\n"
        "print('kubernetes' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("command", "argv", "said"),
    [
        ("appliance", ["status", "--interval", "nan"], "'nan' must be 1e-06 to 3600 seconds"),
        ("appliance", ["smoke", "monitor", "--status-url", "http://[::1"], "is not a URL"),
        (
            "appliance",
            ["smoke", "verify", "--node-ip", "192.0.2.1", "--settle", "1e999"],
            "--settle",
        ),
        ("appliance", ["smoke", "verify", "--node-ip", "999.9.9.9"], "is not an IP address"),
        ("appliance", ["bootstrap", "--bogus"], "the following arguments are required"),
        ("appliance-status", ["serve", "--port", "70000"], "is not a port"),
        ("appliance-status", ["serve", "--interval", "0"], "must be a positive duration"),
        ("appliance-status", ["serve", "--session-max-age", "1e300"], "longer than 30 days"),
        ("appliance-status", ["serve", "--max-connections-per-address", "0"], "at least 1"),
        ("appliance-sim", ["run", "scenarios/happy-path.yaml", "--speed", "nan"], "--speed"),
        ("appliance-sim", ["replay", "s.yaml", "--kubeconfig", "k", "--speed", "-1"], "--speed"),
        (
            "appliance-sim",
            ["run", "scenarios/happy-path.yaml", "--kubeconfig-out", "docs"],
            "is a directory",
        ),
        (
            "appliance-sim",
            ["record", "--kubeconfig", "k", "--out", "/dev/full"],
            "not a regular file",
        ),
    ],
)
def test_a_bad_flag_is_one_line_and_exit_2(command: str, argv: list[str], said: str) -> None:
    """An adversary found zero intervals spinning a core, nan timeouts never ending, URLs and
    ports that ended in tracebacks, and every usage error printing the whole usage block."""
    done = subprocess.run(
        [str(Path(sys.executable).parent / command), *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert said in done.stderr
    assert done.stderr.endswith(" --help)\n")
