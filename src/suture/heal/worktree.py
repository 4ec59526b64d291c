"""Disposable `git worktree`s: a commit checked out in a temp folder, gone afterwards.

The user's working tree, index and branches are never touched: `git worktree add --detach`
only writes the new folder and its bookkeeping under .git/worktrees, which removal deletes.
Hooks are switched off for the checkout (a post-checkout hook is the user's, not ours).
Submodules are not checked out in the worktree.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import tempfile
from pathlib import Path
from types import TracebackType

from suture import proc
from suture.errors import NotARepositoryError, SutureError, ToolError, UsageError

_GIT_TIMEOUT_S = 300.0
_SHA = re.compile(r"^[0-9a-fA-F]{7,64}$")


def git(repo: Path, *args: str, check: bool = True) -> proc.CmdResult:
    """Run git in `repo`; with `check`, a non-zero exit is a ToolError naming the command."""
    res = proc.run(("git", *args), cwd=repo, timeout=_GIT_TIMEOUT_S)
    if check and res.returncode != 0:
        raise ToolError(f"git {args[0]} failed in {repo}", hint=res.describe())
    return res


def toplevel(path: Path) -> Path:
    """The top folder of the git repository holding `path`."""
    res = git(path, "rev-parse", "--show-toplevel", check=False)
    if res.returncode != 0:
        raise NotARepositoryError(f"{path} is not inside a git repository",
                                  hint="run suture from your repository, or pass --root")
    return Path(res.stdout.strip()).resolve()


def is_shallow(repo: Path) -> bool:
    """Whether the repository is a shallow clone (history cut off)."""
    res = git(repo, "rev-parse", "--is-shallow-repository")
    return res.stdout.strip() == "true"


def resolve_commit(repo: Path, ref: str) -> str:
    """The full sha of commit `ref`; a clear UsageError when it is not in the repository."""
    res = git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}",
              check=False)
    if res.returncode == 0:
        return res.stdout.strip()
    if is_shallow(repo):
        raise UsageError(
            f"{repo} is a shallow clone and commit {ref} is not in its history",
            hint="fetch the full history with `git fetch --unshallow` "
            "(in CI: check out with fetch-depth: 0)",
        )
    if _SHA.match(ref):
        raise UsageError(
            f"commit {ref} no longer exists in {repo} (rebased or garbage-collected?)",
            hint="compare against a commit that exists: pass a branch, tag or sha as the base "
            "(e.g. origin/main)",
        )
    raise UsageError(f"unknown revision '{ref}' in {repo}",
                     hint="pass a commit sha, branch or tag that exists (git log --oneline)")


class Worktree:
    """`with Worktree(repo_root, commit) as path:` -- `commit` checked out in a temp folder.

    `path` is the project's folder inside the worktree: the same sub-folder that
    `project_root` (default `repo_root`) is inside its repository. The worktree is removed on
    exit, error or not.
    """

    def __init__(self, repo_root: Path, commit: str, *, project_root: Path | None = None) -> None:
        self.repo_root = repo_root
        self.commit = commit
        self.project_root = project_root or repo_root
        self._top: Path | None = None
        self._tmp: Path | None = None
        self._tree: Path | None = None

    def __enter__(self) -> Path:
        top = toplevel(self.repo_root)
        try:
            sub = self.project_root.resolve().relative_to(top)
        except ValueError:
            raise UsageError(f"{self.project_root} is not inside the repository {top}",
                             hint="pass a project folder within the repository") from None
        sha = resolve_commit(top, self.commit)
        self._top = top
        self._tmp = Path(tempfile.mkdtemp(prefix="suture-worktree-"))
        self._tree = self._tmp / "tree"
        try:
            git(top, "-c", "core.hooksPath=/dev/null", "worktree", "add", "--detach", "--quiet",
                str(self._tree), sha)
        except BaseException:
            self._cleanup()
            raise
        return self._tree / sub

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._cleanup()

    def _cleanup(self) -> None:
        """Remove the worktree and its bookkeeping; never raises over the caller's error."""
        top, tree, tmp = self._top, self._tree, self._tmp
        self._top = self._tree = self._tmp = None
        # When suture is stopping, git may refuse to start: the folder still goes, and the
        # next prune (ours or git gc's) drops the stale bookkeeping.
        if top is not None and tree is not None and tree.exists():
            with contextlib.suppress(SutureError):
                git(top, "worktree", "remove", "--force", str(tree), check=False)
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        if top is not None:
            with contextlib.suppress(SutureError):
                git(top, "worktree", "prune", check=False)
