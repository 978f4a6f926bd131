"""`appliance-status`: where the token comes from, and errors as one line."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from status_web.cli import TOKEN_ENV, main, read_token
from status_web.errors import StatusWebError


def test_token_file_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--token-file is preferred over the environment."""
    file = tmp_path / "token"
    file.write_text("from-file\n")
    monkeypatch.setenv(TOKEN_ENV, "from-env")
    assert read_token(file).current() == "from-file"


def test_env_then_mounted_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a file the env var is used, else the mounted Secret."""
    mounted = tmp_path / "token"
    mounted.write_text("from-secret")
    monkeypatch.setenv(TOKEN_ENV, "from-env")
    assert read_token(None, mounted=mounted).current() == "from-env"
    monkeypatch.delenv(TOKEN_ENV)
    assert read_token(None, mounted=mounted).current() == "from-secret"


def test_no_token_says_where_to_put_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With no token anywhere, the error names every place one can come from."""
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    with pytest.raises(StatusWebError, match=r"--token-file.*APPLIANCE_STATUS_TOKEN"):
        read_token(None, mounted=tmp_path / "absent")


def test_empty_token_file_is_an_error(tmp_path: Path) -> None:
    """An empty token file is refused with its path in the message."""
    file = tmp_path / "token"
    file.write_text("\n")
    with pytest.raises(StatusWebError, match="is empty"):
        read_token(file)


def test_serve_with_bad_kubeconfig_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A missing kubeconfig is one line on stderr and exit code 2, and never shows the token."""
    monkeypatch.setenv(TOKEN_ENV, "s3cret")
    code = main(["serve", "--kubeconfig", str(tmp_path / "nope"), "--port", "0"])
    err = capsys.readouterr().err
    assert code == 2
    assert "does not exist" in err
    assert "s3cret" not in err


@pytest.mark.parametrize("kind", ["binary", "fifo", "dev-zero"])
def test_serve_with_an_unusable_token_file_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    """Issue 9 items 10 and 13: a binary token file, a FIFO with no writer or /dev/zero is one
    line naming the file and the reason, exit 2; never a traceback or a hang."""
    token = tmp_path / "token"
    if kind == "binary":
        token.write_bytes(b"\xff\xfe\x00token")
    elif kind == "fifo":
        os.mkfifo(token)
    else:
        token.symlink_to("/dev/zero")
    code = main(["serve", "--token-file", str(token), "--port", "0", "--host", "127.0.0.1"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1, err
    assert err.startswith(f"appliance-status: token file {token} ")


def test_serve_on_a_port_in_use_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 9 item 11: `port N on HOST is in use`, exit 2, not uvicorn's log."""
    monkeypatch.setenv(TOKEN_ENV, "s3cret")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = main(["serve", "--host", "127.0.0.1", "--port", str(port)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1, err
    assert f"appliance-status: port {port} on 127.0.0.1 is in use" in err


def test_version_exit_codes_and_completion(capsys: pytest.CaptureFixture[str]) -> None:
    """`appliance-status` follows the CLI conventions: --version, exit codes, completion."""
    for argv in (["--version"], ["serve", "--version"]):
        with pytest.raises(SystemExit) as exited:
            main(argv)
        assert exited.value.code == 0
        assert capsys.readouterr().out.startswith("appliance-status ")
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    assert "exit codes:\n    0  stopped" in capsys.readouterr().out
    assert main(["completion", "bash"]) == 0
    assert "appliance-status" in capsys.readouterr().out
