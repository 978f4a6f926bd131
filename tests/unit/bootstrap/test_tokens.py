"""T013: the status token is generated once, persisted 0600 and reused."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from appliance.errors import TokenError
from appliance.tokens import ensure_status_token, generate_token, token_path

ROOT = Path(__file__).resolve().parents[3]


def test_token_is_persisted_with_mode_0600(tmp_path: Path) -> None:
    """A new token is written to <config-dir>/<site-id>/status-token, readable by owner only."""
    token = ensure_status_token(tmp_path, site_id="site-a")
    assert token.created
    assert token.path == tmp_path / "site-a" / "status-token"
    assert token.path.read_text().strip() == token.value
    assert stat.S_IMODE(token.path.stat().st_mode) == 0o600


def test_existing_token_is_reused(tmp_path: Path) -> None:
    """A rerun prints the same token instead of minting a new one."""
    first = ensure_status_token(tmp_path, site_id="site-a")
    second = ensure_status_token(tmp_path, site_id="site-a")
    assert not second.created
    assert second.value == first.value


def test_loose_mode_is_tightened_on_reuse(tmp_path: Path) -> None:
    """A token file copied in world-readable is chmod-ed back to 0600."""
    path = token_path(tmp_path, site_id="s")
    path.parent.mkdir(parents=True)
    path.write_text("abc\n")
    path.chmod(0o644)
    assert ensure_status_token(tmp_path, site_id="s").value == "abc"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    """A dry run returns a token but leaves no file behind."""
    token = ensure_status_token(tmp_path, site_id="s", dry_run=True)
    assert token.value
    assert not token.path.exists()


def test_generated_tokens_never_start_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    """A token starting with `-` would read as an option in `--status-token TOKEN`."""
    draws = iter(["-starts-with-dash", "Abc_def-123"])
    monkeypatch.setattr("appliance.tokens.secrets.token_urlsafe", lambda _n: next(draws))
    assert generate_token() == "Abc_def-123"


def _unusable(kind: str, path: Path) -> None:
    """Make `path` a token file an unlucky admin could have: binary, a FIFO, /dev/zero, huge."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "binary":
        path.write_bytes(b"\xff\xfe\x00\x01token")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    elif kind == "huge":
        path.write_bytes(b"a" * 100_000)
    elif kind == "two-lines":
        path.write_text("first\nsecond\n")
    elif kind == "directory":
        path.mkdir()


UNUSABLE = ["binary", "fifo", "dev-zero", "huge", "two-lines", "directory"]


@pytest.mark.parametrize("kind", UNUSABLE)
def test_an_unusable_token_file_is_one_line_naming_it(tmp_path: Path, kind: str) -> None:
    """Issue 9 item 10: never a UnicodeDecodeError, a hang or an endless read: a TokenError
    (exit 2) whose one line names the file and the reason."""
    path = token_path(tmp_path, site_id="site-a")
    _unusable(kind, path)
    with pytest.raises(TokenError) as caught:
        ensure_status_token(tmp_path, site_id="site-a")
    assert str(path) in caught.value.one_line()
    assert "\n" not in str(caught.value)
    assert caught.value.exit_code == 2


def test_bootstrap_with_a_binary_token_file_exits_2_with_the_reason(tmp_path: Path) -> None:
    """The real CLI: the error names the file and the reason, no traceback, exit 2."""
    path = token_path(tmp_path, site_id="appliance-single-node")
    _unusable("binary", path)
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "appliance"),
            "bootstrap",
            "--release-version",
            "1.0-rc5",
            "--node-ip",
            "192.0.2.10",
            "--config-dir",
            str(tmp_path),
            "--dry-run",
            "--skip-image-tag-validation",
            "--repo-url",
            str(ROOT),
            "--branch-override",
            "main",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert f"ERROR: status token {path} is not UTF-8 text" in output
    assert "Traceback" not in output
