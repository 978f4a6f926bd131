"""source-controller's fetch of a GitRepository, as far as the world needs: a local repository's
branch is read with `git` (`flux_sources.git_revision`); a remote url gets a revision derived
from url and branch. Either way the artifact and Ready are written as source-controller writes
them, or Ready False, GitOperationFailed, when the revision cannot be read."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from simulator.clock import rfc3339
from simulator.world.flux_conditions import set_flux_condition
from simulator.world.flux_sources import FluxError, commit_subject, git_revision
from simulator.world.objects import Objects, meta

__all__ = ["fetch", "local_repo"]

Obj = dict[str, Any]


def fetch(objects: Objects, repo: Obj, base_dir: Path) -> None:
    """source-controller's reconcile of `repo`: the branch's revision, its artifact and
    Ready (or GitOperationFailed when the revision cannot be read)."""
    current = objects.fresh(repo)
    if current is None:
        return
    spec = current.get("spec") or {}
    ref = spec.get("ref") or {}
    branch = ref.get("branch") or ref.get("tag") or ref.get("commit") or "master"
    url = str(spec.get("url", ""))
    now = objects.clock.now()
    conditions = (current.get("status") or {}).get("conditions") or []
    local = local_repo(url, base_dir)
    try:
        if local is not None:
            sha = git_revision(local, ref)
        else:
            sha = hashlib.sha1(f"{url}#{branch}".encode(), usedforsecurity=False).hexdigest()
    except FluxError as exc:
        conditions = set_flux_condition(
            current,
            conditions,
            "Ready",
            "False",
            now=now,
            reason="GitOperationFailed",
            message=str(exc),
        )
        objects.patch_status(
            current,
            {"conditions": conditions, "observedGeneration": meta(current).get("generation")},
        )
        objects.event(
            current, "GitOperationFailed", str(exc), type="Warning", source="source-controller"
        )
        return
    revision = f"{branch}@sha1:{sha}"
    message = f"stored artifact for revision '{revision}'"
    artifact_path = f"gitrepository/{meta(current).get('namespace')}/{meta(current).get('name')}"
    for kind in ("ArtifactInStorage", "Ready"):
        conditions = set_flux_condition(
            current, conditions, kind, "True", now=now, reason="Succeeded", message=message
        )
    objects.patch_status(
        current,
        {
            "observedGeneration": meta(current).get("generation"),
            "artifact": {
                "revision": revision,
                "digest": "sha256:" + hashlib.sha256(revision.encode()).hexdigest(),
                "lastUpdateTime": rfc3339(now),
                "path": f"{artifact_path}/{sha}.tar.gz",
                "url": f"http://source-controller.flux-system.svc.cluster.local./"
                f"{artifact_path}/{sha}.tar.gz",
            },
            "conditions": conditions,
        },
    )
    objects.event(
        current,
        "NewArtifact",
        # source-controller's notify: the commit's subject; a remote url's, unknown here, its
        # reference (commitReference, as for a clone that fetched no commit).
        f"stored artifact for commit '{commit_subject(local, sha) if local else revision}'",
        source="source-controller",
    )


def local_repo(url: str, base_dir: Path) -> Path | None:
    """The local repository a GitRepository's url names (a path or file://), else None."""
    if url.startswith("file://"):
        path = Path(url[len("file://") :])
    elif url.startswith(("/", "./", "../")):
        path = Path(url)
    else:
        return None
    if not path.is_absolute():
        path = base_dir / path
    return path
