"""The production registry client against the simulated registry: digests, private repositories,
and the admin's Docker credentials (auths, identity tokens, credential helpers, Basic registries).
"""

from __future__ import annotations

import base64
import io
import json
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from appliance.bootstrap.display import Display
from appliance.bootstrap.validation import validate_release_images
from appliance.oci import DockerCredentials, RegistryClient
from appliance.releases import ReleaseManifest
from simulator.clock import VirtualClock
from simulator.neighbours.registry import RegistryContents
from simulator.neighbours.registry_server import RegistryServer

PUBLIC = "ghcr.io/nine-minds/alga-psa-ee:94446747"
PRIVATE = "ghcr.io/acme/private-app:1.0"
ACCOUNTS = {"ops": {"password": "s3cret", "identityToken": "refresh-123"}}


def _contents() -> RegistryContents:
    return RegistryContents.model_validate(
        {
            "images": {PUBLIC: {}, PRIVATE: {"private": True, "tagsListed": ["0.9"]}},
            "accounts": ACCOUNTS,
            "unlistedPresent": False,
        }
    )


@pytest.fixture
def registry() -> Iterator[RegistryServer]:
    clock = VirtualClock(datetime(2026, 4, 30, tzinfo=UTC))
    with RegistryServer(_contents(), clock=clock) as server:
        yield server


def _host(server: RegistryServer) -> str:
    return urlsplit(server.url).netloc


def _docker_config(tmp_path: Path, config: dict[str, Any]) -> DockerCredentials:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return DockerCredentials(path)


def _auth(user: str, password: str) -> dict[str, str]:
    return {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}


def _index_digest(server: RegistryServer, repository: str, tag: str) -> str:
    """The digest the registry serves for a tag (Docker-Content-Digest), fetched by hand."""
    scope = f"repository:{repository}:pull"
    token = httpx.get(f"{server.url}/token", params={"scope": scope}).json()["token"]
    answer = httpx.head(
        f"{server.url}/v2/{repository}/manifests/{tag}",
        headers={"Authorization": f"Bearer {token}"},
    )
    return answer.headers["docker-content-digest"]


def test_a_digest_reference_is_looked_up_by_its_digest(
    registry: RegistryServer, tmp_path: Path
) -> None:
    """`repo@sha256:...` HEADs the manifest by digest; a digest the registry lacks is missing."""
    digest = _index_digest(registry, "nine-minds/alga-psa-ee", "94446747")
    with RegistryClient(registry.url, credentials=_docker_config(tmp_path, {})) as client:
        pinned = client.check(f"ghcr.io/nine-minds/alga-psa-ee@{digest}")
        both = client.check(f"ghcr.io/nine-minds/alga-psa-ee:94446747@{digest}")
        wrong = client.check("ghcr.io/nine-minds/alga-psa-ee@sha256:" + "0" * 64)
    assert pinned.exists
    assert both.exists
    assert pinned.image.repository == "nine-minds/alga-psa-ee"
    assert (wrong.exists, wrong.error) == (False, None)
    heads = [r.path for r in registry.requests() if r.method == "HEAD"]
    assert f"/v2/nine-minds/alga-psa-ee/manifests/{digest}" in heads


def test_a_private_repository_without_credentials_is_unverified(
    registry: RegistryServer, tmp_path: Path
) -> None:
    """Anonymous access is refused: an error telling to `docker login`, never "missing"."""
    with RegistryClient(registry.url, credentials=_docker_config(tmp_path, {})) as client:
        check = client.check(PRIVATE)
    assert not check.exists
    assert check.error is not None
    assert f"docker login {_host(registry)}" in check.error
    assert "refused access to acme/private-app" in check.error


def test_docker_config_auths_unlock_a_private_repository(
    registry: RegistryServer, tmp_path: Path
) -> None:
    """`auths` user and password go to the token service; the token reads the manifest."""
    creds = _docker_config(tmp_path, {"auths": {_host(registry): _auth("ops", "s3cret")}})
    with RegistryClient(registry.url, credentials=creds) as client:
        check = client.check(PRIVATE)
        missing = client.check("ghcr.io/acme/private-app:2.0")
    assert check.exists, check.error
    assert (missing.exists, missing.error, missing.available_tags) == (False, None, ["0.9", "1.0"])
    tokens = [r for r in registry.requests() if r.path.startswith("/token")]
    assert tokens
    assert all(r.authorized for r in tokens)


def test_wrong_credentials_say_so(registry: RegistryServer, tmp_path: Path) -> None:
    """A refused login names where the credentials came from, not the secret."""
    creds = _docker_config(tmp_path, {"auths": {_host(registry): _auth("ops", "hunter2")}})
    with RegistryClient(registry.url, credentials=creds) as client:
        check = client.check(PRIVATE)
    assert check.error is not None
    assert "refused the credentials" in check.error
    assert f"auths.{_host(registry)}" in check.error
    assert "hunter2" not in check.error


def test_an_identity_token_is_exchanged_at_the_token_service(
    registry: RegistryServer, tmp_path: Path
) -> None:
    """`identitytoken` is an OAuth2 refresh token: POSTed to the realm for an access token."""
    creds = _docker_config(tmp_path, {"auths": {_host(registry): {"identitytoken": "refresh-123"}}})
    with RegistryClient(registry.url, credentials=creds) as client:
        assert client.check(PRIVATE).exists
    assert ("POST", "/token", 200) in [(r.method, r.path, r.status) for r in registry.requests()]


def test_a_credential_helper_answers_for_the_registry(
    registry: RegistryServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`credHelpers` runs the real helper executable and uses its user and secret."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    helper = bin_dir / "docker-credential-vault"
    helper.write_text('#!/bin/sh\necho \'{"Username":"ops","Secret":"s3cret"}\'\n')
    helper.chmod(helper.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    creds = _docker_config(tmp_path, {"credHelpers": {_host(registry): "vault"}})
    with RegistryClient(registry.url, credentials=creds) as client:
        assert client.check(PRIVATE).exists


def test_a_basic_auth_registry_gets_the_user_and_password(tmp_path: Path) -> None:
    """A registry:2 with htpasswd challenges with Basic: the credentials go on each request."""
    clock = VirtualClock(datetime(2026, 4, 30, tzinfo=UTC))
    with RegistryServer(_contents(), clock=clock, basic_auth=True) as server:
        creds = _docker_config(tmp_path, {"auths": {_host(server): _auth("ops", "s3cret")}})
        with RegistryClient(server.url, credentials=creds) as client:
            assert client.check(PRIVATE).exists
        with RegistryClient(server.url, credentials=_docker_config(tmp_path, {})) as client:
            refused = client.check(PRIVATE)
    assert refused.error is not None
    assert "wants a user and password" in refused.error


def test_the_preflight_reads_the_admins_docker_config(
    registry: RegistryServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`validate_release_images` finds a private core image with $DOCKER_CONFIG's login."""
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "config.json").write_text(
        json.dumps({"auths": {_host(registry): _auth("ops", "s3cret")}})
    )
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    release = ReleaseManifest.model_validate(
        {
            "version": "9.0",
            "images": [
                {
                    "component": "app",
                    "image": "ghcr.io/acme/private-app",
                    "tag": "1.0",
                    "tier": "core",
                }
            ],
        }
    )
    out = io.StringIO()
    report = validate_release_images(release, display=Display(out), registry_url=registry.url)
    assert report.missing_core == ()
    assert "image ghcr.io/acme/private-app:1.0 [core]: ok" in out.getvalue()
