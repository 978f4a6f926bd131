"""Image references by the distribution grammar: `[registry/]repository[:tag][@digest]`.

The grammar and Docker's normalisation (a name without a registry is on Docker Hub, `docker.io`,
and a one-component Docker Hub name is in `library/`) are those of distribution/reference, which
containerd, Docker and kubelet use. The parsing is docker-image-py's, a maintained Python port of
that package (`Reference.parse_normalized_named` is Go's `ParseNormalizedNamed`), checked against
the Go package's own test vectors in tests/unit/test_image_reference.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from docker_image import digest as _digest
from docker_image import reference as _reference

from appliance.errors import InputError

__all__ = ["DOCKER_HUB", "ImageRef", "ImageReferenceError", "parse_image"]

DOCKER_HUB = "docker.io"
# Docker Hub's API lives at registry-1.docker.io; its images are named docker.io/...
_DOCKER_HUB_API = "registry-1.docker.io"
_DEFAULT_TAG = "latest"


class ImageReferenceError(InputError):
    """An image reference breaks the distribution grammar; the message quotes it and says why."""


@dataclass(frozen=True)
class ImageRef:
    """A normalised reference: registry host, repository path, and a tag, a digest or both."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def reference(self) -> str:
        """What a manifest URL names: the digest when there is one (it pins), else the tag."""
        return self.digest or self.tag or _DEFAULT_TAG

    @property
    def api_host(self) -> str:
        """The host that serves the registry API (Docker Hub's differs from its name)."""
        return _DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry

    def __str__(self) -> str:
        text = f"{self.registry}/{self.repository}"
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def parse_image(text: str) -> ImageRef:
    """Parse and normalise `text` (`busybox`, `ghcr.io/a/b:1`, `ghcr.io/a/b@sha256:...`)."""
    try:
        parsed = _reference.Reference.parse_normalized_named(text)
    except (_reference.InvalidReference, _digest.InvalidDigest) as exc:
        raise ImageReferenceError(f"image reference {text!r} is not valid: {exc}") from exc
    return ImageRef(
        registry=str(parsed.domain()),
        repository=str(parsed.path()),
        tag=parsed["tag"] or None,
        digest=parsed["digest"] or None,
    )
