"""Fuzzing what a stranger controls: login's `next` and token, bearer headers, cookies, token files.

Whatever arrives, the answer is a refusal or a redirect to this site, never a server error, and a
token file is a token or one line naming the file: never a traceback.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from appliance.errors import TokenError
from appliance.tokens import read_token_file
from status_web.access import safe_next
from status_web.app import create_app
from status_web.authenticating import COOKIE_NAME, FailureLimiter, TokenGate
from status_web.observations import MutableProvider
from tests.unit.status_web.samples import installing

TOKEN = "fuzz-token-☃"
FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
# Text as a browser or a script may send it: any code point, with control characters and
# the tricks browsers normalise away (tab, newline, backslash) made likely.
tricky = st.text(
    alphabet=st.one_of(
        st.sampled_from(["/", "\\", "\t", "\n", "\r", "\x00", "%", ".", ":", "@", "?", "#", " "]),
        st.characters(exclude_categories=("Cs",)),  # a surrogate cannot be sent at all
    ),
    max_size=40,
)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:  # type: ignore[type-arg]
    limiter = FailureLimiter(max_failures=1_000_000)
    app = create_app(provider=MutableProvider(installing()), token=TOKEN, limiter=limiter)
    with TestClient(app) as test_client:
        yield test_client


def same_site(location: str) -> bool:
    return (
        location.startswith("/")
        and not location.startswith("//")
        and "\\" not in location
        and all(0x21 <= ord(c) <= 0x7E for c in location)
    )


@FUZZ
@given(value=tricky)
def test_safe_next_only_ever_answers_a_path_of_this_site(value: str) -> None:
    """Whatever `next` is, the result is a same-site path; a safe one is kept as it is."""
    result = safe_next(value)
    assert same_site(result)
    if same_site(value):
        assert result == value


@FUZZ
@given(next_value=tricky, token=st.one_of(st.just(TOKEN), tricky))
def test_login_never_errs_and_never_redirects_off_site(
    client: TestClient,  # type: ignore[type-arg]
    next_value: str,
    token: str,
) -> None:
    """POST /login with any `next` and token: 303 to this site, 401 or 400; never a 5xx."""
    client.cookies.clear()
    response = client.post(
        "/login", data={"token": token, "next": next_value}, follow_redirects=False
    )
    assert response.status_code in (303, 400, 401), response.text
    if response.status_code == 303:
        assert token == TOKEN
        assert same_site(response.headers["location"])


@FUZZ
@given(raw=st.binary(max_size=60))
def test_any_bearer_bytes_are_refused_without_error(
    client: TestClient,  # type: ignore[type-arg]
    raw: bytes,
) -> None:
    """An Authorization header of arbitrary bytes is 401 unless it is the token's bytes."""
    client.cookies.clear()
    value = b"Bearer " + raw.replace(b"\r", b"").replace(b"\n", b"").replace(b"\x00", b"")
    response = client.get("/api/overview", headers=[(b"authorization", value)])
    expected = 200 if value.strip() == b"Bearer " + TOKEN.encode() else 401
    assert response.status_code == expected


@FUZZ
@given(cookie=st.text(max_size=120))
def test_any_cookie_is_a_yes_or_no(cookie: str) -> None:
    """Checking a forged cookie never raises; only a minted one passes."""
    gate = TokenGate(TOKEN)
    assert gate.check_cookie(cookie) is (cookie == gate.cookie_value() and cookie != "")


@FUZZ
@given(query_token=tricky)
def test_any_query_token_is_refused_or_accepted_without_error(
    client: TestClient,  # type: ignore[type-arg]
    query_token: str,
) -> None:
    """`?token=` with any text: 303 with a cookie for the right one, 401 otherwise."""
    client.cookies.clear()
    response = client.get("/", params={"token": query_token}, follow_redirects=False)
    if query_token == TOKEN:
        assert response.status_code == 303
        assert COOKIE_NAME in response.headers["set-cookie"]
        assert same_site(response.headers["location"])
    else:
        assert response.status_code == 401


@FUZZ
@given(content=st.binary(max_size=200))
def test_a_token_file_is_a_token_or_one_line_naming_it(content: bytes) -> None:
    """Any bytes in a token file: a stripped one-line token, or TokenError naming the file."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "status-token"
        path.write_bytes(content)
        try:
            value = read_token_file(path)
        except TokenError as exc:
            message = str(exc)
        else:
            assert value == value.strip()
            assert "\n" not in value
            return
    assert str(path) in message
    assert "\n" not in message
