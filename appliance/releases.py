"""Appliance release versions and release manifests (which image each component runs).

Versions are `MAJOR.MINOR[.PATCH][-PRERELEASE]`: the field log's `1.0-rc5` was rejected by an
`x.y.z`-only check (finding-19), so prereleases and two-part versions are accepted everywhere.
Release manifests ship as YAML beside this module in `releases/<version>.yaml`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel

from appliance.errors import ReleaseError
from appliance.oci.reference import ImageReferenceError, parse_image

__all__ = [
    "ReleaseError",
    "ReleaseImage",
    "ReleaseManifest",
    "Version",
    "available_releases",
    "load_release",
    "parse_version",
]

_VERSION_RE = re.compile(
    r"^v?(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)(?:\.(?P<patch>0|[1-9]\d*))?"
    r"(?:-(?P<pre>[0-9A-Za-z]+(?:\.[0-9A-Za-z]+)*))?$"
)


@total_ordering
@dataclass(frozen=True)
class Version:
    """An appliance release version such as `1.0`, `1.0.3` or `1.0-rc5`."""

    major: int
    minor: int
    patch: int | None = None
    prerelease: str | None = None

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}"
        if self.patch is not None:
            text += f".{self.patch}"
        if self.prerelease:
            text += f"-{self.prerelease}"
        return text

    def _key(self) -> tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]:
        # A prerelease sorts before its release (1.0-rc5 < 1.0), numeric parts numerically.
        pre: tuple[tuple[int, int | str], ...] = ()
        if self.prerelease:
            pre = tuple(
                (0, int(part)) if part.isdigit() else (1, part)
                for part in re.split(r"[.]|(?<=\D)(?=\d)|(?<=\d)(?=\D)", self.prerelease)
                if part
            )
        return (self.major, self.minor, self.patch or 0, 0 if self.prerelease else 1, pre)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() < other._key()

    @property
    def is_prerelease(self) -> bool:
        """True for `-rcN`, `-beta.1` and friends."""
        return self.prerelease is not None


def parse_version(text: str) -> Version:
    """Parse a release version; raise ReleaseError naming the accepted forms."""
    match = _VERSION_RE.match(text.strip())
    if match is None:
        raise ReleaseError(
            f"release version {text!r} is not valid: use MAJOR.MINOR[.PATCH][-PRERELEASE], "
            "e.g. 1.0, 1.0.2 or 1.0-rc5"
        )
    patch = match.group("patch")
    return Version(
        major=int(match.group("major")),
        minor=int(match.group("minor")),
        patch=int(patch) if patch is not None else None,
        prerelease=match.group("pre"),
    )


class _Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, frozen=True, extra="forbid"
    )


class ReleaseImage(_Model):
    """One component's image in a release."""

    component: str
    image: str = Field(description="repository without tag, e.g. ghcr.io/nine-minds/alga-psa-ee")
    tag: str
    tier: Literal["core", "background"]
    required: bool = False
    preflight: bool = True
    estimated_size: str | None = None

    @property
    def reference(self) -> str:
        """`image:tag`, as a pod spec names it."""
        return f"{self.image}:{self.tag}"

    @model_validator(mode="after")
    def _reference_parses(self) -> ReleaseImage:
        # A reference the registry and the kubelet would reject fails at load, naming it (an
        # `image` that carries a tag or digest itself breaks the grammar once `:tag` is added).
        try:
            parse_image(self.reference)
        except ImageReferenceError as exc:
            raise ValueError(str(exc)) from None
        return self


class ReleaseManifest(_Model):
    """What a release installs: its version metadata and one image per component."""

    version: str
    app_version: str | None = None
    channel: str | None = None
    git_branch: str | None = None
    images: list[ReleaseImage]

    def image_for(self, component: str) -> ReleaseImage | None:
        """The image of one component, if the release ships it."""
        return next((i for i in self.images if i.component == component), None)

    @property
    def core_images(self) -> list[ReleaseImage]:
        """Images the login depends on."""
        return [i for i in self.images if i.tier == "core"]

    @property
    def background_images(self) -> list[ReleaseImage]:
        """Images of background services (never login-blocking)."""
        return [i for i in self.images if i.tier == "background"]


def _release_dir() -> Path:
    return Path(str(resources.files("appliance").joinpath("releases")))


def available_releases(*, directory: Path | None = None) -> list[str]:
    """Versions with a shipped release manifest, oldest first."""
    root = directory or _release_dir()
    names = [p.stem for p in root.glob("*.yaml")]
    return sorted(names, key=parse_version)


def load_release(version: str, *, directory: Path | None = None) -> ReleaseManifest:
    """Load the manifest of one release version (validated), or say which versions exist."""
    parsed = parse_version(version)
    root = directory or _release_dir()
    path = root / f"{parsed}.yaml"
    if not path.is_file():
        known = ", ".join(available_releases(directory=root)) or "none"
        raise ReleaseError(
            f"release {parsed} has no release manifest ({path.name} not found); "
            f"known releases: {known}"
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return ReleaseManifest.model_validate(data)
    except (yaml.YAMLError, ValidationError) as exc:
        raise ReleaseError(f"release manifest {path} is invalid: {exc}") from exc
