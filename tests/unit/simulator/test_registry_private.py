"""The simulated registry's private repositories: tokens for accounts, as the token server does."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from simulator.clock import VirtualClock
from simulator.neighbours.registry import RegistryContents
from simulator.neighbours.registry_server import RegistryServer

PRIVATE = "ghcr.io/acme/private-app:1.0"
PUBLIC = "ghcr.io/acme/public-app:1.0"
SCOPE = "repository:acme/private-app:pull"


@pytest.fixture
def server() -> Iterator[RegistryServer]:
    contents = RegistryContents.model_validate(
        {
            "images": {PRIVATE: {"private": True}, PUBLIC: {}},
            "accounts": {"ops": {"password": "s3cret", "identityToken": "refresh-123"}},
        }
    )
    with RegistryServer(contents, clock=VirtualClock(datetime(2026, 4, 30, tzinfo=UTC))) as srv:
        yield srv


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def _manifest(server: RegistryServer, token: str) -> int:
    return httpx.head(
        f"{server.url}/v2/acme/private-app/manifests/1.0",
        headers={"Authorization": f"Bearer {token}"},
    ).status_code


def test_an_anonymous_token_cannot_read_a_private_repository(server: RegistryServer) -> None:
    """The anonymous token is issued, but the private manifest answers the 401 challenge."""
    answer = httpx.get(f"{server.url}/token", params={"scope": SCOPE})
    assert answer.status_code == 200
    assert _manifest(server, answer.json()["token"]) == 401


def test_basic_credentials_get_a_token_that_reads_it(server: RegistryServer) -> None:
    """`docker login`'s user and password at the token service unlock the private manifest."""
    answer = httpx.get(
        f"{server.url}/token", params={"scope": SCOPE}, headers=_basic("ops", "s3cret")
    )
    assert answer.status_code == 200
    assert _manifest(server, answer.json()["token"]) == 200


def test_wrong_credentials_are_refused_at_the_token_service(server: RegistryServer) -> None:
    """A wrong password is a 401 from the token service itself, not an anonymous token."""
    answer = httpx.get(f"{server.url}/token", params={"scope": SCOPE}, headers=_basic("ops", "no"))
    assert answer.status_code == 401


def test_an_identity_token_is_an_oauth2_refresh_grant(server: RegistryServer) -> None:
    """POST grant_type=refresh_token with the identity token yields an account's token."""
    form = {"grant_type": "refresh_token", "refresh_token": "refresh-123", "scope": SCOPE}
    answer = httpx.post(f"{server.url}/token", data={**form, "service": "ghcr.io"})
    assert answer.status_code == 200
    assert _manifest(server, answer.json()["access_token"]) == 200
    wrong = httpx.post(f"{server.url}/token", data={**form, "refresh_token": "other"})
    assert wrong.status_code == 401


def test_public_repositories_stay_anonymous(server: RegistryServer) -> None:
    """A repository without private images needs no account."""
    scope = "repository:acme/public-app:pull"
    token = httpx.get(f"{server.url}/token", params={"scope": scope}).json()["token"]
    answer = httpx.head(
        f"{server.url}/v2/acme/public-app/manifests/1.0",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200


def test_basic_mode_wants_an_account_on_every_request() -> None:
    """A registry:2 with htpasswd: a Basic challenge, then the account's user and password."""
    contents = RegistryContents.model_validate(
        {"images": {PUBLIC: {}}, "accounts": {"ops": {"password": "s3cret"}}}
    )
    clock = VirtualClock(datetime(2026, 4, 30, tzinfo=UTC))
    with RegistryServer(contents, clock=clock, basic_auth=True) as srv:
        probe = httpx.get(f"{srv.url}/v2/")
        assert probe.status_code == 401
        assert probe.headers["www-authenticate"] == 'Basic realm="Registry Realm"'
        url = f"{srv.url}/v2/acme/public-app/manifests/1.0"
        assert httpx.head(url, headers=_basic("ops", "wrong")).status_code == 401
        assert httpx.head(url, headers=_basic("ops", "s3cret")).status_code == 200
