"""The fix branch: one commit per accepted remedy with trailers, and `--apply` onto the user's.

Commits are made in the verification worktree, so the user's working tree, index and current
branch are never touched; only `refs/heads/suture/fix/<run>` moves. `--apply` is a fast-forward
of a clean working tree, or a refusal.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from suture.errors import UsageError
from suture.fix.remedies.interface import Proposal
from suture.heal.worktree import git
from suture.model import Diagnosis

_BOT = ("-c", "user.name=suture", "-c", "user.email=suture@localhost")


def branch_name(run_id: str) -> str:
    """`suture/fix/<first 12 hex digits of the run id>`."""
    return f"suture/fix/{run_id[:12]}"


def exists(root: Path, branch: str) -> bool:
    """Whether the local branch exists."""
    ref = f"refs/heads/{branch}"
    return git(root, "show-ref", "--verify", "--quiet", ref, check=False).returncode == 0


def message(proposal: Proposal, run_id: str, stage: str, remedy: str,
            diagnosis: Diagnosis | None) -> str:
    """What and why, then the `Suture-*` trailers git interpret-trailers can read."""
    cause = (f"{diagnosis.category.value}: {diagnosis.root_cause}" if diagnosis
             else f"{stage} failed")
    cause = " ".join(cause.split())[:200]
    subject = " ".join(proposal.summary.split())[:72] or f"Fix the {stage} gate"
    body = proposal.rationale.strip()
    return (f"{subject}\n\n{body}\n\nSuture-Run: {run_id}\n"
            f"Suture-Diagnosis: {stage}: {cause}\nSuture-Remedy: {remedy}\n")


def commit(tree: Path, text: str) -> str:
    """Commit the index of the worktree at `tree` (hooks off); the new commit's sha."""
    identity = git(tree, "config", "user.email", check=False).stdout.strip()
    ident = () if identity else _BOT
    with tempfile.TemporaryDirectory(prefix="suture-commit-") as tmp:
        path = Path(tmp) / "message"
        path.write_text(text, encoding="utf-8")
        git(tree, *ident, "-c", "core.hooksPath=/dev/null", "-c", "commit.gpgsign=false",
            "commit", "--quiet", "--no-verify", "--cleanup=strip", "--file", str(path))
    return git(tree, "rev-parse", "HEAD").stdout.strip()


def move(root: Path, branch: str, new: str, old: str | None) -> None:
    """Point `branch` at `new`; when `old` is given, only if it still points there."""
    args = ["update-ref", "-m", "suture fix", f"refs/heads/{branch}", new]
    if old is not None:
        args.append(old)
    git(root, *args)


def check_can_apply(root: Path, commit: str) -> None:
    """Refuse `--apply` up front: tracked changes, or HEAD not at the failed run's commit."""
    dirty = git(root, "status", "--porcelain", "--untracked-files=no").stdout.strip()
    if dirty:
        raise UsageError("--apply needs a clean working tree: tracked files have changes",
                         hint="commit or stash them first (git stash), then run suture fix "
                         "--apply again")
    head = git(root, "rev-parse", "HEAD").stdout.strip()
    if head != commit:
        raise UsageError(f"--apply needs HEAD at the failed run's commit {commit[:12]}; "
                         f"HEAD is {head[:12]}",
                         hint="check out that commit's branch, or merge the fix branch yourself")


def apply(root: Path, branch: str) -> None:
    """Fast-forward the current branch to the fix branch."""
    git(root, "-c", "core.hooksPath=/dev/null", "merge", "--ff-only", "--quiet", branch)
