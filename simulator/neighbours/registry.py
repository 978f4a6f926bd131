"""The simulated OCI registry: which image tags exist, how big they are, how long they take to pull.

Two faces over one `RegistryContents`:
- the kubelet model (`simulator/world/kubelet.py`) asks `ImageRegistry.begin_pull(ref)` whether a
  tag exists, how long its pull takes and whether this attempt is interrupted (finding-15), with
  containerd's texts;
- `RegistryServer` speaks the OCI distribution API over real HTTP on loopback the way ghcr.io does
  (anonymous bearer-token dance, HEAD/GET manifests, 404 `MANIFEST_UNKNOWN`, tags/list), so
  production preflight code that checks tags cannot tell it from ghcr.io.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

__all__ = [
    "ImageRef",
    "ImageRegistry",
    "ImageSpec",
    "PullPlan",
    "RegistryAccount",
    "RegistryContents",
    "parse_image_ref",
]

INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json"
MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"
CONFIG_MEDIA_TYPE = "application/vnd.oci.image.config.v1+json"
LAYER_MEDIA_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"


class _Spec(BaseModel):
    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True
    )


class ImageSpec(_Spec):
    """One image reference as the registry holds it (a scenario's `registry.images` value)."""

    present: bool = True
    size_bytes: int = Field(default=50_000_000, ge=0)
    # The observed alga-core pull took ~16 minutes for ~1.8 GB (finding-06): scenarios say it here.
    pull_seconds: float = Field(default=5.0, ge=0)
    # finding-15: the first pull of email-service was canceled; a retry (pod delete) succeeded.
    interrupt_first_pull: bool = False
    # Other tags of the same repository the registry lists (finding-17: `latest` exists).
    tags_listed: list[str] | None = None
    # A private repository: the HTTP registry grants pull only to a token issued for an account
    # (`RegistryContents.accounts`); the kubelet model does not model pull secrets.
    private: bool = False


class RegistryAccount(_Spec):
    """A user of the HTTP registry, as `docker login` would authenticate."""

    password: str
    # An OAuth2 refresh token the token service also accepts (Docker's `identitytoken`).
    identity_token: str | None = None


@dataclass(frozen=True)
class ImageRef:
    """A normalised image reference: registry host, repository path, and tag or digest."""

    host: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def reference(self) -> str:
        """The tag or digest part as it appears in a manifest URL."""
        return self.digest or self.tag or "latest"

    def __str__(self) -> str:
        if self.digest:
            return f"{self.host}/{self.repository}@{self.digest}"
        return f"{self.host}/{self.repository}:{self.tag or 'latest'}"


def parse_image_ref(ref: str) -> ImageRef:
    """Normalise `busybox`, `ghcr.io/org/app:tag` or `host/app@sha256:..` as containerd does."""
    digest: str | None = None
    name = ref
    if "@" in ref:
        name, digest = ref.split("@", 1)
    tag: str | None = None
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = name.rsplit(":", 1)
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        host, repository = first, rest
    else:
        host, repository = "docker.io", name
    if host == "docker.io" and "/" not in repository:
        repository = f"library/{repository}"
    if tag is None and digest is None:
        tag = "latest"
    return ImageRef(host=host, repository=repository, tag=tag, digest=digest)


class RegistryContents(_Spec):
    """What the registries hold: image reference -> `ImageSpec`, plus what unlisted images do.

    Keys are full references (`ghcr.io/nine-minds/alga-psa-ee:94446747`); `busybox` style short
    names are normalised, so `docker.io/library/busybox:latest` and `busybox` are the same key.
    """

    images: dict[str, ImageSpec] = Field(default_factory=dict)
    # Images a scenario does not name (postgres, redis, busybox...) exist unless it says otherwise.
    unlisted_present: bool = True
    unlisted_size_bytes: int = Field(default=50_000_000, ge=0)
    unlisted_pull_seconds: float = Field(default=5.0, ge=0)
    # Usernames -> accounts; a private repository needs a token issued to one of them.
    accounts: dict[str, RegistryAccount] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _keys_parse(self) -> RegistryContents:
        for key in self.images:
            if not key.strip() or any(c.isspace() for c in key):
                raise ValueError(f"image reference {key!r} must be non-empty without spaces")
        return self

    @cached_property
    def _by_ref(self) -> dict[str, ImageSpec]:
        # Normalised once: the kubelet model looks images up on every pull.
        return {str(parse_image_ref(k)): v for k, v in self.images.items()}

    def _index(self) -> dict[str, ImageSpec]:
        return self._by_ref

    def lookup(self, ref: str) -> ImageSpec | None:
        """The spec for `ref`, a default spec for unlisted images, None when it does not exist."""
        spec = self._index().get(str(parse_image_ref(ref)))
        if spec is None:
            if not self.unlisted_present:
                return None
            spec = ImageSpec(
                size_bytes=self.unlisted_size_bytes, pull_seconds=self.unlisted_pull_seconds
            )
        return spec if spec.present else None

    def is_listed(self, ref: str) -> bool:
        """Whether the scenario names `ref` explicitly (present or not)."""
        return str(parse_image_ref(ref)) in self._index()

    def is_private(self, host: str, repository: str) -> bool:
        """Whether any listed image of the repository is private."""
        return any(
            spec.private and (ref.host, ref.repository) == (host, repository)
            for ref, spec in ((parse_image_ref(k), v) for k, v in self.images.items())
        )

    def tags(self, host: str, repository: str) -> list[str] | None:
        """Tags the registry lists for a repository; None when it does not know the repository."""
        found: set[str] = set()
        known = False
        for key, spec in self._index().items():
            parsed = parse_image_ref(key)
            if parsed.host != host or parsed.repository != repository:
                continue
            known = True
            if spec.present and parsed.tag:
                found.add(parsed.tag)
            found.update(spec.tags_listed or [])
        return sorted(found) if known else None


@dataclass(frozen=True)
class PullPlan:
    """What one pull attempt of an image will do, for the kubelet model."""

    ref: str
    found: bool
    seconds: float
    size_bytes: int
    interrupted: bool
    attempt: int
    # containerd's message for a failed pull (empty when the pull succeeds).
    error: str
    # The kubelet's event reason when it fails (`ErrImagePull`), empty on success.
    reason: str


class ImageRegistry:
    """The stateful model: counts pull attempts so `interruptFirstPull` cancels only the first."""

    def __init__(self, contents: RegistryContents) -> None:
        self.contents = contents
        self._lock = threading.Lock()
        self._attempts: dict[str, int] = {}

    def exists(self, ref: str) -> bool:
        """Whether `ref` can be pulled."""
        return self.contents.lookup(ref) is not None

    def attempts(self, ref: str) -> int:
        """How many pulls of `ref` have begun."""
        with self._lock:
            return self._attempts.get(str(parse_image_ref(ref)), 0)

    def begin_pull(self, ref: str) -> PullPlan:
        """Start a pull of `ref` (as written in the pod spec) and say how it ends."""
        key = str(parse_image_ref(ref))
        with self._lock:
            attempt = self._attempts.get(key, 0) + 1
            self._attempts[key] = attempt
        spec = self.contents.lookup(ref)
        if spec is None:
            error = (
                f'rpc error: code = NotFound desc = failed to pull and unpack image "{key}": '
                f'failed to resolve reference "{key}": {key}: not found'
            )
            return PullPlan(ref, False, 0.0, 0, False, attempt, error, "ErrImagePull")
        if spec.interrupt_first_pull and attempt == 1:
            # The observed email-service pull was canceled part way (finding-15).
            error = (
                f'rpc error: code = Canceled desc = failed to pull and unpack image "{key}": '
                "context canceled"
            )
            return PullPlan(
                ref,
                True,
                spec.pull_seconds / 2,
                spec.size_bytes,
                True,
                attempt,
                error,
                "ErrImagePull",
            )
        return PullPlan(ref, True, spec.pull_seconds, spec.size_bytes, False, attempt, "", "")
