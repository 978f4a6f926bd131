"""Release versions (prereleases included) and the shipped release manifests."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.releases import ReleaseError, available_releases, load_release, parse_version


@pytest.mark.parametrize("text", ["1.0-rc5", "1.0", "1.0.2", "v2.3.4-beta.1"])
def test_versions_with_and_without_prerelease_parse(text: str) -> None:
    """finding-19: MAJOR.MINOR[.PATCH][-PRE] all parse and print back."""
    assert str(parse_version(text)) == text.lstrip("v")


@pytest.mark.parametrize("text", ["1", "1.0.x", "latest", "1.0-", ""])
def test_bad_versions_name_the_accepted_forms(text: str) -> None:
    """A bad version raises ReleaseError with an example of a good one."""
    with pytest.raises(ReleaseError, match=r"1\.0-rc5"):
        parse_version(text)


def test_prereleases_sort_before_their_release_and_numerically() -> None:
    """1.0-rc5 < 1.0-rc10 < 1.0 < 1.0.1."""
    ordered = [parse_version(v) for v in ("1.0-rc5", "1.0-rc10", "1.0", "1.0.1")]
    assert ordered == sorted(ordered, key=lambda v: v)
    assert parse_version("1.0-rc10") > parse_version("1.0-rc5")


def test_rc5_manifest_has_the_observed_images() -> None:
    """The 1.0-rc5 manifest pins the field log's core and background tags."""
    release = load_release("1.0-rc5")
    core = release.image_for("alga-core")
    assert core is not None
    assert core.reference == "ghcr.io/nine-minds/alga-psa-ee:94446747"
    assert core.required
    assert {i.component for i in release.background_images} >= {
        "email-service",
        "workflow-worker",
        "temporal-worker",
    }
    assert "1.0-rc5" in available_releases()


def test_unknown_release_lists_known_ones() -> None:
    """Asking for a release without a manifest names the known releases."""
    with pytest.raises(ReleaseError, match=r"known releases: .*1\.0-rc5"):
        load_release("9.9")


@pytest.mark.parametrize(
    "image", ["ghcr.io/Nine-Minds/app", "ghcr.io/a/b:2", "ghcr.io/a/b@sha256:abc"]
)
def test_an_image_that_breaks_the_reference_grammar_is_rejected_at_load(
    tmp_path: Path, image: str
) -> None:
    """A release manifest whose image would not parse fails at load with the reference quoted."""
    (tmp_path / "1.0.yaml").write_text(
        f"version: '1.0'\nimages:\n  - {{component: app, image: '{image}', tag: '1', tier: core}}\n"
    )
    with pytest.raises(ReleaseError) as raised:
        load_release("1.0", directory=tmp_path)
    assert f"{image}:1" in str(raised.value)
    assert "1.0.yaml" in str(raised.value)
