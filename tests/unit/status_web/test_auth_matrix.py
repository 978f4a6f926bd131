"""Who gets in, through Litestar's test client: the auth matrix of the issue."""

from __future__ import annotations

from litestar.testing import TestClient

from status_web.authenticating import COOKIE_NAME
from tests.unit.status_web.conftest import TOKEN, FakeClock


def test_healthz_needs_no_token_and_says_only_ok(client: TestClient) -> None:  # type: ignore[type-arg]
    """/healthz answers without a token and reveals nothing but ok."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_api_without_token_is_401_json(client: TestClient) -> None:  # type: ignore[type-arg]
    """An API call without a token gets 401 JSON that says how to authenticate."""
    response = client.get("/api/status")
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert "Bearer" in response.headers["www-authenticate"]


def test_page_without_token_shows_login_form(client: TestClient) -> None:  # type: ignore[type-arg]
    """A page request without a token gets the login form, not a JSON error."""
    response = client.get("/diagnostics")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("text/html")
    assert '<form method="post" action="/login">' in response.text
    assert 'value="/diagnostics"' in response.text


def test_wrong_bearer_is_401(client: TestClient) -> None:  # type: ignore[type-arg]
    """A wrong bearer token is refused."""
    response = client.get("/api/status", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401


def test_right_bearer_is_200(client: TestClient) -> None:  # type: ignore[type-arg]
    """The right bearer token opens the API."""
    response = client.get("/api/status", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.json()["siteId"] == "site-a"


def test_query_token_sets_cookie_and_redirects_without_token(client: TestClient) -> None:  # type: ignore[type-arg]
    """?token= on a page sets an HttpOnly SameSite=Strict cookie and 303s to the clean URL."""
    response = client.get(f"/diagnostics?lang=en&token={TOKEN}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/diagnostics?lang=en"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=")
    assert "HttpOnly" in cookie
    assert "samesite=strict" in cookie.lower()
    assert TOKEN not in cookie


def test_cookie_is_reused_on_later_requests(client: TestClient) -> None:  # type: ignore[type-arg]
    """After the redirect the cookie alone opens pages and the API."""
    client.get(f"/?token={TOKEN}", follow_redirects=False)
    assert client.get("/").status_code == 200
    assert client.get("/api/overview").status_code == 200


def test_wrong_query_token_shows_login_with_error(client: TestClient) -> None:  # type: ignore[type-arg]
    """A wrong ?token= gets the login form with a message and no cookie."""
    response = client.get("/?token=wrong", follow_redirects=False)
    assert response.status_code == 401
    assert "not right" in response.text
    assert "set-cookie" not in response.headers


def test_forged_cookie_is_refused(client: TestClient) -> None:  # type: ignore[type-arg]
    """A cookie that is not the token's HMAC does not open anything."""
    client.cookies.set(COOKIE_NAME, TOKEN)
    assert client.get("/api/status").status_code == 401


def test_login_form_sets_cookie_and_goes_to_next(client: TestClient) -> None:  # type: ignore[type-arg]
    """Posting the right token logs the browser in and returns to the page it wanted."""
    response = client.post(
        "/login", data={"token": TOKEN, "next": "/diagnostics"}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/diagnostics"
    assert client.get("/diagnostics").status_code == 200


def test_login_form_refuses_offsite_next(client: TestClient) -> None:  # type: ignore[type-arg]
    """The login form never redirects to another site."""
    response = client.post(
        "/login", data={"token": TOKEN, "next": "//evil.example/"}, follow_redirects=False
    )
    assert response.headers["location"] == "/"


def test_login_form_wrong_token_is_401(client: TestClient) -> None:  # type: ignore[type-arg]
    """Posting a wrong token shows the form again with a message."""
    response = client.post("/login", data={"token": "nope"}, follow_redirects=False)
    assert response.status_code == 401
    assert "not right" in response.text


def test_repeated_wrong_tokens_are_rate_limited(client: TestClient) -> None:  # type: ignore[type-arg]
    """After the limit, the address gets 429 with Retry-After, even with the right token."""
    for _ in range(3):
        assert client.get("/api/status", headers={"Authorization": "Bearer x"}).status_code == 401
    blocked = client.get("/api/status", headers={"Authorization": f"Bearer {TOKEN}"})
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert client.post("/login", data={"token": TOKEN}, follow_redirects=False).status_code == 429


def test_rate_limit_lifts_after_the_window(client: TestClient, clock: FakeClock) -> None:  # type: ignore[type-arg]
    """Once the window passes, the right token works again."""
    for _ in range(3):
        client.get("/api/status", headers={"Authorization": "Bearer x"})
    clock.advance(61)
    assert (
        client.get("/api/status", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    )


def test_logged_in_browser_is_not_locked_out_by_guessers(client: TestClient) -> None:  # type: ignore[type-arg]
    """A valid session cookie still works while the same address is rate limited."""
    client.get(f"/?token={TOKEN}", follow_redirects=False)
    for _ in range(3):
        client.get("/api/status", headers={"Authorization": "Bearer x"})
    assert client.get("/").status_code == 200


def test_schema_needs_a_token(client: TestClient) -> None:  # type: ignore[type-arg]
    """The OpenAPI document is behind the token too."""
    assert client.get("/schema/openapi.json").status_code == 401


def test_responses_carry_security_headers(authed: TestClient) -> None:  # type: ignore[type-arg]
    """Responses are not cached and never leak a Referer."""
    response = authed.get("/")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "same-origin"


def test_logout_clears_the_cookie(client: TestClient) -> None:  # type: ignore[type-arg]
    """Logging out forgets the session."""
    client.get(f"/?token={TOKEN}", follow_redirects=False)
    client.post("/logout", follow_redirects=False)
    assert client.get("/api/status").status_code == 401
