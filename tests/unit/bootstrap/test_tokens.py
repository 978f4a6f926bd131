"""T013: the status token is generated once, persisted 0600 and reused."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from appliance.tokens import ensure_status_token, generate_token, token_path


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
