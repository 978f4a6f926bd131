"""What an adversary found in the status service (issue 9, items 1-6, 8, 12), each shut."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import quote

import pytest
from litestar.testing import TestClient

from status_web.access import SECURITY_HEADERS, safe_next
from status_web.app import create_app
from status_web.authenticating import COOKIE_NAME, FailureLimiter, TokenGate
from status_web.observations import MutableProvider
from status_web.redacting import RedactingFilter
from status_web.token_source import TokenSource
from tests.unit.status_web.conftest import TOKEN, FakeClock

ORIGIN = "http://testserver.local"


class WallClock(FakeClock):
    """A wall clock (epoch seconds) that moves only when told."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0


# -- items 1 and 2: rotation and expiry -----------------------------------------------------


def test_a_rotated_token_file_refuses_the_old_token_and_its_cookies(tmp_path: Path) -> None:
    """Item 1: the file changes (as a kubelet swaps a mounted Secret): the new token works, the
    old one and every session cookie made from it are refused, without a restart."""
    token_file = tmp_path / "token"
    token_file.write_text("first-token\n")
    clock = FakeClock()
    source = TokenSource(path=token_file, recheck_seconds=1.0, monotonic=clock)
    provider = MutableProvider(None)
    app = create_app(provider=provider, token=source, events_lifetime_seconds=0.0)
    with TestClient(app) as client:
        login = client.post("/login", data={"token": "first-token", "next": "/"})
        assert login.status_code in (200, 303)
        old_cookie = client.cookies[COOKIE_NAME]
        client.cookies.clear()
        token_file.write_text("second-token\n")
        clock.advance(1.5)
        old = client.get("/schema/openapi.json", headers={"Authorization": "Bearer first-token"})
        assert old.status_code == 401
        new = client.get("/schema/openapi.json", headers={"Authorization": "Bearer second-token"})
        assert new.status_code == 200
        client.cookies.clear()
        client.cookies[COOKIE_NAME] = old_cookie
        assert client.get("/schema/openapi.json").status_code == 401
    assert source.generation == 2


def test_a_rotation_keeps_the_last_token_when_the_file_is_briefly_unusable(
    tmp_path: Path,
) -> None:
    """A missing or empty file mid-rotation is not an outage and not an open door."""
    token_file = tmp_path / "token"
    token_file.write_text("first-token\n")
    clock = FakeClock()
    source = TokenSource(path=token_file, recheck_seconds=0.0, monotonic=clock)
    token_file.write_text("")
    assert source.current() == "first-token"
    token_file.unlink()
    assert source.current() == "first-token"


def test_sessions_expire_after_their_max_age() -> None:
    """Item 2: a cookie carries its issue time and stops working after the max age."""
    clock = WallClock()
    gate = TokenGate("abc", session_seconds=3600, clock=clock)
    cookie = gate.cookie_value()
    assert gate.check_cookie(cookie)
    clock.advance(3599)
    assert gate.check_cookie(cookie)
    clock.advance(2)
    assert not gate.check_cookie(cookie)


@pytest.mark.parametrize(
    "forged",
    ["", "abc", "1.", ".deadbeef", "99999999999999.x", "1800000000", "-5.abc", "١٢٣.abc"],
)
def test_forged_or_malformed_cookies_are_refused(forged: str) -> None:
    """A cookie must carry a numeric issue time and the token's MAC over it."""
    assert not TokenGate("abc", clock=WallClock()).check_cookie(forged)


def test_a_cookie_cannot_extend_itself(client: TestClient) -> None:  # type: ignore[type-arg]
    """Changing the issue time breaks the MAC: the age cannot be forged."""
    response = client.get(f"/?token={TOKEN}", follow_redirects=False)
    issued, _, mac = response.cookies[COOKIE_NAME].partition(".")
    client.cookies.clear()
    client.cookies[COOKIE_NAME] = f"{int(issued) + 3600}.{mac}"
    assert client.get("/api/overview").status_code == 401


def test_session_max_age_is_the_cookie_max_age(provider: MutableProvider) -> None:
    """The browser forgets the cookie when the server would refuse it anyway."""
    app = create_app(provider=provider, token=TOKEN, session_seconds=600)
    with TestClient(app) as client:
        response = client.get(f"/?token={TOKEN}", follow_redirects=False)
    assert "Max-Age=600" in response.headers["set-cookie"]


# -- item 3: open redirect ------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "/\t/evil.example",
        "/\n/x",
        "/\r\nSet-Cookie: x=1",
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "https://evil.example",
        "/ /evil.example",
        "/\x00/x",
        "/é",
        "",
        "evil",
    ],
)
def test_login_next_goes_nowhere_but_this_site(client: TestClient, target: str) -> None:  # type: ignore[type-arg]
    """Item 3: `next` with control characters, backslashes or `//` goes to `/`, never a trace."""
    response = client.post("/login", data={"token": TOKEN, "next": target}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_safe_next_keeps_paths_of_this_site() -> None:
    """A same-site path with a query is kept as it is."""
    assert safe_next("/diagnostics?lang=en") == "/diagnostics?lang=en"


def test_percent_encoded_newline_in_next_is_not_a_server_error(client: TestClient) -> None:  # type: ignore[type-arg]
    """The adversary's `next=/%0A/x` raw in the form body once made the server throw."""
    response = client.post(
        "/login",
        content=f"token={TOKEN}&next=/%0A/x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"


# -- item 4: cross-site requests ------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "cross-site", "Origin": "null"},
        {"Sec-Fetch-Site": "same-site", "Origin": ORIGIN},
    ],
)
@pytest.mark.parametrize("path", ["/logout", "/login"])
def test_cross_site_posts_are_refused(
    client: TestClient,  # type: ignore[type-arg]
    headers: dict[str, str],
    path: str,
) -> None:
    """Item 4: a form on another site cannot log the admin out (or in)."""
    client.get(f"/?token={TOKEN}")
    response = client.post(
        path, data={"token": TOKEN, "next": "/"}, headers=headers, follow_redirects=False
    )
    assert response.status_code == 403
    assert response.json()["error"] == "cross_site"
    assert client.get("/api/overview").status_code == 200  # still signed in


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": ORIGIN, "Sec-Fetch-Site": "same-origin"},
        # What Chromium sends for our own form when a page says Referrer-Policy: no-referrer.
        {"Origin": "null", "Sec-Fetch-Site": "same-origin"},
        {"Origin": ORIGIN},
        {},
    ],
)
def test_same_origin_and_scripted_posts_pass(
    client: TestClient,  # type: ignore[type-arg]
    headers: dict[str, str],
) -> None:
    """The page's own form (and curl, which sends neither header) still works."""
    response = client.post("/logout", headers=headers, follow_redirects=False)
    assert response.status_code == 303


# -- item 5: percent-encoded tokens in the log ----------------------------------------------


def test_percent_encoded_token_parameter_authenticates_but_never_reaches_the_log(
    client: TestClient,  # type: ignore[type-arg]
) -> None:
    """Item 5: `?tok%65n=<token %XX-encoded>` authenticates a page (a 303 to the page without
    it, a session cookie), and the access log line (as uvicorn formats it) keeps neither the raw
    nor the decoded token."""
    encoded = "".join(f"%{byte:02X}" for byte in TOKEN.encode())
    query = f"tok%65n={encoded}"
    signed_in = client.get(f"/?{query}", follow_redirects=False)
    assert (signed_in.status_code, signed_in.headers["location"]) == (303, "/")
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", f"/?{query}", "1.1", 303), None,
    )  # fmt: skip
    RedactingFilter(TOKEN).filter(record)
    line = record.getMessage()
    assert TOKEN not in line
    assert encoded not in line
    assert "[redacted]" in line


def test_redaction_follows_a_rotation(tmp_path: Path) -> None:
    """After a rotation both the new and the previous token are redacted."""
    token_file = tmp_path / "token"
    token_file.write_text("old-token")
    source = TokenSource(path=token_file, recheck_seconds=0.0)
    token_file.write_text("new-token")
    source.current()
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "%s %s", ("Bearer old-token", "new-token"), None
    )
    RedactingFilter(source.known).filter(record)
    assert "token" not in record.getMessage().replace("[redacted]", "")


# -- item 6: security headers everywhere ----------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/no-such-page", 404),
        ("DELETE", "/api/status", 405),
        ("POST", "/login", 400),
        ("GET", "/api/status", 401),
        ("GET", "/healthz", 200),
    ],
)
def test_every_response_carries_the_security_headers(
    client: TestClient,  # type: ignore[type-arg]
    method: str,
    path: str,
    status: int,
) -> None:
    """Item 6: 404, 405, a malformed form (400) and refusals carry CSP, nosniff and friends."""
    response = client.request(method, path)
    assert response.status_code == status
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, name


def test_a_server_error_carries_the_security_headers(limiter: FailureLimiter) -> None:
    """A handler that breaks (500) still answers with the headers."""

    class Broken:
        def latest(self) -> None:
            raise RuntimeError("boom")

    app = create_app(provider=Broken(), token=TOKEN, limiter=limiter)  # type: ignore[arg-type]
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/status", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 500
    assert response.headers.get("X-Frame-Options") == "DENY"
    assert "frame-ancestors 'none'" in response.headers.get("Content-Security-Policy", "")


# -- item 8: bytes compared the same everywhere ---------------------------------------------


def test_a_non_ascii_token_works_in_a_header_a_form_and_a_link(
    provider: MutableProvider,
) -> None:
    """Item 8: the same UTF-8 token is accepted from a Bearer header, a form and `?token=`."""
    token = "clé-ünïcode-☃"
    app = create_app(provider=provider, token=token, events_lifetime_seconds=0.0)
    with TestClient(app) as client:
        header = client.get(
            "/api/overview", headers=[(b"authorization", b"Bearer " + token.encode())]
        )
        assert header.status_code == 200
        form = client.post("/login", data={"token": token}, follow_redirects=False)
        assert form.status_code == 303
        client.cookies.clear()
        link = client.get(f"/?token={quote(token)}", follow_redirects=False)
        assert link.status_code == 303
        client.cookies.clear()
        wrong = client.get("/api/overview", headers=[(b"authorization", "Bearer clé".encode())])
        assert wrong.status_code == 401


# -- item 12: the rate limit keeps `next` ---------------------------------------------------


def test_a_rate_limited_login_keeps_where_the_admin_was_going(client: TestClient) -> None:  # type: ignore[type-arg]
    """Item 12: after 429 the form still carries the original `next`, not `/login`."""
    for _ in range(3):
        client.post("/login", data={"token": "wrong", "next": "/diagnostics"})
    response = client.post("/login", data={"token": "wrong", "next": "/diagnostics"})
    assert response.status_code == 429
    assert 'name="next" value="/diagnostics"' in response.text


def test_a_rotation_logged_through_the_redacting_filter_does_not_deadlock(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The rotation is logged, and the log filter asks the source for the tokens to redact."""
    token_file = tmp_path / "token"
    token_file.write_text("old-token")
    source = TokenSource(path=token_file, recheck_seconds=0.0)
    redacting = RedactingFilter(source.known)
    logger = logging.getLogger("status_web")
    logger.addFilter(redacting)
    try:
        token_file.write_text("new-token")
        with caplog.at_level(logging.WARNING, logger="status_web"):
            assert source.current() == "new-token"
    finally:
        logger.removeFilter(redacting)
    assert "status token changed (generation 2)" in caplog.text


def test_the_token_never_stays_in_a_url(client: TestClient) -> None:  # type: ignore[type-arg]
    """An adversary's find: `/api/status?token=` answered 200 (inviting tokens into shell
    history and `ps`), and `/login?token=` left the token in the address bar. The API takes
    the header only; a public page sheds the parameter at once."""
    refused = client.get(f"/api/status?token={TOKEN}")
    assert refused.status_code == 401
    assert refused.json()["error"] == "token_in_url"
    assert "Authorization: Bearer" in refused.json()["detail"]
    shed = client.get(f"/login?token={TOKEN}&next=/timeline", follow_redirects=False)
    assert (shed.status_code, shed.headers["location"]) == (303, "/login?next=%2Ftimeline")
    assert "set-cookie" not in shed.headers


def test_healthz_answers_head(client: TestClient) -> None:  # type: ignore[type-arg]
    """`curl -I /healthz` (a load balancer's check) got 405 before."""
    answer = client.head("/healthz")
    assert answer.status_code == 200
    assert answer.content == b""
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_only_the_pages_own_script_may_run(authed: TestClient) -> None:  # type: ignore[type-arg]
    """An adversary's find: the policy allowed `script-src 'unsafe-inline'`, so any script that
    got into a page would run. It names the hash of each inline script the pages carry, and
    nothing else: a page whose script changed without the policy would lose its live updates
    (tests/e2e checks that they work in Chromium)."""
    import base64
    import hashlib
    import re

    page = authed.get("/")
    assert page.status_code == 200
    policy = dict(
        part.strip().split(" ", 1) for part in page.headers["content-security-policy"].split(";")
    )
    scripts = re.findall(r"<script>(.*?)</script>", page.text, flags=re.DOTALL)
    assert scripts, "the overview page carries its live script"
    hashes = {
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in scripts
    }
    assert set(policy["script-src"].split()) == hashes
    assert "unsafe" not in policy["script-src"]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"token": "x"}', "application/json"),
        (b"next=/", "application/x-www-form-urlencoded"),
        (b"\xff\xfe", "application/x-www-form-urlencoded"),
    ],
    ids=["json", "no-token-field", "bytes"],
)
def test_a_post_that_is_not_the_form_gets_the_form_again(
    client: TestClient,  # type: ignore[type-arg]
    body: bytes,
    content_type: str,
) -> None:
    """An adversary's find: `POST /login` with JSON answered Litestar's JSON error labelled
    text/html. Every answer of the route is the HTML form."""
    answer = client.post(
        "/login?next=/diagnostics",
        content=body,
        headers={"Content-Type": content_type},
        follow_redirects=False,
    )
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("text/html")
    assert '<form method="post" action="/login">' in answer.text
    assert "not the sign-in form" in answer.text
    assert "set-cookie" not in answer.headers
    for name, value in SECURITY_HEADERS.items():
        assert answer.headers.get(name) == value, name


def test_the_pages_referrer_policy_is_the_headers(client: TestClient) -> None:  # type: ignore[type-arg]
    """A reviewer's find: the pages' <meta name="referrer" content="no-referrer"> overrode the
    header's same-origin, under which a browser without Sec-Fetch-Site sends `Origin: null` on
    the login form's post, which the cross-site check then refuses."""
    import re

    page = client.get("/login")
    policies = re.findall(r'<meta name="referrer" content="([^"]+)">', page.text)
    assert policies in ([], [page.headers["referrer-policy"]])
    assert page.headers["referrer-policy"] == "same-origin"
