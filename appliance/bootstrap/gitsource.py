"""The GitOps source: which repository and branch Flux follows, checked before we submit it.

`--branch-override current` resolves the local branch and requires it on the remote (Flux fetches
from `--repo-url`, never from the laptop); `--require-remote-branch` asks the same of an explicit
branch. Uncommitted or unpushed local work is a warning: Flux would not see it.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from appliance.errors import BootstrapError

__all__ = ["GitSource", "resolve_source"]

MANIFEST_ROOT = "./appliance/manifests"


@dataclass(frozen=True)
class GitSource:
    """The resolved source and what the admin should know about it."""

    repo_url: str
    branch: str
    path: str
    mode: str
    remote_revision: str | None
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def summary_rows(
        self, *, release_version: str, release_branch: str | None
    ) -> list[tuple[str, str]]:
        """The source summary block's rows."""
        rows = [
            ("Repository", self.repo_url),
            ("Branch", self.branch),
            ("Path", self.path),
            ("Source mode", self.mode),
            ("Remote revision", self.remote_revision or "not checked"),
            ("Release version", release_version),
            ("Release manifest branch", release_branch or "-"),
        ]
        if release_branch and release_branch != self.branch:
            rows.append(
                (
                    "Note",
                    "branch differs from the release manifest's branch "
                    "(allowed: testing release artifacts with this branch's "
                    "manifests)",
                )
            )
        return rows


def _git(args: list[str], *, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=60
    )


def _remote_head(repo_url: str, branch: str, *, cwd: Path) -> str | None:
    try:
        done = _git(["ls-remote", "--heads", repo_url, f"refs/heads/{branch}"], cwd=cwd)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BootstrapError(
            f"cannot ask {repo_url} for branch {branch}: {exc}",
            layer="gitops source",
            next_action="check --repo-url and network access",
        ) from exc
    if done.returncode != 0:
        raise BootstrapError(
            f"git ls-remote {repo_url} failed: {done.stderr.strip()}",
            layer="gitops source",
            next_action="check --repo-url (it must be reachable by git from here and by Flux "
            "from the appliance)",
        )
    line = done.stdout.strip().splitlines()
    return line[0].split()[0] if line else None


def resolve_source(
    *,
    repo_url: str,
    branch_override: str | None,
    release_branch: str | None,
    require_remote_branch: bool,
    workdir: Path | None = None,
    check_remote: bool = True,
) -> GitSource:
    """Resolve the branch, check it on the remote when asked, and collect warnings."""
    cwd = workdir or Path.cwd()
    warnings: list[str] = []
    if branch_override == "current":
        done = _git(["rev-parse", "--abbrev-ref", "HEAD"], cwd=cwd)
        branch = done.stdout.strip()
        if done.returncode != 0 or not branch or branch == "HEAD":
            raise BootstrapError(
                f"--branch-override current: {cwd} is not on a Git branch",
                layer="gitops source",
                next_action="check out a branch (git switch <branch>) or pass the branch name",
            )
        mode = "branch-under-test (current local branch)"
        must_exist = True
    elif branch_override:
        branch, mode, must_exist = branch_override, "branch override", require_remote_branch
    else:
        branch = release_branch or "main"
        mode, must_exist = "release branch", require_remote_branch
    remote: str | None = None
    if check_remote and (must_exist or branch_override == "current"):
        remote = _remote_head(repo_url, branch, cwd=cwd)
        if remote is None:
            raise BootstrapError(
                f"branch {branch!r} does not exist on {repo_url}",
                layer="gitops source",
                next_action=f"push it first (git push -u origin {branch}) or pass another "
                "--branch-override; Flux fetches from the remote, not from this machine",
            )
    if branch_override == "current":
        status = _git(["status", "--porcelain"], cwd=cwd)
        if status.returncode == 0 and status.stdout.strip():
            warnings.append(
                "uncommitted local changes are not visible to Flux; commit and "
                "push them if the appliance needs them"
            )
        head = _git(["rev-parse", "HEAD"], cwd=cwd).stdout.strip()
        if remote and head and head != remote:
            known = _git(["merge-base", "--is-ancestor", head, remote], cwd=cwd)
            if known.returncode != 0:
                warnings.append(
                    f"local commits on {branch} are not on {repo_url} "
                    f"(local {head[:8]}, remote {remote[:8]}); push them"
                )
    return GitSource(
        repo_url=repo_url,
        branch=branch,
        path=MANIFEST_ROOT,
        mode=mode,
        remote_revision=remote,
        warnings=tuple(warnings),
    )
