"""Registry credentials from the admin's Docker config: auths, credHelpers, credsStore."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from appliance.errors import InputError, RegistryError
from appliance.oci import CredentialsError, DockerCredentials
from appliance.oci.credentials import docker_config_path


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _config(tmp_path: Path, content: dict[str, Any] | str) -> Path:
    path = tmp_path / "config.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def _helper(bin_dir: Path, name: str, script: str) -> None:
    """A real `docker-credential-<name>` executable on `bin_dir` (the helper protocol)."""
    bin_dir.mkdir(exist_ok=True)
    path = bin_dir / f"docker-credential-{name}"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


@pytest.fixture
def bin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "bin"
    directory.mkdir()
    monkeypatch.setenv("PATH", f"{directory}:/usr/bin:/bin")
    return directory


def test_the_config_location_follows_docker_config(tmp_path: Path) -> None:
    """$DOCKER_CONFIG wins; without it the file is ~/.docker/config.json."""
    assert docker_config_path({"DOCKER_CONFIG": str(tmp_path)}) == tmp_path / "config.json"
    assert docker_config_path({}) == Path.home() / ".docker" / "config.json"


@pytest.mark.parametrize("key", ["ghcr.io", "https://ghcr.io", "https://ghcr.io/v2/"])
def test_auths_auth_is_base64_user_and_password(tmp_path: Path, key: str) -> None:
    """`auth` decodes to user:password (a password may hold colons); keys match by host."""
    path = _config(tmp_path, {"auths": {key: {"auth": _b64("ops:pa:ss")}}})
    found = DockerCredentials(path).for_host("ghcr.io")
    assert found is not None
    assert (found.username, found.password) == ("ops", "pa:ss")
    assert DockerCredentials(path).for_host("quay.io") is None


def test_docker_hub_uses_the_index_key(tmp_path: Path) -> None:
    """Images on docker.io (API registry-1.docker.io) use `https://index.docker.io/v1/`."""
    path = _config(tmp_path, {"auths": {"https://index.docker.io/v1/": {"auth": _b64("me:pw")}}})
    for host in ("docker.io", "registry-1.docker.io"):
        found = DockerCredentials(path).for_host(host)
        assert found is not None
        assert found.username == "me"


def test_identity_and_registry_tokens(tmp_path: Path) -> None:
    """`identitytoken` (OAuth2 refresh token) and `registrytoken` are kept apart from passwords."""
    path = _config(
        tmp_path,
        {
            "auths": {
                "a.example": {"identitytoken": "refresh-1"},
                "b.example": {"registrytoken": "bearer-2"},
                "c.example": {"email": "only@example.com"},
            }
        },
    )
    creds = DockerCredentials(path)
    a, b = creds.for_host("a.example"), creds.for_host("b.example")
    assert a is not None
    assert b is not None
    assert (a.identity_token, a.username) == ("refresh-1", "")
    assert b.registry_token == "bearer-2"
    assert creds.for_host("c.example") is None  # nothing usable to log in with


def test_secrets_stay_out_of_the_repr(tmp_path: Path) -> None:
    """A credential printed in a traceback or log shows where it came from, not the secret."""
    path = _config(tmp_path, {"auths": {"ghcr.io": {"auth": _b64("ops:hunter2")}}})
    found = DockerCredentials(path).for_host("ghcr.io")
    assert "hunter2" not in repr(found)
    assert "auths.ghcr.io" in repr(found)


def test_a_missing_config_means_no_credentials(tmp_path: Path) -> None:
    """An admin who never ran `docker login` pulls anonymously."""
    assert DockerCredentials(tmp_path / "absent.json").for_host("ghcr.io") is None


@pytest.mark.parametrize(
    ("content", "where"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "must hold a JSON object"),
        ({"auths": []}, "auths: must be an object"),
        ({"auths": {"ghcr.io": {"auth": "%%%"}}}, "auths.ghcr.io.auth: not base64"),
        ({"auths": {"ghcr.io": {"auth": _b64("nocolon")}}}, "auths.ghcr.io.auth: not base64 of"),
    ],
)
def test_a_broken_config_names_file_field_and_reason(
    tmp_path: Path, content: dict[str, Any] | str, where: str
) -> None:
    """Bad input is an InputError (exit 2) naming the file and the field."""
    path = _config(tmp_path, content)
    with pytest.raises(CredentialsError) as raised:
        DockerCredentials(path).for_host("ghcr.io")
    assert isinstance(raised.value, InputError)
    assert str(path) in str(raised.value)
    assert where in str(raised.value)


def test_cred_helpers_are_asked_with_the_server_on_stdin(tmp_path: Path, bin_dir: Path) -> None:
    """`credHelpers[host]` runs `docker-credential-<name> get`; its answer is the credential."""
    log = tmp_path / "asked"
    _helper(
        bin_dir,
        "vault",
        f'read server; echo "$server $1" > {log}\n'
        'echo \'{"ServerURL":"ghcr.io","Username":"bot","Secret":"s3"}\'\n',
    )
    path = _config(tmp_path, {"credHelpers": {"ghcr.io": "vault"}, "auths": {"ghcr.io": {}}})
    found = DockerCredentials(path).for_host("ghcr.io")
    assert found is not None
    assert (found.username, found.password) == ("bot", "s3")
    assert found.source == "credential helper docker-credential-vault"
    assert log.read_text().split() == ["ghcr.io", "get"]


def test_a_token_username_means_an_identity_token(tmp_path: Path, bin_dir: Path) -> None:
    """A helper answering Username `<token>` hands over an identity token."""
    _helper(bin_dir, "desk", 'echo \'{"Username":"<token>","Secret":"refresh-9"}\'\n')
    path = _config(tmp_path, {"credsStore": "desk"})
    found = DockerCredentials(path).for_host("docker.io")
    assert found is not None
    assert (found.identity_token, found.username) == ("refresh-9", "")


def test_store_without_an_entry_falls_back_to_auths(tmp_path: Path, bin_dir: Path) -> None:
    """`credentials not found` from the store, or a helper not installed, leaves `auths`."""
    _helper(bin_dir, "desk", 'echo "credentials not found in native keychain"; exit 1\n')
    auths = {"auths": {"ghcr.io": {"auth": _b64("ops:pw")}}}
    for store in ("desk", "not-installed"):
        path = _config(tmp_path, {**auths, "credsStore": store})
        found = DockerCredentials(path).for_host("ghcr.io")
        assert found is not None
        assert found.source.endswith("auths.ghcr.io")


def test_a_failing_helper_is_a_registry_error(tmp_path: Path, bin_dir: Path) -> None:
    """A helper that fails otherwise (a locked keychain) is reported, its output quoted."""
    _helper(bin_dir, "locked", 'echo "keychain is locked" >&2; exit 1\n')
    path = _config(tmp_path, {"credHelpers": {"ghcr.io": "locked"}})
    with pytest.raises(RegistryError) as raised:
        DockerCredentials(path).for_host("ghcr.io")
    assert "docker-credential-locked failed for ghcr.io: keychain is locked" in str(raised.value)


def test_a_config_that_is_no_regular_file_is_refused_not_read(tmp_path: Path) -> None:
    """A FIFO held the bootstrap in open() past SIGTERM; /dev/urandom took memory without end;
    JSON nested 100,000 deep was a RecursionError (an adversary's finds)."""
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    urandom = tmp_path / "random.json"
    urandom.symlink_to("/dev/urandom")
    for path, said in (
        (fifo, "is a FIFO"),
        (urandom, "is a character device"),
        (deep, "nested too deeply"),
    ):
        with pytest.raises(CredentialsError, match=said):
            DockerCredentials(path).for_host("ghcr.io")
