"""Fault localisation: Ochiai over real per-test coverage.py contexts of a real pytest run."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

from suture.errors import ToolError
from suture.fix.remedies import sbfl
from tests.fixtures.git import GitRepo

_TRIAGE = """\
def classify(temp_c):
    if temp_c < 35.0:
        return "hypothermia"
    if temp_c < 37.5:
        return "normal"
    if temp_c > 40.0:
        return "hyperpyrexia"
    return "fever"
"""
_TRIAGE_TESTS = """\
import pytest

from triage import classify


def test_cold():
    assert classify(34.0) == "hypothermia"


def test_normal():
    assert classify(36.6) == "normal"


def test_fever():
    assert classify(38.0) == "fever"


@pytest.mark.parametrize("temp", [40.0, 41.0])
def test_hyperpyrexia(temp):
    assert classify(temp) == "hyperpyrexia"
"""


def test_ochiai_formula() -> None:
    assert sbfl.ochiai(2, 0, 2) == 1.0
    assert sbfl.ochiai(1, 3, 2) == pytest.approx(1 / math.sqrt(2 * 4))
    assert sbfl.ochiai(0, 5, 3) == 0.0
    assert sbfl.ochiai(1, 0, 0) == 0.0


def test_rank_orders_by_ochiai_and_skips_tests_and_lines_no_failure_ran() -> None:
    contexts = {
        "app.py": {
            1: [""],  # module level: run at import, so by every test
            3: ["t::fail", "t::ok1", "t::ok2"],
            4: ["t::fail"],
            5: ["t::ok1"],
        },
        "tests/test_app.py": {2: ["t::fail"]},
        "lib/conftest.py": {1: ["t::fail"]},
        "vendor/x.py": {1: ["t::fail"]},
    }
    ranked = sbfl.rank(contexts, ["t::fail"], ["t::ok1", "t::ok2"], exclude=["vendor"])
    assert [(s.path, s.line) for s in ranked] == [("app.py", 4), ("app.py", 3), ("app.py", 1)]
    top, mid, low = ranked
    assert (top.score, top.failed, top.passed, top.tests) == (1.0, 1, 0, ())
    assert mid.score == pytest.approx(1 / math.sqrt(3))
    assert mid.tests == ("t::ok1", "t::ok2")
    assert (low.failed, low.passed) == (1, 2)


def test_rank_breaks_ties_towards_more_failing_tests_then_the_later_line() -> None:
    contexts = {"m.py": {1: ["f1", "f2"], 2: ["f1", "f2"], 3: ["f1"]}}
    ranked = sbfl.rank(contexts, ["f1", "f2"], [])
    assert [s.line for s in ranked] == [2, 1, 3]


@pytest.mark.parametrize("path, expected", [
    ("tests/test_a.py", True),
    ("pkg/tests/helpers.py", True),
    ("conftest.py", True),
    ("src/app_test.py", True),
    ("checks/util.py", True),  # under a configured test path
    ("src/app.py", False),
    ("src/testing_tools.py", False),
])
def test_is_test_file(path: str, expected: bool) -> None:
    assert sbfl.is_test_file(path, ["checks"]) is expected


def test_localise_ranks_the_buggy_boundary_in_the_top_two(git_repo: GitRepo) -> None:
    git_repo.write("src/triage.py", _TRIAGE)  # src layout: localise puts src/ on the path
    git_repo.write("tests/test_triage.py", _TRIAGE_TESTS)
    git_repo.commit("triage")
    loc = sbfl.localise(git_repo.path, sys.executable, test_paths=["tests"], timeout=120)
    assert loc.failed_tests == ("tests/test_triage.py::test_hyperpyrexia[40.0]",)
    assert set(loc.passed_tests) == {
        "tests/test_triage.py::test_cold", "tests/test_triage.py::test_normal",
        "tests/test_triage.py::test_fever", "tests/test_triage.py::test_hyperpyrexia[41.0]"}
    assert loc.test_files == ("tests/test_triage.py",)
    top = [(s.path, s.line) for s in loc.suspects[:2]]
    assert ("src/triage.py", 6) in top
    # `return "fever"` (run by the failing test and one passing test) edges out the `if`.
    assert top == [("src/triage.py", 8), ("src/triage.py", 6)]
    six = loc.suspects[1]
    assert six.score == pytest.approx(1 / math.sqrt(3))
    assert set(six.tests) == {"tests/test_triage.py::test_fever",
                              "tests/test_triage.py::test_hyperpyrexia[41.0]"}
    assert all(not s.path.startswith("tests/") for s in loc.suspects)
    # The coverage data, the JUnit report and bytecode went to a temp folder, not the project.
    assert git_repo.git("status", "--porcelain", "--ignored") == ""


def test_localise_without_coverage_installed_is_a_tool_error(git_repo: GitRepo,
                                                              tmp_path: Path) -> None:
    git_repo.write("triage.py", _TRIAGE)
    git_repo.write("tests/test_triage.py", _TRIAGE_TESTS)
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    with pytest.raises(ToolError) as err:
        sbfl.localise(git_repo.path, str(bare / "bin" / "python"), test_paths=["tests"],
                      timeout=60)
    assert "coverage" in (err.value.hint or "")
