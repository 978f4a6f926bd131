"""The manifests we ship and the Flux objects we submit (T019, findings 07/09/12/14)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from appliance.bootstrap.manifests import build, manifest_dir
from appliance.bootstrap.platform import flux_sync_objects
from appliance.errors import BootstrapError
from appliance.releases import load_release
from tests.fixtures import GITOPS_SOURCE

WORKLOAD_KINDS = {"Deployment", "StatefulSet", "Job"}


def workloads(tier: str) -> dict[str, dict[str, Any]]:
    objects = build(manifest_dir(tier))
    return {o["metadata"]["name"]: o for o in objects if o["kind"] in WORKLOAD_KINDS}


def pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = obj["spec"]["template"]["spec"]
    return spec


def test_kustomizations_chain_platform_core_background() -> None:
    """T019: alga-platform -> alga-core -> alga-background via dependsOn."""
    objects = flux_sync_objects(GITOPS_SOURCE, load_release("1.0-rc5"))
    kusts = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Kustomization"}
    assert list(kusts) == ["alga-platform", "alga-core", "alga-background"]
    assert "dependsOn" not in kusts["alga-platform"]["spec"]
    assert kusts["alga-core"]["spec"]["dependsOn"] == [{"name": "alga-platform"}]
    assert kusts["alga-background"]["spec"]["dependsOn"] == [{"name": "alga-core"}]
    assert kusts["alga-core"]["spec"]["path"] == "./appliance/manifests/core"


def test_git_repository_follows_repo_and_branch() -> None:
    """The GitRepository points Flux at the resolved repository URL and branch."""
    repo = flux_sync_objects(GITOPS_SOURCE, load_release("1.0-rc5"))[0]
    assert repo["kind"] == "GitRepository"
    assert repo["spec"]["url"] == "/repo"
    assert repo["spec"]["ref"] == {"branch": "main"}


def test_kustomization_images_come_from_the_release() -> None:
    """Core and background Kustomizations carry the release's image tags."""
    objects = flux_sync_objects(GITOPS_SOURCE, load_release("1.0-rc5"))
    core = next(o for o in objects if o["metadata"]["name"] == "alga-core")
    assert {"name": "ghcr.io/nine-minds/alga-psa-ee", "newTag": "94446747"} in core["spec"][
        "images"
    ]


@pytest.mark.parametrize("tier", ["core", "background"])
def test_every_workload_is_labelled_in_msp(tier: str) -> None:
    """Every workload has app.kubernetes.io/name = its component and lives in msp."""
    for name, obj in workloads(tier).items():
        assert obj["metadata"]["namespace"] == "msp"
        assert obj["metadata"]["labels"]["app.kubernetes.io/name"] == name
        template_labels = obj["spec"]["template"]["metadata"]["labels"]
        assert template_labels["app.kubernetes.io/name"] == name


def test_tier_workloads_are_the_expected_components() -> None:
    """Core holds db, redis, pgbouncer, alga-core, the bootstrap Job; background the rest."""
    assert set(workloads("core")) == {
        "db",
        "redis",
        "pgbouncer",
        "alga-core",
        "alga-core-bootstrap",
    }
    assert set(workloads("background")) == {
        "email-service",
        "temporal",
        "temporal-ui",
        "workflow-worker",
        "temporal-worker",
    }


def test_postgres_initialises_its_subpath_directory() -> None:
    """finding-07: an initContainer creates /mnt/data owned by postgres before the db starts."""
    db = workloads("core")["db"]
    init = pod_spec(db)["initContainers"][0]
    script = " ".join(init["command"])
    assert "mkdir -p /mnt/data" in script
    assert "chown 999:999" in script
    mount = pod_spec(db)["containers"][0]["volumeMounts"][0]
    assert mount["subPath"] == "data"


def test_bootstrap_job_waits_for_postgres_first() -> None:
    """finding-09: the Job's first step loops on pg_isready instead of timing out."""
    job = workloads("core")["alga-core-bootstrap"]
    first = pod_spec(job)["initContainers"][0]
    script = " ".join(first["command"])
    assert "until pg_isready" in script


def test_temporal_autosetup_and_no_service_links() -> None:
    """findings 12/14: Temporal runs autosetup; Temporal and its UI disable service links."""
    background = workloads("background")
    temporal = pod_spec(background["temporal"])
    assert temporal["containers"][0]["command"] == ["/etc/temporal/entrypoint.sh", "autosetup"]
    assert temporal["enableServiceLinks"] is False
    assert pod_spec(background["temporal-ui"])["enableServiceLinks"] is False


def test_manifest_images_match_the_rc5_release() -> None:
    """The committed manifests default to the release's tags (Flux needs no image override)."""
    release = load_release("1.0-rc5")
    images = {
        c["image"]
        for tier in ("core", "background")
        for o in workloads(tier).values()
        for c in pod_spec(o)["containers"]
    }
    for image in release.images:
        assert image.reference in images


def test_kustomization_images_are_applied_by_the_build() -> None:
    """The status kustomization's `images:` pins the untagged image to the release's tag."""
    deployment = next(o for o in build(manifest_dir("status")) if o["kind"] == "Deployment")
    (container,) = pod_spec(deployment)["containers"]
    assert container["image"] == "ghcr.io/nine-minds/appliance-status:0.1.0"


def test_a_broken_kustomization_is_a_bootstrap_error(tmp_path: Path) -> None:
    """A missing resource fails in the release-manifests layer, in kustomize's words."""
    (tmp_path / "kustomization.yaml").write_text("resources:\n  - missing.yaml\n")
    with pytest.raises(BootstrapError) as raised:
        build(tmp_path)
    assert raised.value.layer == "release manifests"
    assert "missing.yaml" in str(raised.value)
