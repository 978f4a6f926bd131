"""T018: the release image preflight against a real local OCI registry (the simulator's)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from appliance.bootstrap.display import Display
from appliance.bootstrap.validation import validate_release_images
from appliance.errors import BootstrapError
from appliance.oci import RegistryClient
from appliance.releases import load_release
from simulator.clock import VirtualClock
from simulator.neighbours.registry import ImageSpec, RegistryContents
from simulator.neighbours.registry_server import RegistryServer

CORE = "ghcr.io/nine-minds/alga-psa-ee:94446747"


def contents(*, core_present: bool = True) -> RegistryContents:
    return RegistryContents(
        images={
            CORE: ImageSpec(present=core_present),
            "ghcr.io/nine-minds/email-service:61e4a00e": ImageSpec(),
            "ghcr.io/nine-minds/workflow-worker:61e4a00e": ImageSpec(
                present=False, tags_listed=["latest", "5d1c2b3a"]
            ),
            "ghcr.io/nine-minds/temporal-worker:61e4a00e": ImageSpec(
                present=False, tags_listed=["latest"]
            ),
        },
    )


@pytest.fixture
def registry() -> Iterator[RegistryServer]:
    clock = VirtualClock(datetime(2026, 4, 30, tzinfo=UTC))
    with RegistryServer(contents(), clock=clock).start() as server:
        yield server


def test_missing_background_tags_warn_and_name_existing_tags(registry: RegistryServer) -> None:
    """T018: workflow-worker and temporal-worker are named with their existing tags; no failure."""
    out = io.StringIO()
    report = validate_release_images(
        load_release("1.0-rc5"), display=Display(out), registry_url=registry.url
    )
    text = out.getvalue()
    assert report.missing_core == ()
    missing = {c.image.repository for c in report.missing_background}
    assert missing == {"nine-minds/workflow-worker", "nine-minds/temporal-worker"}
    warning = next(line for line in text.splitlines() if line.startswith("WARNING"))
    assert "workflow-worker:61e4a00e" in warning
    assert "temporal-worker:61e4a00e" in warning
    assert "tags that exist: 5d1c2b3a, latest" in warning
    assert "Core install continues" in warning


def test_missing_core_image_fails_fast_with_release_artifact_blocker() -> None:
    """A missing core tag raises a release-artifact blocker before any long wait."""
    clock = VirtualClock(datetime(2026, 4, 30, tzinfo=UTC))
    with (
        RegistryServer(contents(core_present=False), clock=clock).start() as server,
        pytest.raises(BootstrapError) as caught,
    ):
        validate_release_images(
            load_release("1.0-rc5"), display=Display(io.StringIO()), registry_url=server.url
        )
    assert caught.value.layer == "release artifacts"
    assert "Release artifact blocker" in str(caught.value)
    assert "alga-psa-ee:94446747" in str(caught.value)


def test_client_does_the_anonymous_token_dance(registry: RegistryServer) -> None:
    """/v2/ 401 challenge, a pull token, then an authorized HEAD of the manifest."""
    with RegistryClient(registry.url) as client:
        check = client.check(CORE)
    assert check.exists
    log = [(r.method, r.path.split("?")[0], r.status) for r in registry.requests()]
    assert log[0] == ("GET", "/v2/", 401)
    assert log[1][:2] == ("GET", "/token")
    assert ("HEAD", "/v2/nine-minds/alga-psa-ee/manifests/94446747", 200) in log


def test_unreachable_registry_warns_instead_of_failing() -> None:
    """A registry that cannot be asked proves nothing: a warning, never a core blocker."""
    out = io.StringIO()
    report = validate_release_images(
        load_release("1.0-rc5"), display=Display(out), registry_url="http://127.0.0.1:9"
    )
    assert report.missing_core == ()
    assert "could not verify image tags" in out.getvalue()
