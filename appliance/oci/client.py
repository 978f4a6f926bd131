"""A small OCI distribution API client: does an image's tag (or digest) exist, which tags do.

It speaks the token dance real registries (GHCR, Docker Hub) require: `GET /v2/` -> 401 with
`WWW-Authenticate: Bearer realm=...,service=...`, a pull token from the realm for
`repository:<name>:pull`, then `HEAD /v2/<name>/manifests/<tag or digest>`. With the admin's
Docker credentials for the registry (`credentials.py`) the token is asked for with them: Basic
user and password, or an OAuth2 refresh-token grant for an identity token; a registry that
challenges with `Basic` gets the user and password directly. Without credentials the tokens are
anonymous, which is all a public repository needs.

Credentials go only where the registry's own challenge points, and never over plain HTTP unless
the registry itself was reached over plain HTTP (a local test registry).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import TracebackType
from urllib.parse import urlencode, urlsplit

from appliance.errors import RegistryError
from appliance.oci.credentials import Credential, DockerCredentials
from appliance.oci.reference import ImageRef, parse_image
from appliance.plain_http import HTTPError, PlainHttp, failure_text

__all__ = ["RegistryClient", "TagCheck"]

_MANIFEST_ACCEPT = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)
_CHALLENGE_RE = re.compile(r'(\w+)="([^"]*)"')
_CLIENT_ID = "appliance-bootstrap"


@dataclass(frozen=True)
class TagCheck:
    """The answer for one image: exists, or missing with the tags that do exist."""

    image: ImageRef
    exists: bool
    available_tags: list[str] = field(default_factory=list)
    error: str | None = None


class RegistryClient:
    """Pull-scope client for one or more registries, with the admin's Docker credentials.

    `base_url` overrides where every image is looked up (a mirror, or a local registry in tests);
    without it each image's own registry host is used over HTTPS. Credentials are looked up for
    the host actually contacted. `credentials=None` reads the admin's Docker config.
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        timeout: float = 10.0,
        credentials: DockerCredentials | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/") if base_url else None
        # Like `docker pull`: proxies and CA bundle from the environment, redirects followed.
        self._client = PlainHttp(timeout=timeout, follow_redirects=True, trust_env=True)
        self._credentials = credentials if credentials is not None else DockerCredentials()
        self._auth: dict[tuple[str, str], str | None] = {}

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the HTTP connections."""
        self._client.close()

    def _base(self, image: ImageRef) -> str:
        return self._base_url or f"https://{image.api_host}"

    def _credential(self, base: str) -> Credential | None:
        return self._credentials.for_host(urlsplit(base).netloc)

    def _authorization(self, image: ImageRef) -> str | None:
        """The Authorization header for pulling `image` (None: the registry is open)."""
        base = self._base(image)
        key = (base, image.repository)
        if key in self._auth:
            return self._auth[key]
        try:
            probe = self._client.request("GET", f"{base}/v2/")
        except HTTPError as exc:
            raise RegistryError(f"registry {base} did not answer: {failure_text(exc)}") from exc
        value: str | None = None
        if probe.status == 401:
            challenge = probe.headers.get("www-authenticate", "")
            scheme = challenge.split(" ", 1)[0].lower()
            credential = self._credential(base)
            if scheme == "basic":
                if credential is None or not credential.username:
                    raise RegistryError(_login_hint(base, "wants a user and password", None))
                value = f"Basic {credential.basic}"
            elif scheme == "bearer":
                token = self._bearer_token(base, challenge, image.repository, credential)
                value = f"Bearer {token}" if token else None
            else:
                raise RegistryError(f"registry {base} wants {scheme or 'unknown'} auth")
        elif probe.status >= 400:
            raise RegistryError(f"registry {base} answered /v2/ with HTTP {probe.status}")
        self._auth[key] = value
        return value

    def _bearer_token(
        self, base: str, challenge: str, repository: str, credential: Credential | None
    ) -> str | None:
        params = dict(_CHALLENGE_RE.findall(challenge))
        realm = params.pop("realm", None)
        if not realm:
            raise RegistryError(f"registry {base} sent a Bearer challenge without realm")
        if credential is not None and credential.registry_token:
            return credential.registry_token
        if credential is not None and realm.startswith("http://") and base.startswith("https://"):
            raise RegistryError(
                f"registry {base} sent its token service as plain HTTP ({realm}); "
                f"credentials from {credential.source} are not sent there"
            )
        scope = f"repository:{repository}:pull"
        query = {**params, "scope": scope}
        try:
            if credential is not None and credential.identity_token:
                form = {
                    "grant_type": "refresh_token",
                    "refresh_token": credential.identity_token,
                    "client_id": _CLIENT_ID,
                    "service": params.get("service", ""),
                    "scope": scope,
                }
                answer = self._client.request(
                    "POST",
                    realm,
                    body=urlencode(form).encode(),
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                )
            elif credential is not None and credential.username:
                headers = {"Authorization": f"Basic {credential.basic}"}
                answer = self._client.request("GET", _with_query(realm, query), headers=headers)
            else:
                answer = self._client.request("GET", _with_query(realm, query))
        except HTTPError as exc:
            raise RegistryError(
                f"token service {realm} did not answer: {failure_text(exc)}"
            ) from exc
        if answer.status in (401, 403):
            raise RegistryError(_login_hint(base, "refused the credentials", credential))
        if answer.status != 200:
            raise RegistryError(
                f"token service {realm} refused a pull token for {repository} "
                f"(HTTP {answer.status})"
            )
        try:
            body = answer.json()
            token = body.get("token") or body.get("access_token")
        except (ValueError, AttributeError) as exc:
            raise RegistryError(f"token service {realm} answered no JSON object") from exc
        return str(token) if token else None

    def _headers(self, image: ImageRef, *, accept: str | None = None) -> dict[str, str]:
        headers: dict[str, str] = {}
        authorization = self._authorization(image)
        if authorization:
            headers["Authorization"] = authorization
        if accept:
            headers["Accept"] = accept
        return headers

    def manifest_exists(self, image: ImageRef) -> bool:
        """HEAD the manifest: True on 200, False on 404 (MANIFEST_UNKNOWN / NAME_UNKNOWN)."""
        base = self._base(image)
        url = f"{base}/v2/{image.repository}/manifests/{image.reference}"
        try:
            answer = self._client.request(
                "HEAD", url, headers=self._headers(image, accept=_MANIFEST_ACCEPT)
            )
        except HTTPError as exc:
            raise RegistryError(f"registry lookup of {image} failed: {failure_text(exc)}") from exc
        if answer.status == 200:
            return True
        if answer.status == 404:
            return False
        if answer.status in (401, 403):
            credential = self._credential(base)
            raise RegistryError(
                _login_hint(base, f"refused access to {image.repository}", credential)
            )
        raise RegistryError(f"registry answered HTTP {answer.status} for {image}")

    def list_tags(self, image: ImageRef) -> list[str]:
        """Tags of the repository (empty when the registry does not list them)."""
        url = f"{self._base(image)}/v2/{image.repository}/tags/list"
        try:
            answer = self._client.request("GET", url, headers=self._headers(image))
        except HTTPError:
            return []
        if answer.status != 200:
            return []
        try:
            tags = answer.json().get("tags") or []
        except (ValueError, AttributeError):
            return []
        return [str(t) for t in tags]

    def check(self, reference: str) -> TagCheck:
        """Does `reference` exist? If not, which tags of its repository do."""
        image = parse_image(reference)
        try:
            if self.manifest_exists(image):
                return TagCheck(image=image, exists=True)
            return TagCheck(image=image, exists=False, available_tags=self.list_tags(image))
        except RegistryError as exc:
            return TagCheck(image=image, exists=False, error=str(exc))


def _with_query(url: str, query: dict[str, str]) -> str:
    """`url` with `query` appended (the token realm may carry a query of its own)."""
    return f"{url}{'&' if '?' in url else '?'}{urlencode(query)}"


def _login_hint(base: str, what: str, credential: Credential | None) -> str:
    host = urlsplit(base).netloc
    used = (
        f"credentials from {credential.source}"
        if credential
        else "no credentials for it in the Docker config"
    )
    return f"registry {host} {what} ({used}): log in with `docker login {host}` and rerun"
