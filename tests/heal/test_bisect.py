"""Culprit finding over real git histories, in worktrees, flake-aware, with counted executions."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from suture.errors import UsageError
from suture.heal.bisect import Verdict, find_culprit, split_hunks
from tests.fixtures.git import GitRepo, make_repo
from tests.fixtures.history import TEST_ID, build_history, dirty, gc_away, worktrees

PY = sys.executable


@pytest.mark.parametrize(
    ("changes", "culprit_at", "executions"),
    [
        # Executions with confirm=2: verify bad (1) and good (2), then each probe costs 1 when
        # the commit is bad and 2 when it is good; ceil(log2 n) probes at most.
        (1, 1, 3),  # one candidate: no probe, the endpoints are the whole search
        (2, 1, 4),  # probe #1: bad
        (2, 2, 5),  # probe #1: good
        (7, 4, 7),  # probes: good (2), bad (1), bad (1)
        (16, 11, 9),
        (16, 16, 11),  # every probe good: the worst case, 3 + 2 * ceil(log2 16)
    ],
)
def test_the_culprit_is_found_within_the_log2_budget(
    git_repo: GitRepo, changes: int, culprit_at: int, executions: int
) -> None:
    history = build_history(git_repo, changes=changes, culprit_at=culprit_at)
    result = find_culprit(git_repo.path, history.project, PY, [TEST_ID], good=history.good,
                          bad=history.bad, timeout=60)
    assert result.verdict == Verdict.FOUND
    assert result.culprit == history.culprit
    assert result.message == f"simplify add (change {culprit_at})"
    assert result.author == "Test Author <author@example.test>"
    assert result.hunks == (
        "--- a/calc.py\n+++ b/calc.py\n@@ -1,2 +1,2 @@\n def add(a, b):\n"
        "-    return a + b\n+    return a - b",
    )
    assert (result.good, result.bad, result.candidates) == (history.good, history.bad, changes)
    assert result.executions == executions == len(result.probes)
    assert result.executions <= 1 + 2 + 2 * result.search_bound
    # The endpoints are verified first: the failure at bad, then two passes at good.
    assert result.probes[:3] == ((history.bad, False), (history.good, True), (history.good, True))
    assert worktrees(git_repo) == [str(git_repo.path.resolve())]


def test_the_users_dirty_tree_is_never_touched(git_repo: GitRepo) -> None:
    history = build_history(git_repo, changes=3, culprit_at=2)
    status = dirty(git_repo)  # the uncommitted calc.py would make every probe different
    result = find_culprit(git_repo.path, history.project, PY, [TEST_ID], good=history.good,
                          bad=history.bad, timeout=60)
    assert result.culprit == history.culprit
    assert (git_repo.path / "calc.py").read_text() == (
        "def add(a, b):\n    return 'uncommitted work'\n")
    assert (git_repo.path / "untracked.txt").read_text() == "mine\n"
    assert git_repo.git("status", "--porcelain") == status
    assert git_repo.git("rev-parse", "HEAD") == history.bad
    assert git_repo.git("symbolic-ref", "--short", "HEAD") == "main"
    assert worktrees(git_repo) == [str(git_repo.path.resolve())]


def test_a_project_in_a_subfolder_is_bisected_there(git_repo: GitRepo) -> None:
    git_repo.write("README.md", "monorepo\n")
    history = build_history(git_repo, changes=4, culprit_at=3, subdir="services/api")
    result = find_culprit(git_repo.path, history.project, PY, [TEST_ID], good=history.good,
                          bad=history.bad, timeout=60)
    assert result.culprit == history.culprit
    assert result.hunks[0].startswith("--- a/services/api/calc.py\n+++ b/services/api/calc.py")


def test_a_test_added_broken_blames_the_commit_that_added_it(git_repo: GitRepo) -> None:
    history = build_history(git_repo, changes=3, culprit_at=None)
    git_repo.write("tests/test_new.py", "def test_new():\n    assert 2 + 2 == 5\n")
    adding = git_repo.commit("add a wrong test")
    git_repo.write("notes/later.txt", "later\n")
    bad = git_repo.commit("later")
    result = find_culprit(git_repo.path, history.project, PY, ["tests/test_new.py::test_new"],
                          good=history.good, bad=bad, timeout=60)
    assert result.culprit == adding
    assert "+++ b/tests/test_new.py" in result.hunks[0]


def test_a_test_already_failing_at_good_has_no_culprit(git_repo: GitRepo) -> None:
    history = build_history(git_repo, changes=5, culprit_at=None, broken_from_start=True)
    result = find_culprit(git_repo.path, history.project, PY, [TEST_ID], good=history.good,
                          bad=history.bad, timeout=60)
    assert result.verdict == Verdict.ALREADY_FAILING
    assert result.culprit is None and result.hunks == () and result.message == ""
    assert result.probes == ((history.bad, False), (history.good, False))
    assert result.executions == 2


def test_a_failure_that_does_not_reproduce_at_bad_has_no_culprit(git_repo: GitRepo) -> None:
    # The failing run came from uncommitted work: every commit passes.
    history = build_history(git_repo, changes=5, culprit_at=None)
    dirty(git_repo)
    result = find_culprit(git_repo.path, history.project, PY, [TEST_ID], good=history.good,
                          bad=history.bad, timeout=60)
    assert result.verdict == Verdict.NOT_REPRODUCED
    assert result.culprit is None
    assert result.probes == ((history.bad, True), (history.bad, True))


def test_good_equal_to_bad_has_nothing_to_search(git_repo: GitRepo) -> None:
    history = build_history(git_repo, changes=1, culprit_at=1)
    result = find_culprit(git_repo.path, history.project, PY, [TEST_ID], good="main",
                          bad=history.bad, timeout=60)
    assert result.verdict == Verdict.NO_COMMITS
    assert (result.culprit, result.candidates, result.executions) == (None, 0, 0)


def test_confirmed_passes_keep_an_intermittent_regression_from_misleading_the_search(
    git_repo: GitRepo, flake_counter: Path
) -> None:
    # After the culprit, add() is wrong on every other call: a single pass proves nothing.
    history = build_history(git_repo, changes=7, culprit_at=2, intermittent=True)
    confirmed = find_culprit(git_repo.path, history.project, PY, [TEST_ID], good=history.good,
                             bad=history.bad, timeout=60, confirm=2)
    assert confirmed.culprit == history.culprit
    flake_counter.unlink()
    trusting = find_culprit(git_repo.path, history.project, PY, [TEST_ID], good=history.good,
                            bad=history.bad, timeout=60, confirm=1)
    assert trusting.culprit == history.commits[5]  # one lucky pass sent it 3 commits too far


def test_a_garbage_collected_good_commit_is_a_usage_error(git_repo: GitRepo) -> None:
    history = build_history(git_repo, changes=2, culprit_at=1)
    gone = gc_away(git_repo)
    with pytest.raises(UsageError, match=f"commit {gone} no longer exists"):
        find_culprit(git_repo.path, history.project, PY, [TEST_ID], good=gone, bad=history.bad,
                     timeout=60)


def test_a_shallow_clone_asks_for_the_full_history(git_repo: GitRepo, tmp_path: Path) -> None:
    history = build_history(git_repo, changes=3, culprit_at=2)
    clone = tmp_path / "clone"
    git_repo.git("clone", "-q", "--depth", "1", f"file://{git_repo.path}", str(clone))
    with pytest.raises(UsageError, match="is a shallow clone") as err:
        find_culprit(clone, clone, PY, [TEST_ID], good=history.good, bad="HEAD", timeout=60)
    assert err.value.hint and "git fetch --unshallow" in err.value.hint


def test_good_must_be_an_ancestor_of_bad(git_repo: GitRepo) -> None:
    history = build_history(git_repo, changes=2, culprit_at=1)
    git_repo.git("checkout", "-q", "-b", "side", history.good)
    git_repo.write("side.txt", "side\n")
    side = git_repo.commit("work on a side branch")
    git_repo.git("checkout", "-q", "main")
    with pytest.raises(UsageError, match="is not an ancestor of"):
        find_culprit(git_repo.path, history.project, PY, [TEST_ID], good=side, bad=history.bad,
                     timeout=60)


def test_bad_arguments_are_usage_errors(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r")
    with pytest.raises(UsageError, match="confirm must be at least 1"):
        find_culprit(repo.path, repo.path, PY, [TEST_ID], good="a", bad="b", timeout=60,
                     confirm=0)
    with pytest.raises(UsageError, match="no failing tests"):
        find_culprit(repo.path, repo.path, PY, [], good="a", bad="b", timeout=60)


def test_hunks_keep_their_file_header_and_list_binary_changes() -> None:
    diff = (
        "diff --git a/x.py b/x.py\nindex 1..2 100644\n--- a/x.py\n+++ b/x.py\n"
        "@@ -1 +1 @@\n-a\n+b\n@@ -9 +9 @@\n-c\n+d\n"
        "diff --git a/logo.png b/logo.png\nindex 3..4 100644\n"
        "Binary files a/logo.png and b/logo.png differ\n"
    )
    assert split_hunks(diff) == [
        "--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a\n+b",
        "--- a/x.py\n+++ b/x.py\n@@ -9 +9 @@\n-c\n+d",
        "diff --git a/logo.png b/logo.png\nindex 3..4 100644\n"
        "Binary files a/logo.png and b/logo.png differ",
    ]
