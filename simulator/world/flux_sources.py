"""What a Flux source holds: files of a local git repository at a revision, and the manifests a
Kustomization path renders to (a kustomization.yaml's resources, or every YAML file)."""

from __future__ import annotations

import posixpath
import subprocess
from pathlib import Path
from typing import Any

import yaml

from simulator.errors import SimulatorError

__all__ = ["CLUSTER_KINDS", "FluxError", "GitTree", "git_revision", "render_kustomization"]

Obj = dict[str, Any]


class FluxError(SimulatorError):
    """A source cannot be read or rendered; the message names the repository, path and reason."""


class GitTree:
    """Files of one commit of a local git repository."""

    def __init__(self, repo: Path, revision: str) -> None:
        self.repo = repo
        self.revision = revision

    def read(self, path: str) -> str | None:
        result = subprocess.run(
            ["git", "-C", str(self.repo), "show", f"{self.revision}:{path}"],
            capture_output=True,
            text=True,
            check=False,
        )
        return result.stdout if result.returncode == 0 else None

    def list_dir(self, path: str) -> list[tuple[str, str]] | None:
        """(type, name) entries of a directory, None when it is not one."""
        spec = f"{self.revision}:{path}" if path not in ("", ".") else f"{self.revision}:"
        result = subprocess.run(
            ["git", "-C", str(self.repo), "ls-tree", spec],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            return None
        entries = []
        for line in result.stdout.splitlines():
            info, _, name = line.partition("\t")
            entries.append((info.split()[1], name))
        return entries


def render_kustomization(tree: GitTree, path: str) -> list[Obj]:
    """Objects of the kustomize subset at `path` in `tree` (see the module docstring)."""
    path = posixpath.normpath(path.strip("/") or ".")
    entries = tree.list_dir(path)
    if entries is None:
        text = tree.read(path)
        if text is None:
            raise FluxError(f"path {path!r} not found in {tree.repo} at {tree.revision}")
        return documents(text, path)
    names = {name for _, name in entries}
    kfile = next(
        (n for n in ("kustomization.yaml", "kustomization.yml", "Kustomization") if n in names),
        None,
    )
    if kfile is None:
        out: list[Obj] = []
        for kind, name in sorted(entries, key=lambda e: e[1]):
            full = posixpath.join(path, name) if path != "." else name
            if kind == "blob" and name.endswith((".yaml", ".yml")):
                out.extend(documents(tree.read(full) or "", full))
        return out
    kpath = posixpath.join(path, kfile) if path != "." else kfile
    spec = yaml.safe_load(tree.read(kpath) or "") or {}
    out = []
    for resource in spec.get("resources") or []:
        full = posixpath.normpath(posixpath.join(path, str(resource)))
        out.extend(render_kustomization(tree, full))
    namespace = spec.get("namespace")
    if namespace:
        for obj in out:
            if obj.get("kind") not in CLUSTER_KINDS:
                obj.setdefault("metadata", {})["namespace"] = namespace
    return out


CLUSTER_KINDS = {
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "Node",
    "PersistentVolume",
    "StorageClass",
    "PriorityClass",
}


def documents(text: str, source: str) -> list[Obj]:
    try:
        docs = [d for d in yaml.safe_load_all(text) if isinstance(d, dict)]
    except yaml.YAMLError as exc:
        raise FluxError(f"{source}: invalid YAML: {exc}") from None
    out: list[Obj] = []
    for doc in docs:
        if doc.get("kind") == "List":
            out.extend(item for item in doc.get("items") or [] if isinstance(item, dict))
        else:
            out.append(doc)
    return out


def git_revision(repo: Path, ref: dict[str, Any]) -> str:
    candidates = []
    if ref.get("commit"):
        candidates.append(str(ref["commit"]))
    if ref.get("tag"):
        candidates.append(f"refs/tags/{ref['tag']}")
    if ref.get("branch"):
        candidates += [f"refs/heads/{ref['branch']}", f"refs/remotes/origin/{ref['branch']}"]
    if not candidates:
        candidates.append("HEAD")
    for candidate in candidates:
        result = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "--verify", "--quiet", f"{candidate}^{{commit}}"],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode == 0:
            return result.stdout.strip()
    raise FluxError(
        f"failed to checkout and determine revision: unable to clone '{repo}': reference not found"
    )
