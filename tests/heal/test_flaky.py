"""Running chosen tests (run_tests) and telling flaky tests from real failures (check_flaky)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from suture.errors import UsageError
from suture.heal.flaky import check_flaky
from suture.heal.testrun import run_tests
from tests.fixtures.git import GitRepo
from tests.fixtures.history import TEST_ID, build_history, write_flaky_project

PY = sys.executable
FLAKY = "tests/test_flaky.py::test_flaky"
BROKEN = "tests/test_flaky.py::test_broken"
FINE = "tests/test_flaky.py::test_fine"
POLLUTES = "tests/test_flaky.py::test_pollutes"
NEEDS_CLEAN = "tests/test_flaky.py::test_needs_clean_state"


def snapshot(root: Path) -> set[str]:
    """Every file and folder under root, outside .git."""
    found = set()
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        rel = Path(folder).relative_to(root)
        found |= {str(rel / n) for n in names + dirs}
    return found


def test_only_the_selected_tests_run(git_repo: GitRepo) -> None:
    history = build_history(git_repo, changes=1, culprit_at=1)
    broken = run_tests(history.project, PY, [TEST_ID], timeout=60)
    assert not broken.passed
    assert broken.failed_ids == (TEST_ID,)
    assert "assert -1 == 5" in broken.output
    assert broken.missing_ids == ()
    # Same file, other test: the failing test_add next to it is not run.
    fine = run_tests(history.project, PY, ["tests/test_calc.py::test_add_zero"], timeout=60)
    assert fine.passed and fine.failed_ids == ()


def test_tests_that_do_not_exist_are_missing_not_failed(git_repo: GitRepo) -> None:
    history = build_history(git_repo, changes=1, culprit_at=1)
    ids = ["tests/test_new.py::test_x", "tests/test_calc.py::test_renamed", TEST_ID]
    outcome = run_tests(history.project, PY, ids, timeout=60)
    assert outcome.missing_ids == tuple(ids[:2])
    assert not outcome.passed and outcome.failed_ids == (TEST_ID,)
    nothing = run_tests(history.project, PY, ids[:2], timeout=60)
    assert nothing.passed and nothing.missing_ids == tuple(ids[:2])


def test_a_run_writes_nothing_into_the_project(git_repo: GitRepo) -> None:
    history = build_history(git_repo, changes=1, culprit_at=1)
    before = snapshot(history.project)
    run_tests(history.project, PY, [TEST_ID, "tests/test_calc.py::test_add_zero"], timeout=60)
    assert snapshot(history.project) == before  # no .pytest_cache, __pycache__, junit, .coverage
    assert git_repo.git("status", "--porcelain", "--ignored") == ""


def test_a_hanging_test_is_a_timed_out_failure(git_repo: GitRepo) -> None:
    git_repo.write("tests/test_hang.py", "import time\n\ndef test_hang():\n    time.sleep(60)\n")
    git_repo.commit("hang")
    outcome = run_tests(git_repo.path, PY, ["tests/test_hang.py::test_hang"], timeout=2)
    assert outcome.timed_out and not outcome.passed
    assert outcome.failed_ids == ("tests/test_hang.py::test_hang",)
    assert "timed out after 2s" in outcome.output


def test_an_import_error_fails_the_tests_of_that_file(git_repo: GitRepo) -> None:
    git_repo.write("tests/test_imp.py",
                   "import not_installed_anywhere\n\ndef test_a():\n    pass\n")
    git_repo.commit("bad import")
    outcome = run_tests(git_repo.path, PY, ["tests/test_imp.py::test_a"], timeout=60)
    assert not outcome.passed
    assert outcome.failed_ids == ("tests/test_imp.py",)
    assert outcome.missing_ids == ()  # broken, not missing
    assert "not_installed_anywhere" in outcome.output


def test_a_src_layout_project_tests_its_own_code(git_repo: GitRepo, tmp_path: Path) -> None:
    # Another copy of the package earlier on the path (as an editable install of the user's
    # checkout would be, seen from a worktree) must not shadow the code under test.
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "pkg").mkdir(parents=True)
    (elsewhere / "pkg" / "__init__.py").write_text("VALUE = 'the other copy'\n")
    git_repo.write("src/pkg/__init__.py", "VALUE = 'this commit'\n")
    git_repo.write("tests/test_pkg.py",
                   "import pkg\n\ndef test_value():\n    assert pkg.VALUE == 'this commit'\n")
    git_repo.commit("src layout")
    outcome = run_tests(git_repo.path, PY, ["tests/test_pkg.py::test_value"], timeout=60,
                        env={"PYTHONPATH": str(elsewhere)})
    assert outcome.passed, outcome.output


def test_no_test_ids_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no tests to run"):
        run_tests(tmp_path, PY, [], timeout=60)


def test_a_flaky_test_is_reported_flaky(git_repo: GitRepo, flake_counter: Path) -> None:
    root = write_flaky_project(git_repo)
    reports, executions = check_flaky(root, PY, [FLAKY], reruns=3, timeout=60)
    report = reports[FLAKY]
    # Fails on the first run, passes on the second: flaky is settled, no third run.
    assert (report.runs, report.failures) == (2, 1)
    assert report.flaky and not report.always_fails and not report.passes_alone
    assert executions == 2
    assert flake_counter.read_text() == "2"


def test_a_deterministic_failure_always_fails(git_repo: GitRepo, flake_counter: Path) -> None:
    root = write_flaky_project(git_repo)
    reports, executions = check_flaky(root, PY, [BROKEN, FINE], reruns=4, timeout=60)
    assert (reports[BROKEN].runs, reports[BROKEN].failures) == (4, 4)
    assert reports[BROKEN].always_fails and not reports[BROKEN].flaky
    assert (reports[FINE].runs, reports[FINE].failures) == (4, 0)
    assert reports[FINE].passes_alone
    assert executions == 8


def test_each_test_runs_alone(git_repo: GitRepo, flake_counter: Path) -> None:
    root = write_flaky_project(git_repo)
    together = run_tests(root, PY, [POLLUTES, NEEDS_CLEAN], timeout=60)
    assert together.failed_ids == (NEEDS_CLEAN,)  # what the pipeline saw
    reports, executions = check_flaky(root, PY, [NEEDS_CLEAN, POLLUTES], reruns=2, timeout=60)
    assert reports[NEEDS_CLEAN].passes_alone  # its failure came from the test before it
    assert (reports[NEEDS_CLEAN].runs, reports[NEEDS_CLEAN].failures) == (2, 0)
    assert executions == 4


def test_a_test_that_no_longer_exists_is_a_usage_error(git_repo: GitRepo) -> None:
    root = write_flaky_project(git_repo)
    with pytest.raises(UsageError, match="tests/test_flaky.py::test_gone does not exist"):
        check_flaky(root, PY, ["tests/test_flaky.py::test_gone"], timeout=60)
    with pytest.raises(UsageError, match="reruns must be at least 1"):
        check_flaky(root, PY, [FINE], reruns=0, timeout=60)
