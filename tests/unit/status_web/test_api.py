"""The JSON API: canonical status, overview, diagnostics, freshness, OpenAPI."""

from __future__ import annotations

from litestar.testing import TestClient

from status_web.app import create_app
from status_web.observations import MutableProvider
from tests.unit.status_web.conftest import TOKEN, FakeClock
from tests.unit.status_web.samples import LOGIN_URL, failed, ready


def test_status_is_canonical_camel_case(authed: TestClient) -> None:  # type: ignore[type-arg]
    """/api/status returns the canonical model with camelCase keys."""
    body = authed.get("/api/status").json()
    assert {"siteId", "topBlockers", "activeOperations", "loginProbe", "recentEvents"} <= set(body)
    assert body["tiers"]["fullHealth"]["ready"] is False
    assert body["activeOperations"][0]["estimatedSize"] == "~1.8 GB"


def test_overview_has_the_field_log_fields(authed: TestClient) -> None:  # type: ignore[type-arg]
    """/api/overview has installState, currentPhase, loginUrl, nextAction, message, timestamp."""
    body = authed.get("/api/overview").json()
    assert body["installState"] == "installing"
    assert body["currentPhase"] == "core"
    assert body["loginUrl"] is None
    assert body["nextAction"].startswith("Wait")
    assert body["message"]
    assert body["timestamp"] == "2026-04-30T09:30:00Z"


def test_overview_gives_login_url_once_ready(authed: TestClient, provider: MutableProvider) -> None:  # type: ignore[type-arg]
    """The login URL appears only when login is ready."""
    provider.set(ready())
    body = authed.get("/api/overview").json()
    assert body["loginReady"] is True
    assert body["loginUrl"] == LOGIN_URL
    assert body["currentPhase"] == "background"


def test_diagnostics_has_flux_and_support_bundle(
    authed: TestClient, provider: MutableProvider
) -> None:  # type: ignore[type-arg]
    """/api/diagnostics carries tiers, blockers, events, flux and the support-bundle command."""
    provider.set(failed())
    body = authed.get("/api/diagnostics").json()
    assert body["topBlockers"][0]["layer"] == "Image tag availability"
    assert set(body["flux"]) == {"source", "kustomizations", "helmReleases"}
    assert body["flux"]["source"]["name"] == "alga"
    assert "kubectl get" in body["supportBundle"]["command"]
    assert "--from-dump" in body["supportBundle"]["analyzeCommand"]
    assert {"tiers", "components", "recentEvents"} <= set(body)


def test_stale_status_says_api_unreachable_with_age(  # type: ignore[type-arg]
    authed: TestClient, provider: MutableProvider, clock: FakeClock
) -> None:
    """When the API fails the last state is served, marked unreachable, with its age."""
    clock.advance(42)
    provider.fail("connection refused")
    response = authed.get("/api/status")
    assert response.status_code == 200
    assert response.json()["cluster"] == {
        "reachable": False,
        "error": "connection refused",
        "serverTime": "2026-04-30T09:30:00Z",
        "source": "live",
    }
    assert response.json()["rollup"]["state"] == "installing"
    assert response.headers["x-status-age-seconds"] == "42.0"
    assert response.headers["x-status-stale"] == "true"
    overview = authed.get("/api/overview").json()
    assert overview["apiReachable"] is False
    assert overview["ageSeconds"] == 42.0


def test_before_first_reading_api_is_503_with_retry_after() -> None:
    """Before the first reading the API says so (503, Retry-After) and pages say 'Starting'."""
    app = create_app(provider=MutableProvider(), token=TOKEN)
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {TOKEN}"
        response = client.get("/api/status")
        assert response.status_code == 503
        assert response.json()["error"] == "not_ready"
        assert response.headers["retry-after"] == "2"
        page = client.get("/")
        assert page.status_code == 200
        assert "Starting" in page.text


def test_openapi_names_the_response_models(authed: TestClient) -> None:  # type: ignore[type-arg]
    """The OpenAPI schema describes each API response with its model, in camelCase."""
    schema = authed.get("/schema/openapi.json").json()
    status_ref = schema["paths"]["/api/status"]["get"]["responses"]["200"]["content"][
        "application/json"
    ]["schema"]["$ref"]
    assert status_ref.endswith("/ApplianceStatus")
    overview = schema["components"]["schemas"]["Overview"]["properties"]
    assert "installState" in overview
    assert "401" in schema["paths"]["/api/diagnostics"]["get"]["responses"]
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_event_stream_announces_the_status_version(authed: TestClient) -> None:  # type: ignore[type-arg]
    """/api/events sends a `status` event with the version and the age in words."""
    with authed.stream("GET", "/api/events") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        text = "".join(response.iter_text())
    assert "event: status" in text
    assert '"version": 1' in text
    assert '"ageText": "updated 0s ago"' in text


def test_event_stream_needs_a_token(client: TestClient) -> None:  # type: ignore[type-arg]
    """The live stream is protected like the rest of the API."""
    assert client.get("/api/events").status_code == 401


def test_new_status_is_served_not_a_cached_body(  # type: ignore[type-arg]
    authed: TestClient, provider: MutableProvider
) -> None:
    """The serialized body is reused only while the status version is unchanged."""
    assert authed.get("/api/status").json()["rollup"]["state"] == "installing"
    assert authed.get("/api/status").json()["rollup"]["state"] == "installing"
    provider.set(ready())
    assert authed.get("/api/status").json()["rollup"]["state"] == "ready"
    provider.fail("gone")
    assert authed.get("/api/status").json()["cluster"]["reachable"] is False
