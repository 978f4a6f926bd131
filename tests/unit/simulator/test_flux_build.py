"""kustomize-controller's build in the simulator: Flux's generator in front of real kustomize."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from simulator.world.flux_sources import FluxError, build_kustomization, commit_subject

CONFIG = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: NAME}\ndata: {k: v}\n"
ROLE_BINDING = """apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: rb}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}
subjects: [{kind: ServiceAccount, name: sa, namespace: old}]
"""


def _commit(files: dict[str, str], tmp_path: Path) -> tuple[Path, str]:
    repo = tmp_path / "repo"
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    git = ["git", "-C", str(repo), "-c", "user.email=t@e", "-c", "user.name=t"]
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "c"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True)
    return repo, head.stdout.strip()


def _names(objects: list[dict[str, object]]) -> list[str]:
    return sorted(str(o["metadata"]["name"]) for o in objects)  # type: ignore[index]


def test_a_plain_directory_gets_a_generated_kustomization(tmp_path: Path) -> None:
    """Without a kustomization file, every manifest below the path is built, nested ones too."""
    repo, rev = _commit(
        {
            "deploy/a.yaml": CONFIG.replace("NAME", "a"),
            "deploy/nested/b.yml": CONFIG.replace("NAME", "b"),
            "deploy/README.md": "not a manifest",
            "deploy/base/kustomization.yaml": "resources: [c.yaml]\nnamePrefix: base-\n",
            "deploy/base/c.yaml": CONFIG.replace("NAME", "c"),
        },
        tmp_path,
    )
    objects = build_kustomization(repo, rev, {"path": "./deploy"})
    assert _names(objects) == ["a", "b", "base-c"]


def test_target_namespace_is_kustomize_namespace(tmp_path: Path) -> None:
    """targetNamespace sets namespaces the way kustomize does, RoleBinding subjects included."""
    repo, rev = _commit(
        {
            "app/kustomization.yaml": "resources: [cm.yaml, rb.yaml]\n",
            "app/cm.yaml": CONFIG.replace("NAME", "a"),
            "app/rb.yaml": ROLE_BINDING,
        },
        tmp_path,
    )
    objects = build_kustomization(repo, rev, {"path": "app", "targetNamespace": "msp"})
    assert {o["metadata"]["namespace"] for o in objects} == {"msp"}
    binding = next(o for o in objects if o["kind"] == "RoleBinding")
    assert binding["subjects"][0]["namespace"] == "old"  # kustomize keeps a foreign subject


def test_spec_images_replace_the_kustomization_entry_of_the_same_name(tmp_path: Path) -> None:
    """An image the kustomization already overrides takes the Kustomization's value instead."""
    deployment = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n"
        "  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n"
        "    spec: {containers: [{name: c, image: 'ghcr.io/x/app:1'}]}\n"
    )
    repo, rev = _commit(
        {
            "app/kustomization.yaml": (
                "resources: [d.yaml]\nimages: [{name: ghcr.io/x/app, newTag: '2'}]\n"
            ),
            "app/d.yaml": deployment,
        },
        tmp_path,
    )
    plain = build_kustomization(repo, rev, {"path": "app"})
    overridden = build_kustomization(
        repo, rev, {"path": "app", "images": [{"name": "ghcr.io/x/app", "newTag": "3"}]}
    )

    def image(objects: list[dict[str, object]]) -> str:
        return str(objects[0]["spec"]["template"]["spec"]["containers"][0]["image"])  # type: ignore[index]

    assert (image(plain), image(overridden)) == ("ghcr.io/x/app:2", "ghcr.io/x/app:3")


def test_a_kustomize_error_names_the_file_without_the_temp_dir(tmp_path: Path) -> None:
    """kustomize's own message comes through, relative to the checkout."""
    repo, rev = _commit({"app/kustomization.yaml": "resources: [missing.yaml]\n"}, tmp_path)
    with pytest.raises(FluxError) as raised:
        build_kustomization(repo, rev, {"path": "app"})
    assert "missing.yaml" in str(raised.value)
    assert "flux-build-" not in str(raised.value)


def test_a_commit_subject_is_cut_as_source_controller_quotes_it(tmp_path: Path) -> None:
    """fluxcd/pkg/git's ShortMessage: the first line, its first 50 characters and '...'."""
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    long_subject = "x" * 51
    for message in ("short\n\nbody", long_subject):
        subprocess.run(
            [
                "git",
                "-C",
                str(repo),
                "-c",
                "user.email=t@e",
                "-c",
                "user.name=t",
                "commit",
                "-q",
                "--allow-empty",
                "-m",
                message,
            ],
            check=True,
        )
        sha = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        expected = "short" if message.startswith("short") else "x" * 50 + "..."
        assert commit_subject(repo, sha) == expected
