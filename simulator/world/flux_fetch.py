"""source-controller's fetch of a GitRepository, as far as the world needs: a local repository's
branch is read with `git` (`flux_sources.git_revision`); a remote url gets a revision derived
from url and branch. Either way the artifact and Ready are written as source-controller writes
them, or Ready False, GitOperationFailed, when the revision cannot be read. The same commit
again (a changed spec, a requested reconcile) stores no new artifact and says nothing; the end
of every reconcile records the request it handled (`flux reconcile source git`) in
`status.lastHandledReconcileAt`."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from simulator.clock import rfc3339
from simulator.world.flux_conditions import requested_at, set_flux_condition
from simulator.world.flux_sources import FluxError, commit_subject, git_revision
from simulator.world.flux_status import write_in_two
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
    requested = requested_at(current)  # the end of any reconcile records the request handled
    handled = {"lastHandledReconcileAt": requested} if requested else {}
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
        generation = {"observedGeneration": meta(current).get("generation")}
        write_in_two(objects, current, {"conditions": conditions, **generation, **handled})
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
    patch: Obj = {"observedGeneration": meta(current).get("generation"), "conditions": conditions}
    # The same commit again (a changed spec, a requested reconcile): nothing new is stored.
    new = ((current.get("status") or {}).get("artifact") or {}).get("revision") != revision
    if new:
        patch["artifact"] = {
            "revision": revision,
            "digest": "sha256:" + hashlib.sha256(revision.encode()).hexdigest(),
            "lastUpdateTime": rfc3339(now),
            "path": f"{artifact_path}/{sha}.tar.gz",
            "url": f"http://source-controller.flux-system.svc.cluster.local./"
            f"{artifact_path}/{sha}.tar.gz",
        }
    write_in_two(objects, current, {**patch, **handled})
    if new:
        objects.event(
            current,
            "NewArtifact",
            # source-controller's notify: the commit's subject; a remote url's, unknown here,
            # its reference (commitReference, as for a clone that fetched no commit).
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
