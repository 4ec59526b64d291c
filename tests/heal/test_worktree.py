"""Disposable worktrees: the right commit checked out, the user's tree untouched, always removed."""

from __future__ import annotations

from pathlib import Path

import pytest

from suture.errors import NotARepositoryError, UsageError
from suture.heal.worktree import Worktree, resolve_commit
from tests.fixtures.git import GitRepo, make_repo
from tests.fixtures.history import build_history, dirty, gc_away, worktrees


def test_worktree_holds_the_commit_and_leaves_the_users_tree_alone(git_repo: GitRepo) -> None:
    history = build_history(git_repo, changes=2, culprit_at=2)
    status = dirty(git_repo)
    with Worktree(git_repo.path, history.good) as path:
        assert path != git_repo.path
        assert "return a + b" in (path / "calc.py").read_text()
        assert not (path / "notes").exists()  # the later commits are not there
        assert not (path / "untracked.txt").exists()
        (path / "written-by-a-test.txt").write_text("leftover")  # untracked files don't block
        assert len(worktrees(git_repo)) == 2
    assert not path.exists()
    assert worktrees(git_repo) == [str(git_repo.path.resolve())]
    assert (git_repo.path / "calc.py").read_text() == (
        "def add(a, b):\n    return 'uncommitted work'\n")
    assert git_repo.git("status", "--porcelain") == status
    assert git_repo.git("rev-parse", "HEAD") == history.bad


def test_worktree_is_removed_when_the_body_fails(git_repo: GitRepo) -> None:
    history = build_history(git_repo, changes=1, culprit_at=1)
    with pytest.raises(RuntimeError, match="probe crashed"), \
            Worktree(git_repo.path, history.good) as path:
        raise RuntimeError("probe crashed")
    assert not path.exists()
    assert not path.parent.exists()  # the temp folder too
    assert worktrees(git_repo) == [str(git_repo.path.resolve())]


def test_worktree_of_a_subfolder_project_yields_that_subfolder(git_repo: GitRepo) -> None:
    history = build_history(git_repo, changes=1, culprit_at=1, subdir="services/api")
    with Worktree(git_repo.path, history.good, project_root=history.project) as path:
        assert path.parts[-2:] == ("services", "api")
        assert "return a + b" in (path / "calc.py").read_text()
    # Started from the sub-project itself, the worktree still covers the whole repository.
    with Worktree(history.project, history.bad) as path:
        assert path.parts[-2:] == ("services", "api")
        assert "return a - b" in (path / "calc.py").read_text()
        assert (path.parent.parent / "services").is_dir()
    assert worktrees(git_repo) == [str(git_repo.path.resolve())]


def test_a_garbage_collected_commit_is_a_clear_usage_error(git_repo: GitRepo) -> None:
    build_history(git_repo, changes=1, culprit_at=None)
    sha = gc_away(git_repo)
    with pytest.raises(UsageError, match=f"commit {sha} no longer exists") as err, \
            Worktree(git_repo.path, sha):
        pass  # pragma: no cover - never entered
    assert "rebased or garbage-collected" in str(err.value)
    assert err.value.hint and "branch" in err.value.hint
    assert worktrees(git_repo) == [str(git_repo.path.resolve())]


def test_an_unknown_ref_name_says_so(git_repo: GitRepo) -> None:
    build_history(git_repo, changes=1, culprit_at=None)
    with pytest.raises(UsageError, match="unknown revision 'origin/mian'"):
        resolve_commit(git_repo.path, "origin/mian")
    assert resolve_commit(git_repo.path, "main") == git_repo.git("rev-parse", "HEAD")


def test_outside_a_repository_is_a_usage_error(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(NotARepositoryError, match="not inside a git repository"), \
            Worktree(plain, "HEAD"):
        pass  # pragma: no cover - never entered


def test_a_project_outside_the_repository_is_refused(git_repo: GitRepo, tmp_path: Path) -> None:
    build_history(git_repo, changes=1, culprit_at=None)
    other = make_repo(tmp_path / "other")
    with pytest.raises(UsageError, match="is not inside the repository"), \
            Worktree(git_repo.path, "HEAD", project_root=other.path):
        pass  # pragma: no cover - never entered
