"""The simulated OCI registry: model lookups and the ghcr.io-style distribution API over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from pydantic import ValidationError

from simulator.clock import VirtualClock
from simulator.neighbours.registry import (
    ImageRegistry,
    ImageSpec,
    RegistryContents,
    parse_image_ref,
)
from simulator.neighbours.registry_server import RegistryServer

CORE = "ghcr.io/nine-minds/alga-psa-ee:94446747"
WORKER = "ghcr.io/nine-minds/workflow-worker:61e4a00e"
TEMPORAL_WORKER = "ghcr.io/nine-minds/temporal-worker:61e4a00e"
EMAIL = "ghcr.io/nine-minds/email-service:61e4a00e"


@pytest.fixture
def contents() -> RegistryContents:
    return RegistryContents.model_validate(
        {
            "images": {
                CORE: {"sizeBytes": 1_800_000_000, "pullSeconds": 960},
                WORKER: {"present": False},
                TEMPORAL_WORKER: {"present": False, "tagsListed": ["latest"]},
                EMAIL: {"interruptFirstPull": True, "pullSeconds": 40},
            }
        }
    )


@pytest.fixture
def server(contents: RegistryContents) -> Iterator[RegistryServer]:
    clock = VirtualClock(datetime(2026, 4, 30, tzinfo=UTC))
    with RegistryServer(contents, clock=clock) as srv:
        yield srv


def _token(client: httpx.Client, base: str, repository: str) -> str:
    response = client.get(
        f"{base}/token",
        params={"scope": f"repository:{repository}:pull", "service": "ghcr.io"},
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert isinstance(token, str)
    return token


def test_short_names_normalise_like_containerd() -> None:
    """`busybox` is `docker.io/library/busybox:latest`."""
    assert str(parse_image_ref("busybox")) == "docker.io/library/busybox:latest"
    assert parse_image_ref(CORE).repository == "nine-minds/alga-psa-ee"
    assert parse_image_ref("localhost:5000/app@sha256:ab").digest == "sha256:ab"


def test_lookup_returns_none_for_a_missing_tag(contents: RegistryContents) -> None:
    """A tag marked absent does not exist; unlisted images exist with defaults."""
    assert contents.lookup(WORKER) is None
    spec = contents.lookup(CORE)
    assert spec is not None
    assert spec.pull_seconds == 960
    assert contents.lookup("postgres:16") is not None


def test_unknown_fields_are_rejected() -> None:
    """A typo in an image spec is a validation error, not a silent default."""
    with pytest.raises(ValidationError, match="sizeByte"):
        ImageSpec.model_validate({"sizeByte": 3})


def test_first_pull_interrupted_then_retry_succeeds(contents: RegistryContents) -> None:
    """interruptFirstPull cancels only the first attempt with containerd's `context canceled`."""
    registry = ImageRegistry(contents)
    first = registry.begin_pull(EMAIL)
    second = registry.begin_pull(EMAIL)
    assert first.interrupted
    assert "context canceled" in first.error
    assert not second.interrupted
    assert second.error == ""


def test_missing_tag_pull_says_not_found(contents: RegistryContents) -> None:
    """Pulling a missing tag fails with containerd's `not found` text."""
    plan = ImageRegistry(contents).begin_pull(WORKER)
    assert not plan.found
    assert plan.error.endswith(f"{WORKER}: not found")
    assert plan.reason == "ErrImagePull"


def test_v2_without_token_is_challenged(server: RegistryServer) -> None:
    """`GET /v2/` answers 401 with a Bearer challenge naming the token realm and service."""
    response = httpx.get(f"{server.url}/v2/")
    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith(f'Bearer realm="{server.url}/token"')
    assert 'service="ghcr.io"' in challenge


def test_manifest_without_token_challenges_with_scope(server: RegistryServer) -> None:
    """A manifest request without a token names the pull scope in the challenge."""
    response = httpx.head(f"{server.url}/v2/nine-minds/alga-psa-ee/manifests/94446747")
    assert response.status_code == 401
    assert 'scope="repository:nine-minds/alga-psa-ee:pull"' in response.headers["WWW-Authenticate"]


def test_token_dance_then_head_manifest(server: RegistryServer) -> None:
    """With an anonymous token, HEAD answers 200 with a digest and the OCI index media type."""
    with httpx.Client() as client:
        token = _token(client, server.url, "nine-minds/alga-psa-ee")
        response = client.head(
            f"{server.url}/v2/nine-minds/alga-psa-ee/manifests/94446747",
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/vnd.oci.image.index.v1+json"
    assert response.headers["Docker-Content-Digest"].startswith("sha256:")


def test_manifest_layers_sum_to_the_image_size(server: RegistryServer) -> None:
    """Following the index to the image manifest, the layer sizes add up to sizeBytes."""
    with httpx.Client() as client:
        token = _token(client, server.url, "nine-minds/alga-psa-ee")
        auth = {"Authorization": f"Bearer {token}"}
        index = client.get(
            f"{server.url}/v2/nine-minds/alga-psa-ee/manifests/94446747", headers=auth
        )
        digest = index.json()["manifests"][0]["digest"]
        manifest = client.get(
            f"{server.url}/v2/nine-minds/alga-psa-ee/manifests/{digest}", headers=auth
        )
    assert manifest.headers["Docker-Content-Digest"] == digest
    assert sum(layer["size"] for layer in manifest.json()["layers"]) == 1_800_000_000


def test_token_for_another_repository_is_refused(server: RegistryServer) -> None:
    """A token scoped to one repository does not open another."""
    with httpx.Client() as client:
        token = _token(client, server.url, "nine-minds/email-service")
        response = client.get(
            f"{server.url}/v2/nine-minds/alga-psa-ee/manifests/94446747",
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 401


def test_missing_tag_is_manifest_unknown(server: RegistryServer) -> None:
    """A missing tag answers 404 with the distribution error code MANIFEST_UNKNOWN."""
    with httpx.Client() as client:
        token = _token(client, server.url, "nine-minds/workflow-worker")
        response = client.get(
            f"{server.url}/v2/nine-minds/workflow-worker/manifests/61e4a00e",
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 404
    error = response.json()["errors"][0]
    assert error["code"] == "MANIFEST_UNKNOWN"
    assert error["message"] == "manifest unknown"


def test_tags_list_names_the_tags_that_exist(server: RegistryServer) -> None:
    """tags/list of temporal-worker lists `latest` but not the missing `61e4a00e` (finding-17)."""
    with httpx.Client() as client:
        token = _token(client, server.url, "nine-minds/temporal-worker")
        response = client.get(
            f"{server.url}/v2/nine-minds/temporal-worker/tags/list",
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 200
    assert response.json() == {"name": "nine-minds/temporal-worker", "tags": ["latest"]}


def test_requests_are_logged(server: RegistryServer) -> None:
    """Every answered request lands in the request log with its status."""
    httpx.get(f"{server.url}/v2/")
    log = server.requests()
    assert [(r.method, r.path, r.status) for r in log] == [("GET", "/v2/", 401)]
