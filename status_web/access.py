"""Who may do what: the token gate before every handler, same-origin unsafe methods, safe
redirects, and the security headers every response carries.

- `authenticate` runs before every handler: a valid session cookie or bearer token passes; a
  `?token=` on a page sets the cookie and redirects to the same URL without the token (so it
  leaves the address bar and the history); anything else gets the login page (HTML) or 401 JSON
  (API). Wrong tokens are counted per client address and answered 429.
- Unsafe methods (POST) must come from this origin: a cross-site form cannot log the admin out
  or in (`Sec-Fetch-Site`, else `Origin`; a script without either is not a browser and passes).
- `safe_next` keeps the login form from being an open redirect.
- `security_headers` is a before-send hook, so 404, 405, 500 and every error Litestar answers
  before routing carry the headers too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from litestar import MediaType, Request, Response
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.types import Message, Scope

from status_web.authenticating import COOKIE_NAME, FailureLimiter, TokenGate
from status_web.payloads import ErrorBody
from status_web.rendering import render_login, script_source_hash

__all__ = [
    "PAGE",
    "PUBLIC",
    "SECURITY_HEADERS",
    "Access",
    "authenticate",
    "client_address",
    "error_response",
    "login_cookie",
    "logout_cookie",
    "path_without_token",
    "safe_next",
    "security_headers",
    "too_many",
]

PUBLIC = "public"
PAGE = "page"
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    # Same-origin, not no-referrer: under no-referrer browsers send `Origin: null` even on our
    # own form posts, and the Origin check below needs the real one. Other sites (the app on
    # :3000 is one) still get no referrer.
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    # The one script is the pages' own, allowed by its hash. Styles stay 'unsafe-inline': the
    # timeline's bars are placed by style attributes computed per page (numbers the server
    # writes), which no hash can name, and CSS cannot run code.
    "Content-Security-Policy": (
        "default-src 'self'; style-src 'self' 'unsafe-inline'; "
        f"script-src {script_source_hash()}; img-src 'self' data:; frame-ancestors 'none'; "
        "form-action 'self'"
    ),
}
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_SAME_SITE_FETCHES = frozenset({"same-origin", "none"})


@dataclass(frozen=True)
class Access:
    """The token gate and the failure limiter of one app."""

    gate: TokenGate
    limiter: FailureLimiter


def _access(request: Request[Any, Any, Any]) -> Access:
    access: Access = request.app.state.status_access
    return access


def client_address(request: Request[Any, Any, Any]) -> str:
    """The peer's address (no proxy headers are trusted: hostPort traffic is direct)."""
    return request.client.host if request.client else "unknown"


def safe_next(value: str | None) -> str:
    """`value` if it is a path on this site, else `/`.

    Only printable ASCII without spaces or backslashes, starting with one `/`: browsers drop tabs
    and newlines (`/\\t/evil` becomes `//evil`) and read `\\` as `/`, and a control character
    in a Location header would not even be sent.
    """
    if not value or not value.startswith("/") or value.startswith("//"):
        return "/"
    if not all(0x21 <= ord(char) <= 0x7E for char in value) or "\\" in value:
        return "/"
    return value


def path_without_token(request: Request[Any, Any, Any]) -> str:
    """This request's path and query, minus any `token` parameter."""
    remaining = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
    path = request.url.path
    return f"{path}?{urlencode(remaining)}" if remaining else path


def login_cookie(gate: TokenGate) -> Cookie:
    """A fresh session cookie; the browser forgets it when the session would expire anyway."""
    return Cookie(
        key=COOKIE_NAME,
        value=gate.cookie_value(),
        path="/",
        max_age=int(gate.session_seconds),
        httponly=True,
        samesite="strict",
    )


def logout_cookie() -> Cookie:
    """The cookie that makes the browser forget the session."""
    return Cookie(key=COOKIE_NAME, value="", path="/", max_age=0, httponly=True, samesite="strict")


def error_response(
    status: int, code: str, detail: str, headers: dict[str, str] | None = None
) -> Response[Any]:
    """The JSON error body every API refusal uses."""
    return Response(
        content=ErrorBody(error=code, detail=detail).model_dump(mode="json", by_alias=True),
        status_code=status,
        media_type=MediaType.JSON,
        headers=headers or {},
    )


def too_many(
    request: Request[Any, Any, Any], retry_after: int, *, page: bool, next_path: str
) -> Response[Any]:
    """429: the login form again (keeping where the admin was going), or JSON."""
    headers = {"Retry-After": str(retry_after)}
    if page:
        return Response(
            content=render_login(
                next_path=safe_next(next_path),
                error=f"Too many wrong tokens from your address. Try again in {retry_after} s.",
            ),
            status_code=429,
            media_type=MediaType.HTML,
            headers=headers,
        )
    return error_response(
        429,
        "rate_limited",
        f"too many wrong tokens from {client_address(request)}; retry after {retry_after} s",
        headers,
    )


def _unauthorized(request: Request[Any, Any, Any], *, page: bool, wrong: bool) -> Response[Any]:
    if page:
        return Response(
            content=render_login(
                next_path=safe_next(path_without_token(request)),
                error="That token is not right." if wrong else None,
            ),
            status_code=401,
            media_type=MediaType.HTML,
        )
    return error_response(
        401,
        "unauthorized",
        "send the status token as `Authorization: Bearer <token>`; it was printed by the "
        "bootstrapper and is in Secret appliance-system/appliance-status-auth",
        {"WWW-Authenticate": 'Bearer realm="appliance-status"'},
    )


def _cross_site(request: Request[Any, Any, Any]) -> str | None:
    """Why an unsafe request comes from another site, or None when it does not.

    `Sec-Fetch-Site` is set by the browser and cannot be forged by a page: when present it
    decides. Older browsers send only `Origin`, which must then be this service's own.
    """
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        if fetch_site.strip().lower() in _SAME_SITE_FETCHES:
            return None
        return f"Sec-Fetch-Site is {fetch_site!r}"
    origin = request.headers.get("origin")
    if origin is None:
        return None
    own = f"{request.url.scheme}://{request.headers.get('host', '')}".lower()
    if origin.strip().lower() != own:
        return f"Origin {origin!r} is not {own!r}"
    return None


async def authenticate(  # noqa: PLR0911 - one exit per outcome reads best here
    request: Request[Any, Any, Any],
) -> Response[Any] | None:
    """Runs before every handler; returns a response to refuse, or None to let it through."""
    opt = request.route_handler.opt
    if request.method not in _SAFE_METHODS:
        why = _cross_site(request)
        if why is not None:
            return error_response(
                403, "cross_site", f"refused: this form must be sent from the status page ({why})"
            )
    if opt.get(PUBLIC):
        if request.method == "GET" and "token" in request.query_params:
            # A token pasted into a public page's URL (the login form's) leaves it at once.
            return Response(
                content=b"",
                status_code=303,
                headers={"Location": safe_next(path_without_token(request))},
            )
        return None
    access = _access(request)
    gate, limiter = access.gate, access.limiter
    page = bool(opt.get(PAGE))
    if gate.check_cookie(request.cookies.get(COOKIE_NAME)):
        return None
    client = client_address(request)
    retry_after = limiter.retry_after(client)
    if retry_after is not None:
        return too_many(request, retry_after, page=page, next_path=path_without_token(request))
    header = request.headers.get("authorization", "")
    scheme, _, credential = header.partition(" ")
    if scheme.lower() == "bearer" and credential:
        if gate.check_header_token(credential.strip()):
            return None
        limiter.record_failure(client)
        return _unauthorized(request, page=page, wrong=True)
    query_token = request.query_params.get("token")
    if query_token is not None and not page:
        # The API takes the token in a header only: a URL ends up in shell history, `ps` and
        # proxies' logs, and an API call has no address bar to clean.
        return error_response(
            401,
            "token_in_url",
            "send the status token as `Authorization: Bearer <token>`, not in the URL",
            {"WWW-Authenticate": 'Bearer realm="appliance-status"'},
        )
    if query_token is not None:
        if not gate.check_token(query_token):
            limiter.record_failure(client)
            return _unauthorized(request, page=page, wrong=True)
        if page and request.method == "GET":
            # The token leaves the URL: cookie set, same page without ?token=.
            return Response(
                content=b"",
                status_code=303,
                headers={"Location": safe_next(path_without_token(request))},
                cookies=[login_cookie(gate)],
            )
        return None
    return _unauthorized(request, page=page, wrong=False)


async def security_headers(message: Message, _scope: Scope) -> None:
    """Before-send hook: every response start gets the security headers it does not set."""
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    for name, value in SECURITY_HEADERS.items():
        if name not in headers:
            headers[name] = value
