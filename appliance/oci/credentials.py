"""Registry credentials from the admin's Docker config, where `docker login` put them.

The file is `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. For a registry host, as the
Docker CLI looks it up:
1. `credHelpers[<host>]`, else `credsStore`: the helper `docker-credential-<name> get` is asked
   (server URL on stdin, `{"Username", "Secret"}` on stdout; Username `<token>` means Secret is an
   identity token). A helper that is not installed, or that has nothing for the host, is skipped.
2. `auths[<host>]`: `auth` (base64 `user:password`) or `username`/`password`, `identitytoken`
   (an OAuth2 refresh token) and `registrytoken` (a bearer token used as is).
Keys match by host, with or without scheme and path (`https://ghcr.io` is `ghcr.io`); Docker
Hub's images (`docker.io`) use the key `https://index.docker.io/v1/`.

Secrets never appear in messages or logs; a credential's `source` says where it came from.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.errors import InputError, RegistryError
from appliance.files import read_regular

__all__ = ["Credential", "CredentialsError", "DockerCredentials", "docker_config_path"]

DOCKER_HUB_SERVER = "https://index.docker.io/v1/"
_DOCKER_HUB_HOSTS = {"docker.io", "index.docker.io", "registry-1.docker.io"}
_HELPER_TIMEOUT = 30.0
_NOT_FOUND = "credentials not found"

HelperRunner = Callable[[list[str], str], subprocess.CompletedProcess[str]]


class CredentialsError(InputError):
    """The Docker config cannot be used; the message names the file, the field and the reason."""


@dataclass(frozen=True)
class Credential:
    """What the admin logged in with for one registry (empty fields are absent)."""

    source: str
    username: str = ""
    password: str = field(default="", repr=False)
    identity_token: str = field(default="", repr=False)
    registry_token: str = field(default="", repr=False)

    @property
    def basic(self) -> str:
        """The `Authorization: Basic` value."""
        return base64.b64encode(f"{self.username}:{self.password}".encode()).decode()


_CONFIG_LIMIT = 4 * 1024 * 1024  # credentials for many registries fit in a few KiB


def docker_config_path(env: Mapping[str, str] | None = None) -> Path:
    """`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`."""
    env = os.environ if env is None else env
    directory = env.get("DOCKER_CONFIG")
    root = Path(directory) if directory else Path.home() / ".docker"
    return root / "config.json"


def _run_helper(command: list[str], server: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, input=server, capture_output=True, text=True, check=False, timeout=_HELPER_TIMEOUT
    )


def _hostname(key: str) -> str:
    """Docker's ConvertToHostname: drop the scheme and any path."""
    for scheme in ("https://", "http://"):
        if key.startswith(scheme):
            key = key[len(scheme) :]
    return key.split("/", 1)[0]


def _same_host(key: str, host: str) -> bool:
    name = _hostname(key)
    if host in _DOCKER_HUB_HOSTS:
        return name in _DOCKER_HUB_HOSTS
    return name == host


class DockerCredentials:
    """Credentials per registry host from one Docker config file (read once, on first use)."""

    def __init__(
        self,
        path: Path | None = None,
        *,
        env: Mapping[str, str] | None = None,
        run_helper: HelperRunner = _run_helper,
        which: Callable[[str], str | None] = shutil.which,
    ) -> None:
        self.path = path or docker_config_path(env)
        self._run_helper = run_helper
        self._which = which
        self._config: dict[str, Any] | None = None

    def _load(self) -> dict[str, Any]:
        if self._config is None:
            if not self.path.exists() and not self.path.is_symlink():
                text = "{}"  # never logged in: anonymous access only
            else:
                # A FIFO, /dev/urandom or a directory is an error, not a hang or a memory sink.
                data = read_regular(
                    self.path, what="Docker config", limit=_CONFIG_LIMIT, error=CredentialsError
                )
                text = data.decode("utf-8", errors="replace")
            try:
                config = json.loads(text) if text.strip() else {}
            except ValueError as exc:
                raise CredentialsError(f"{self.path}: not valid JSON: {exc}") from exc
            except RecursionError:
                raise CredentialsError(
                    f"{self.path}: nested too deeply to be a Docker config"
                ) from None
            if not isinstance(config, dict):
                raise CredentialsError(f"{self.path}: must hold a JSON object")
            self._config = config
        return self._config

    def _section(self, name: str) -> dict[str, Any]:
        value = self._load().get(name)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise CredentialsError(f"{self.path}: {name}: must be an object")
        return value

    def for_host(self, host: str) -> Credential | None:
        """The credential for a registry host (`ghcr.io`, `docker.io`, `127.0.0.1:5000`)."""
        helpers = self._section("credHelpers")
        helper = next((str(v) for k, v in helpers.items() if _same_host(k, host)), None)
        store = self._load().get("credsStore")
        if helper is None and isinstance(store, str) and store:
            helper = store
        if helper:
            found = self._from_helper(helper, host)
            if found is not None:
                return found
        auths = self._section("auths")
        for key, entry in auths.items():
            if _same_host(key, host):
                return self._from_entry(key, entry)
        return None

    def _from_entry(self, key: str, entry: Any) -> Credential | None:
        where = f"{self.path}: auths.{key}"
        if not isinstance(entry, dict):
            raise CredentialsError(f"{where}: must be an object")
        username, password = str(entry.get("username") or ""), str(entry.get("password") or "")
        if entry.get("auth"):
            try:
                decoded = base64.b64decode(str(entry["auth"]), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError) as exc:
                raise CredentialsError(f"{where}.auth: not base64: {exc}") from exc
            username, sep, password = decoded.partition(":")
            if not sep:
                raise CredentialsError(f"{where}.auth: not base64 of user:password")
        found = Credential(
            source=where,
            username=username,
            password=password,
            identity_token=str(entry.get("identitytoken") or ""),
            registry_token=str(entry.get("registrytoken") or ""),
        )
        usable = found.username or found.identity_token or found.registry_token
        return found if usable else None

    def _from_helper(self, name: str, host: str) -> Credential | None:
        program = f"docker-credential-{name}"
        executable = self._which(program)
        if executable is None:
            return None  # configured but not installed here: fall back to `auths`
        server = DOCKER_HUB_SERVER if host in _DOCKER_HUB_HOSTS else host
        try:
            done = self._run_helper([executable, "get"], server)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise RegistryError(f"credential helper {program} did not answer: {exc}") from exc
        if done.returncode != 0:
            output = (done.stdout + done.stderr).strip()
            if _NOT_FOUND in output.lower():
                return None
            raise RegistryError(f"credential helper {program} failed for {host}: {output[-200:]}")
        try:
            answer = json.loads(done.stdout)
            username, secret = str(answer.get("Username") or ""), str(answer.get("Secret") or "")
        except (ValueError, AttributeError) as exc:
            raise RegistryError(f"credential helper {program} answered no JSON object") from exc
        source = f"credential helper {program}"
        if username == "<token>":
            return Credential(source=source, identity_token=secret)
        return Credential(source=source, username=username, password=secret)
