"""Culprit finding: binary search over the commits between a good and a bad one.

Each probe checks a commit out in a disposable worktree and runs only the failing tests there.
A probe is *bad* when any of the tests fails; the culprit is the first bad commit. The
candidates are `git rev-list --first-parent --ancestry-path good..bad`, oldest first, so a
branch merged in is judged as its merge commit.

Flake-aware scheme: a failure is decisive, a pass must be confirmed. A probe is bad on its
first failing execution and good only after `confirm` passing executions in a row. Why this
way round: we only bisect tests that check_flaky showed fail every time, so before the culprit
they pass, and after it they fail, unless the regression itself is intermittent (a race). A
pass at a bad commit is the error that can happen, and it would send the search past the
culprit; `confirm` passes make it unlikely (for a regression failing half the time, 1 in
2**confirm). A test that also fails now and then at good commits is flaky, not a regression:
call check_flaky first and don't bisect it. A run past the timeout is a failure (a hang is a
failure). A test that does not exist at a commit passes there (the commit adding it is blamed).

Cost, counted per test execution (one pytest run of the selected tests at one commit): the
endpoints are verified first, `bad` (1 when it fails) then `good` (`confirm`), then at most
ceil(log2 n) probes of 1 (bad) or `confirm` (good) executions for n candidates. One candidate
needs no probe. If the tests pass at `bad`, or fail at `good`, there is no culprit to find.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from suture.errors import UsageError
from suture.heal.testrun import run_tests
from suture.heal.worktree import Worktree, git, is_shallow, resolve_commit, toplevel

MAX_HUNKS = 20
MAX_HUNK_CHARS = 4_000


class Verdict(StrEnum):
    """How a culprit search ended."""

    FOUND = "found"
    ALREADY_FAILING = "already-failing"  # the tests fail at `good` too: not a regression
    NOT_REPRODUCED = "not-reproduced"  # the tests pass at `bad`: uncommitted change, env, flake
    NO_COMMITS = "no-commits"  # good and bad are the same commit


@dataclass(frozen=True)
class BisectResult:
    """What the search found and what it cost."""

    culprit: str | None
    good: str
    bad: str
    candidates: int
    executions: int
    hunks: tuple[str, ...]  # the culprit's diff against its first parent, project files first
    message: str  # the culprit's subject line
    author: str  # "Name <email>"
    probes: tuple[tuple[str, bool], ...]  # every test execution in order: (commit, passed)
    verdict: Verdict

    @property
    def search_bound(self) -> int:
        """ceil(log2 n): the probes a plain binary search needs over the candidates."""
        return math.ceil(math.log2(self.candidates)) if self.candidates > 1 else 0


def find_culprit(
    repo_root: Path,
    project_root: Path,
    python: str,
    test_ids: Sequence[str],
    *,
    good: str,
    bad: str,
    timeout: float,
    confirm: int = 2,
    env: Mapping[str, str] | None = None,
) -> BisectResult:
    """Find the first commit in good..bad at which any of `test_ids` fails.

    Raises UsageError for a missing commit, a shallow clone lacking `good`, or a `good` that is
    not an ancestor of `bad`; ToolError when git or pytest cannot run.
    """
    if confirm < 1:
        raise UsageError(f"confirm must be at least 1, not {confirm}",
                         hint="a pass needs at least one execution")
    if not test_ids:
        raise UsageError("no failing tests to bisect", hint="pass the failing tests' node ids")
    top = toplevel(repo_root)
    good_sha, bad_sha = resolve_commit(top, good), resolve_commit(top, bad)
    candidates = _candidates(top, good_sha, bad_sha, good, bad)
    search = _Search(top, project_root, python, tuple(test_ids), timeout, confirm, env)

    def result(culprit: str | None, verdict: Verdict) -> BisectResult:
        hunks, message, author = _describe(top, project_root, culprit) if culprit else ((), "", "")
        return BisectResult(
            culprit=culprit, good=good_sha, bad=bad_sha, candidates=len(candidates),
            executions=len(search.probes), hunks=hunks, message=message, author=author,
            probes=tuple(search.probes), verdict=verdict,
        )

    if not candidates:
        return result(None, Verdict.NO_COMMITS)
    if search.passes(bad_sha):
        return result(None, Verdict.NOT_REPRODUCED)
    if not search.passes(good_sha):
        return result(None, Verdict.ALREADY_FAILING)
    # Invariant: candidates[lo] passes (lo == -1 is `good`), candidates[hi] fails.
    lo, hi = -1, len(candidates) - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if search.passes(candidates[mid]):
            lo = mid
        else:
            hi = mid
    return result(candidates[hi], Verdict.FOUND)


class _Search:
    """Runs probes and keeps the log of every execution."""

    def __init__(self, top: Path, project_root: Path, python: str, test_ids: tuple[str, ...],
                 timeout: float, confirm: int, env: Mapping[str, str] | None) -> None:
        self.top, self.project_root, self.python = top, project_root, python
        self.test_ids, self.timeout, self.confirm, self.env = test_ids, timeout, confirm, env
        self.probes: list[tuple[str, bool]] = []

    def passes(self, commit: str) -> bool:
        """Good only after `confirm` passes in a row; bad at the first failure."""
        with Worktree(self.top, commit, project_root=self.project_root) as path:
            for _ in range(self.confirm):
                outcome = run_tests(path, self.python, self.test_ids, timeout=self.timeout,
                                    env=self.env)
                self.probes.append((commit, outcome.passed))
                if not outcome.passed:
                    return False
        return True


def _candidates(top: Path, good: str, bad: str, good_ref: str, bad_ref: str) -> list[str]:
    """The commits after `good` up to and including `bad`, oldest first."""
    if good == bad:
        return []
    ancestor = git(top, "merge-base", "--is-ancestor", good, bad, check=False)
    if ancestor.returncode == 1:
        if is_shallow(top):
            raise UsageError(
                f"{top} is a shallow clone: the history between {good_ref} and {bad_ref} "
                "is cut off",
                hint="fetch the full history with `git fetch --unshallow` "
                "(in CI: check out with fetch-depth: 0)",
            )
        raise UsageError(
            f"{good_ref} is not an ancestor of {bad_ref} in {top}, so there is no history "
            "between them to search",
            hint="pass as the good base a commit that the failing commit was built on "
            "(e.g. git merge-base origin/main HEAD)",
        )
    if ancestor.returncode != 0:
        git(top, "merge-base", "--is-ancestor", good, bad)  # raises ToolError with the details
    res = git(top, "rev-list", "--first-parent", "--ancestry-path", "--reverse",
              f"{good}..{bad}")
    return res.stdout.split()


def _describe(top: Path, project_root: Path, commit: str) -> tuple[tuple[str, ...], str, str]:
    """The culprit's diff hunks (bounded), subject and author."""
    meta = git(top, "log", "-1", "--format=%s%x00%an <%ae>", commit).stdout.strip()
    message, _, author = meta.partition("\x00")
    diff = git(top, "-c", "core.quotePath=false", "diff", "--no-color", "--no-ext-diff",
               "--no-textconv", "-U3", f"{commit}^", commit).stdout
    try:
        sub = project_root.resolve().relative_to(top).as_posix()
    except ValueError:
        sub = "."
    prefix = "" if sub == "." else sub + "/"
    hunks = split_hunks(diff)
    # Hunks in the project come first: in a monorepo, other projects' changes matter less.
    ordered = sorted(hunks, key=lambda h: not _hunk_path(h).startswith(prefix))
    return tuple(_clip(h) for h in ordered[:MAX_HUNKS]), message, author


def split_hunks(diff: str) -> list[str]:
    """Split a unified diff into hunks, each carrying its file's ---/+++ header lines.

    A file change without text hunks (binary, mode, rename) is one entry of its header lines.
    """
    hunks: list[str] = []
    header: list[str] = []
    current: list[str] | None = None
    file_had_hunk = True

    def flush_file() -> None:
        if not file_had_hunk and header:
            hunks.append("\n".join(header))

    for line in diff.splitlines():
        if line.startswith("diff --git "):
            if current is not None:
                hunks.append("\n".join(current))
            current = None
            flush_file()
            header, file_had_hunk = [line], False
        elif line.startswith("@@"):
            if current is not None:
                hunks.append("\n".join(current))
            current = [h for h in header if h.startswith(("--- ", "+++ "))] + [line]
            file_had_hunk = True
        elif current is not None:
            current.append(line)
        else:
            header.append(line)
    if current is not None:
        hunks.append("\n".join(current))
    flush_file()
    return hunks


def _hunk_path(hunk: str) -> str:
    """The file a hunk belongs to (the new side, or the old one for a deletion)."""
    old = new = ""
    for line in hunk.splitlines()[:4]:
        if line.startswith("+++ "):
            new = line[4:].removeprefix("b/")
        elif line.startswith("--- "):
            old = line[4:].removeprefix("a/")
        elif line.startswith("diff --git "):
            new = line.split(" b/", 1)[-1]
    return new if new and new != "/dev/null" else old


def _clip(hunk: str) -> str:
    if len(hunk) <= MAX_HUNK_CHARS:
        return hunk
    return hunk[:MAX_HUNK_CHARS] + f"\n... [{len(hunk) - MAX_HUNK_CHARS} characters cut]"
