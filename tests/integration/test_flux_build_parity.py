"""What the bootstrapper builds is what (simulated) Flux builds: one kustomize on both sides.

The bootstrapper builds `appliance/manifests/{flux,status}` with `kubectl kustomize`; the
simulator's kustomize-controller builds the Kustomizations the bootstrapper submits from a git
checkout, through Flux's generator (`spec.images`), with the same kustomize. For every manifest
directory the two builds must give the same objects.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from appliance.bootstrap.manifests import build, manifest_dir
from appliance.bootstrap.platform import flux_sync_objects
from appliance.releases import load_release
from simulator.world.flux_sources import FluxError, build_kustomization
from tests.fixtures import GITOPS_SOURCE

Obj = dict[str, Any]
RELEASE = "1.0-rc5"


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.email=t@e", "-c", "user.name=t", *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A git repository holding our manifests where the bootstrapper's GitSource points."""
    root = tmp_path_factory.mktemp("gitops")
    shutil.copytree(manifest_dir(""), root / "appliance" / "manifests")
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    _git(root, "add", ".")
    _git(root, "commit", "-qm", "manifests")
    return root, _git(root, "rev-parse", "HEAD")


def _key(obj: Obj) -> tuple[str, str, str, str]:
    meta = obj.get("metadata") or {}
    return (obj["apiVersion"], obj["kind"], meta.get("namespace", ""), meta["name"])


def _by_key(objects: list[Obj]) -> dict[tuple[str, str, str, str], Obj]:
    return {_key(o): o for o in objects}


def test_flux_builds_each_submitted_kustomization_as_the_bootstrapper_does(
    repo: tuple[Path, str],
) -> None:
    """alga-platform, alga-core and alga-background, specs as submitted (images included)."""
    root, revision = repo
    kustomizations = [
        o
        for o in flux_sync_objects(GITOPS_SOURCE, load_release(RELEASE))
        if o["kind"] == "Kustomization"
    ]
    assert [k["metadata"]["name"] for k in kustomizations] == [
        "alga-platform",
        "alga-core",
        "alga-background",
    ]
    for kustomization in kustomizations:
        spec = kustomization["spec"]
        by_flux = build_kustomization(root, revision, spec)
        tier = spec["path"].rsplit("/", 1)[-1]
        by_bootstrapper = build(manifest_dir(tier))
        assert by_flux, f"{tier}: Flux built nothing"
        assert _by_key(by_flux) == _by_key(by_bootstrapper), tier


@pytest.mark.parametrize("directory", ["flux", "status"])
def test_what_the_bootstrapper_applies_is_what_flux_would_build(
    repo: tuple[Path, str], directory: str
) -> None:
    """The directories the bootstrapper applies itself build identically under Flux."""
    root, revision = repo
    by_flux = build_kustomization(root, revision, {"path": f"./appliance/manifests/{directory}"})
    assert by_flux == build(manifest_dir(directory))


def test_release_images_reach_the_objects_flux_applies(repo: tuple[Path, str]) -> None:
    """`spec.images` with another tag rewrites the core image: the generator is really in play."""
    root, revision = repo
    spec = {
        "path": "./appliance/manifests/core",
        "images": [{"name": "ghcr.io/nine-minds/alga-psa-ee", "newTag": "other-build"}],
    }
    images = {
        container["image"]
        for obj in build_kustomization(root, revision, spec)
        if obj["kind"] in ("Deployment", "StatefulSet", "Job")
        for container in obj["spec"]["template"]["spec"]["containers"]
    }
    assert "ghcr.io/nine-minds/alga-psa-ee:other-build" in images
    assert not any(i.startswith("ghcr.io/nine-minds/alga-psa-ee:9") for i in images)


def test_a_missing_path_is_a_build_failure(repo: tuple[Path, str]) -> None:
    """A Kustomization path absent at the revision fails like kustomize-controller's build."""
    root, revision = repo
    with pytest.raises(FluxError, match="kustomization path not found"):
        build_kustomization(root, revision, {"path": "./appliance/manifests/nowhere"})
    with pytest.raises(FluxError, match="kustomization path not found"):
        build_kustomization(root, revision, {"path": "../../etc"})
