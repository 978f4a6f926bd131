"""Branch under test: `--branch-override current` and `--require-remote-branch` with real git."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from appliance.bootstrap.gitsource import resolve_source
from appliance.errors import BootstrapError


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        env={
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@e",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@e",
            "HOME": str(cwd),
            "PATH": "/usr/bin:/bin",
        },
    )
    return done.stdout.strip()


@pytest.fixture
def repos(tmp_path: Path) -> tuple[Path, Path]:
    """A work tree on branch feature/x pushed to a bare remote."""
    remote = tmp_path / "remote.git"
    work = tmp_path / "work"
    work.mkdir()
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(work, "init", "-q", "-b", "feature/x")
    (work / "file.txt").write_text("one\n")
    git(work, "add", "file.txt")
    git(work, "commit", "-q", "-m", "one")
    git(work, "push", "-q", str(remote), "feature/x")
    return work, remote


def test_current_resolves_the_local_branch_on_the_remote(repos: tuple[Path, Path]) -> None:
    """`current` becomes the checked-out branch and its remote revision; no warnings."""
    work, remote = repos
    source = resolve_source(
        repo_url=str(remote),
        branch_override="current",
        release_branch="release/1.0-rc5",
        require_remote_branch=False,
        workdir=work,
    )
    assert source.branch == "feature/x"
    assert source.remote_revision == git(work, "rev-parse", "HEAD")
    assert source.warnings == ()


def test_current_branch_missing_on_remote_fails(repos: tuple[Path, Path]) -> None:
    """A local branch that was never pushed fails with the push command as next action."""
    work, remote = repos
    git(work, "switch", "-q", "-c", "not-pushed")
    with pytest.raises(BootstrapError) as caught:
        resolve_source(
            repo_url=str(remote),
            branch_override="current",
            release_branch=None,
            require_remote_branch=False,
            workdir=work,
        )
    assert "does not exist on" in str(caught.value)
    assert "git push -u origin not-pushed" in caught.value.next_action


def test_uncommitted_and_unpushed_work_warns(repos: tuple[Path, Path]) -> None:
    """Uncommitted changes and local commits not on the remote are both warned about."""
    work, remote = repos
    (work / "file.txt").write_text("two\n")
    git(work, "commit", "-q", "-am", "two")
    (work / "file.txt").write_text("three\n")
    source = resolve_source(
        repo_url=str(remote),
        branch_override="current",
        release_branch=None,
        require_remote_branch=False,
        workdir=work,
    )
    text = " ".join(source.warnings)
    assert "uncommitted local changes" in text
    assert "local commits on feature/x are not on" in text


def test_require_remote_branch_fails_fast_for_a_missing_branch(repos: tuple[Path, Path]) -> None:
    """An explicit branch absent from the remote fails when --require-remote-branch is set."""
    work, remote = repos
    with pytest.raises(BootstrapError, match="'nope' does not exist"):
        resolve_source(
            repo_url=str(remote),
            branch_override="nope",
            release_branch=None,
            require_remote_branch=True,
            workdir=work,
        )


def test_default_branch_is_the_release_branch_unchecked(tmp_path: Path) -> None:
    """Without an override the release manifest's branch is used and nothing is fetched."""
    source = resolve_source(
        repo_url="https://example.invalid/repo",
        branch_override=None,
        release_branch="release/1.0-rc5",
        require_remote_branch=False,
        workdir=tmp_path,
    )
    assert source.branch == "release/1.0-rc5"
    assert source.remote_revision is None
