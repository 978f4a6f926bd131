"""A small OCI distribution API client: does a tag exist, which tags do.

It speaks the anonymous token dance real registries (GHCR, Docker Hub) require:
`GET /v2/` -> 401 with `WWW-Authenticate: Bearer realm=...,service=...`, then a pull token from
the realm for `repository:<name>:pull`, then `HEAD /v2/<name>/manifests/<tag>`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import TracebackType

import httpx

from appliance.errors import RegistryError

__all__ = [
    "ImageRef",
    "RegistryClient",
    "RegistryError",
    "TagCheck",
    "parse_image",
]

_MANIFEST_ACCEPT = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)
_DOCKER_HUB = "registry-1.docker.io"
_CHALLENGE_RE = re.compile(r'(\w+)="([^"]*)"')


@dataclass(frozen=True)
class ImageRef:
    """An image split into registry host, repository and tag."""

    registry: str
    repository: str
    tag: str

    def __str__(self) -> str:
        return f"{self.registry}/{self.repository}:{self.tag}"


def parse_image(reference: str) -> ImageRef:
    """Split `host/repo:tag` (Docker Hub short names included) into its parts."""
    name, _, tag = reference.rpartition(":")
    if not name or "/" in tag:
        name, tag = reference, "latest"
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        registry, repository = first, rest
    else:
        registry, repository = _DOCKER_HUB, name
        if "/" not in repository:
            repository = f"library/{repository}"
    return ImageRef(registry=registry, repository=repository, tag=tag)


@dataclass(frozen=True)
class TagCheck:
    """The answer for one image: exists, or missing with the tags that do exist."""

    image: ImageRef
    exists: bool
    available_tags: list[str] = field(default_factory=list)
    error: str | None = None


class RegistryClient:
    """Anonymous pull-scope client for one or more registries.

    `base_url` overrides where every image is looked up (a mirror, or a local registry in tests);
    without it each image's own registry host is used over HTTPS.
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/") if base_url else None
        self._client = httpx.Client(timeout=timeout, transport=transport, follow_redirects=True)
        self._tokens: dict[tuple[str, str], str | None] = {}

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
        return self._base_url or f"https://{image.registry}"

    def _token(self, image: ImageRef) -> str | None:
        key = (self._base(image), image.repository)
        if key in self._tokens:
            return self._tokens[key]
        base = self._base(image)
        try:
            probe = self._client.get(f"{base}/v2/")
        except httpx.HTTPError as exc:
            raise RegistryError(f"registry {base} did not answer: {exc}") from exc
        token: str | None = None
        if probe.status_code == 401:
            challenge = probe.headers.get("www-authenticate", "")
            if not challenge.lower().startswith("bearer"):
                raise RegistryError(
                    f"registry {base} wants {challenge.split(' ')[0] or 'unknown'} auth; "
                    "only anonymous bearer tokens are supported"
                )
            params = dict(_CHALLENGE_RE.findall(challenge))
            realm = params.pop("realm", None)
            if not realm:
                raise RegistryError(f"registry {base} sent a Bearer challenge without realm")
            params["scope"] = f"repository:{image.repository}:pull"
            try:
                answer = self._client.get(realm, params=params)
            except httpx.HTTPError as exc:
                raise RegistryError(f"token service {realm} did not answer: {exc}") from exc
            if answer.status_code != 200:
                raise RegistryError(
                    f"token service {realm} refused a pull token for {image.repository} "
                    f"(HTTP {answer.status_code})"
                )
            body = answer.json()
            token = body.get("token") or body.get("access_token")
        elif probe.status_code >= 400:
            raise RegistryError(f"registry {base} answered /v2/ with HTTP {probe.status_code}")
        self._tokens[key] = token
        return token

    def _headers(self, image: ImageRef, *, accept: str | None = None) -> dict[str, str]:
        headers: dict[str, str] = {}
        token = self._token(image)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if accept:
            headers["Accept"] = accept
        return headers

    def manifest_exists(self, image: ImageRef) -> bool:
        """HEAD the manifest: True on 200, False on 404 (MANIFEST_UNKNOWN / NAME_UNKNOWN)."""
        url = f"{self._base(image)}/v2/{image.repository}/manifests/{image.tag}"
        try:
            answer = self._client.head(url, headers=self._headers(image, accept=_MANIFEST_ACCEPT))
        except httpx.HTTPError as exc:
            raise RegistryError(f"registry lookup of {image} failed: {exc}") from exc
        if answer.status_code == 200:
            return True
        if answer.status_code == 404:
            return False
        raise RegistryError(f"registry answered HTTP {answer.status_code} for {image}")

    def list_tags(self, image: ImageRef) -> list[str]:
        """Tags of the repository (empty when the registry does not list them)."""
        url = f"{self._base(image)}/v2/{image.repository}/tags/list"
        try:
            answer = self._client.get(url, headers=self._headers(image))
        except httpx.HTTPError:
            return []
        if answer.status_code != 200:
            return []
        tags = answer.json().get("tags") or []
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
