"""Where `appliance smoke` finds the status token: a file, the environment, the site's file."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from appliance.errors import TokenError
from appliance.smoke.command import status_token


def _args(tmp_path: Path, token_file: Path | None = None) -> argparse.Namespace:
    return argparse.Namespace(
        token_file=token_file, config_dir=tmp_path / "config", site_id="site-a"
    )


def test_token_file_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--token-file is read (one line, whitespace dropped) even when the variable is set."""
    monkeypatch.setenv("APPLIANCE_STATUS_TOKEN", "from-env")
    path = tmp_path / "token"
    path.write_text("from-file\n")
    assert status_token(_args(tmp_path, path)) == "from-file"


def test_environment_then_site_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """$APPLIANCE_STATUS_TOKEN, else the token bootstrap wrote for the site (said on stderr)."""
    site = tmp_path / "config" / "site-a"
    site.mkdir(parents=True)
    (site / "status-token").write_text("from-site\n")
    monkeypatch.setenv("APPLIANCE_STATUS_TOKEN", "from-env")
    assert status_token(_args(tmp_path)) == "from-env"
    monkeypatch.delenv("APPLIANCE_STATUS_TOKEN")
    assert status_token(_args(tmp_path)) == "from-site"
    assert f"using the site token file {site / 'status-token'}" in capsys.readouterr().err


def test_no_token_anywhere_says_how_to_give_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing found: an input error (exit 2) naming the three ways."""
    monkeypatch.delenv("APPLIANCE_STATUS_TOKEN", raising=False)
    with pytest.raises(TokenError, match=r"--token-file FILE or set \$APPLIANCE_STATUS_TOKEN"):
        status_token(_args(tmp_path))
    with pytest.raises(TokenError, match="does not exist"):
        status_token(_args(tmp_path, tmp_path / "missing"))
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(TokenError, match="is empty"):
        status_token(_args(tmp_path, empty))
