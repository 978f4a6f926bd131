"""The status service token: generated once per site, persisted 0600, reused on every rerun.

A rerun (recover mode, an interrupted bootstrap) must print the same token the admin already
has, so the token lives at `<config-dir>/<site-id>/status-token` and is only generated when
that file is absent (F006, T013).
"""

from __future__ import annotations

import secrets
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from appliance.errors import TokenError
from appliance.files import read_regular, write_private

__all__ = [
    "TOKEN_ENV",
    "TOKEN_FILE_LIMIT",
    "StatusToken",
    "TokenError",
    "ensure_status_token",
    "generate_token",
    "read_token_file",
    "token_path",
]

_TOKEN_BYTES = 32
# A token is a line of text; anything bigger than this is not a token file.
TOKEN_FILE_LIMIT = 4096
# Where a process finds the token when no file is named (never a command-line argument).
TOKEN_ENV = "APPLIANCE_STATUS_TOKEN"  # noqa: S105 - the variable's name, not a secret


@dataclass(frozen=True)
class StatusToken:
    """A status token and where it is kept."""

    value: str
    path: Path
    created: bool


def generate_token() -> str:
    """A fresh URL-safe token (256 bits) that never starts with `-`.

    One URL-safe token in 64 starts with `-`, and then `--status-token $(cat status-token)` is
    read by every argparse-style CLI as a missing value followed by an unknown option.
    """
    while True:
        token = secrets.token_urlsafe(_TOKEN_BYTES)
        if not token.startswith("-"):
            return token


def token_path(config_dir: Path, *, site_id: str) -> Path:
    """Where a site's status token lives."""
    return config_dir / site_id / "status-token"


def read_token_file(
    path: Path, *, error: Callable[[str], Exception] = TokenError, what: str = "status token"
) -> str:
    """The token in `path`: UTF-8 text, one line, surrounding whitespace dropped; "" if empty.

    A FIFO, a device, a binary file or a file over TOKEN_FILE_LIMIT is `error` naming the file and
    the reason, never a hang or a traceback.
    """
    data = read_regular(path, what=what, limit=TOKEN_FILE_LIMIT, error=error)
    try:
        value = data.decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        raise error(
            f"{what} {path} is not UTF-8 text (byte {exc.start}); write the token as text "
            "or delete the file to generate a new one"
        ) from None
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
        raise error(
            f"{what} {path} has control characters or several lines; a token is one line of text"
        )
    return value


def ensure_status_token(config_dir: Path, *, site_id: str, dry_run: bool = False) -> StatusToken:
    """Reuse the site's token if present, else generate and persist one (mode 0600).

    In dry-run a missing token is generated but not written, so a dry run leaves no trace.
    """
    path = token_path(config_dir, site_id=site_id)
    if path.exists() or path.is_symlink():
        value = read_token_file(path)
        if value:
            # Tighten a token a user copied in with a loose mode.
            if not dry_run and stat.S_IMODE(path.stat().st_mode) != 0o600:
                path.chmod(0o600)
            return StatusToken(value=value, path=path, created=False)
    value = generate_token()
    if dry_run:
        return StatusToken(value=value, path=path, created=True)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # 0600 from the start, and whole or not at all: a kill never leaves half a token.
        write_private(path, value + "\n")
    except OSError as exc:
        raise TokenError(
            f"status token {path} cannot be written ({exc.strerror}); check --config-dir"
        ) from exc
    return StatusToken(value=value, path=path, created=True)
