"""Release validation: the image-tag preflight against the registry, before any long wait.

Core images are required: a missing one fails at once with a release-artifact blocker (login can
never come). Background images only warn, naming the missing tags and the tags that do exist
(finding-16/17, T018); the install continues and the status page reports them as background issues.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from appliance.bootstrap.display import Display
from appliance.errors import BootstrapError
from appliance.oci import RegistryClient, TagCheck
from appliance.releases import ReleaseImage, ReleaseManifest

__all__ = ["PreflightReport", "validate_release_images"]

_SHOWN_TAGS = 8


@dataclass(frozen=True)
class PreflightReport:
    """What the preflight found."""

    checked: tuple[str, ...]
    missing_core: tuple[TagCheck, ...]
    missing_background: tuple[TagCheck, ...]


def _describe(check: TagCheck) -> str:
    text = str(check.image)
    if check.error:
        return f"{text} (lookup failed: {check.error})"
    if check.available_tags:
        tags = sorted(check.available_tags)
        shown = ", ".join(tags[:_SHOWN_TAGS]) + (" ..." if len(tags) > _SHOWN_TAGS else "")
        return f"{text} (tags that exist: {shown})"
    return f"{text} (no tags listed)"


def validate_release_images(
    release: ReleaseManifest,
    *,
    display: Display,
    registry_url: str | None,
    client_factory: Callable[[str | None], RegistryClient] = RegistryClient,
) -> PreflightReport:
    """Check every release image tag; raise for missing core images, warn for background ones."""
    images: list[ReleaseImage] = [i for i in release.images if i.preflight]
    # Each check is a few round trips to the registry (token, manifest, tags): ask for every
    # image at once (the client is thread-safe); the report keeps the release's order.
    with (
        client_factory(registry_url) as client,
        ThreadPoolExecutor(max_workers=max(1, min(len(images), 8))) as pool,
    ):
        found = list(pool.map(lambda image: client.check(image.reference), images))
    checks = list(zip(images, found, strict=True))
    for image, check in checks:
        state = "ok" if check.exists else ("UNVERIFIED" if check.error else "MISSING")
        display.progress(f"image {image.reference} [{image.tier}]: {state}")
    # A registry we cannot ask proves nothing: warn, and let the status page report real pulls.
    unverified = [c for _, c in checks if c.error]
    if unverified:
        display.warn(
            "could not verify image tags (registry not reachable from here): "
            + "; ".join(_describe(c) for c in unverified)
        )
    missing_core = tuple(c for i, c in checks if not c.exists and not c.error and i.tier == "core")
    missing_background = tuple(
        c for i, c in checks if not c.exists and not c.error and i.tier == "background"
    )
    if missing_core:
        raise BootstrapError(
            "Release artifact blocker: required core image(s) missing from the registry: "
            + "; ".join(_describe(c) for c in missing_core),
            layer="release artifacts",
            next_action=f"publish the missing image tags for release {release.version} or choose "
            "another --release-version (login cannot succeed without them)",
        )
    if missing_background:
        display.warn(
            "Release artifact warning: background image tag(s) missing: "
            + "; ".join(_describe(c) for c in missing_background)
            + ". Core install continues; these services will show as background issues "
            "(they never block login)."
        )
    return PreflightReport(
        checked=tuple(i.reference for i, _ in checks),
        missing_core=missing_core,
        missing_background=missing_background,
    )
