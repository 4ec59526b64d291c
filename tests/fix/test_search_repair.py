"""search-repair on real repositories: localise, mutate one line, re-run the real tests."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from suture.fix.remedies.interface import Remedy
from suture.fix.remedies.mutations import Mutant
from suture.fix.remedies.search_repair import AmbiguousRepair, SearchRepair, _equivalent
from suture.model import Category, Diagnosis, Finding, Level
from tests.fixtures.fix import make_context, make_target, proposals
from tests.fixtures.git import GitRepo

_CONFIG = "gates:\n  tests:\n    paths: [tests]\n    min_coverage: null\n"
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
_FAILING = "tests/test_triage.py::test_hyperpyrexia[40.0]"


def _failure(test_id: str, path: str = "triage.py", line: int = 8) -> Finding:
    return Finding(rule_id="tests/failed", level=Level.ERROR, tool="pytest", path=path, line=line,
                   message=f"{test_id} failed: AssertionError: assert 'fever' == 'hyperpyrexia'",
                   fingerprint=f"test:{test_id}")


def _worktree(repo: GitRepo, tmp_path: Path) -> Path:
    """A scratch worktree at HEAD, as the engine gives a remedy."""
    workdir = tmp_path / "scratch"
    repo.git("worktree", "add", "-q", "--detach", str(workdir))
    return workdir


@pytest.fixture
def triage(git_repo: GitRepo) -> GitRepo:
    git_repo.write("suture.yml", _CONFIG)
    git_repo.write("triage.py", _TRIAGE)
    git_repo.write("tests/test_triage.py", _TRIAGE_TESTS)
    git_repo.commit("triage with a boundary bug")
    return git_repo


def test_proposes_the_one_line_boundary_fix(triage: GitRepo, tmp_path: Path) -> None:
    workdir = _worktree(triage, tmp_path)
    target = make_target("tests", [_failure(_FAILING)], kind="tests")
    ctx = make_context(triage.path)
    found = proposals(SearchRepair(), target, workdir, ctx)
    assert len(found) == 1
    proposal, files = found[0]
    assert files == {"triage.py": _TRIAGE.replace("temp_c > 40.0", "temp_c >= 40.0")}
    assert proposal.summary == "Change `>` to `>=` in triage.py:6"
    assert "Ochiai 0.577" in proposal.rationale
    assert "Before: `if temp_c > 40.0:`" in proposal.rationale
    assert f"Now passing: {_FAILING}" in proposal.rationale
    assert proposal.addresses == (f"test:{_FAILING}",)
    # The user's checkout is read, never written; the scratch worktree is back as it was.
    assert triage.git("status", "--porcelain", "--ignored") == ""
    assert (workdir / "triage.py").read_text() == _TRIAGE


def test_no_budget_yields_nothing(triage: GitRepo, tmp_path: Path) -> None:
    workdir = _worktree(triage, tmp_path)
    target = make_target("tests", [_failure(_FAILING)], kind="tests")
    start = time.monotonic()
    for budget in (0.0, 0.01):
        found = proposals(SearchRepair(), target, workdir,
                          make_context(triage.path, time_budget_s=budget))
        assert found == []
    assert time.monotonic() - start < 10
    assert (workdir / "triage.py").read_text() == _TRIAGE


def test_never_edits_tests_and_rejects_fixes_that_break_passing_tests(
        git_repo: GitRepo, tmp_path: Path) -> None:
    # The code is right and the test's helper is wrong: only an edit to a test file (refused)
    # or one that breaks test_inc_zero (rejected by the whole-suite check) makes test_inc pass.
    git_repo.write("suture.yml", _CONFIG)
    git_repo.write("counter.py", "def inc(x):\n    return x + 1\n")
    git_repo.write("tests/helpers.py", "def expected(x):\n    return x + 2\n")
    git_repo.write("tests/test_counter.py", """\
        from counter import inc
        from helpers import expected


        def test_inc():
            assert inc(3) == expected(3)


        def test_inc_zero():
            assert inc(0) == 1
        """)
    git_repo.commit("a wrong expectation")
    workdir = _worktree(git_repo, tmp_path)
    failing = "tests/test_counter.py::test_inc"
    target = make_target("tests", [_failure(failing, "tests/helpers.py", 2)], kind="tests")
    found = proposals(SearchRepair(), target, workdir, make_context(git_repo.path))
    assert found == []
    assert git_repo.git("-C", str(workdir), "status", "--porcelain") == ""


def test_applies_to_failing_tests_without_a_culprit() -> None:
    remedy = SearchRepair()
    assert isinstance(remedy, Remedy) and remedy.name == "search-repair"
    failing = [_failure(_FAILING)]

    def diagnosis(category: Category, culprit: str | None = None) -> Diagnosis:
        return Diagnosis(stage="tests", category=category, root_cause="x",
                         culprit_commit=culprit)

    assert remedy.applies(make_target("tests", failing, kind="tests"))
    assert remedy.applies(make_target("unit", failing, kind="tests",
                                      diagnosis=diagnosis(Category.UNKNOWN, "a" * 40)))
    assert remedy.applies(make_target("tests", failing, kind="tests",
                                      diagnosis=diagnosis(Category.REGRESSION)))
    # A commit to blame (revert it), a wrong test, a flake, a missing module: not for mutation.
    for refused in (diagnosis(Category.REGRESSION, "b" * 40), diagnosis(Category.FLAKY_TEST),
                    diagnosis(Category.TEST_BUG), diagnosis(Category.TEST_BUG, "c" * 40),
                    diagnosis(Category.MISSING_DEPENDENCY), diagnosis(Category.ENVIRONMENT)):
        assert not remedy.applies(make_target("tests", failing, kind="tests", diagnosis=refused))
    assert not remedy.applies(make_target("lint", failing, kind="lint"))
    coverage_only = Finding(rule_id="coverage/below-threshold", level=Level.ERROR,
                            tool="coverage", message="coverage 50.00% is below 95%")
    assert not remedy.applies(make_target("tests", [coverage_only], kind="tests"))
    baselined = _failure(_FAILING).model_copy(update={"baselined": True})
    assert not remedy.applies(make_target("tests", [baselined], kind="tests"))


def test_a_fix_the_tests_cannot_tell_from_another_is_not_proposed(git_repo: GitRepo,
                                                                   tmp_path: Path) -> None:
    git_repo.write("suture.yml", _CONFIG)
    git_repo.write("dose.py", "def half(mg):\n    return mg * 2\n")
    git_repo.write("tests/test_dose.py", "from dose import half\n\n\ndef test_half():\n"
                   "    assert half(4) == 2\n")
    git_repo.commit("half doubles")
    workdir = _worktree(git_repo, tmp_path)
    failure = _failure("tests/test_dose.py::test_half", "dose.py", 2)
    target = make_target("tests", [failure], kind="tests")

    with pytest.raises(AmbiguousRepair) as caught:
        proposals(SearchRepair(), target, workdir, make_context(git_repo.path))

    # `mg / 2` and `mg // 2` both pass: which one is meant, only a person (or a test) can say
    assert "different one-line changes" in caught.value.message
    assert "`/`" in caught.value.message and "`//`" in caught.value.message
    assert "add a test" in (caught.value.hint or "")
    assert git_repo.git("status", "--porcelain") == ""


@pytest.mark.parametrize(("a", "b", "same"), [
    ("if band is None:", "if not band is not None:", True),
    ("return not not ok", "return ok", True),
    ("while x in seen:", "while not x not in seen:", True),
    ("return a / b", "return a // b", False),
    ("start = len(r) - n", "start = len(r) - n * 1", True),
    ("total = x + 0", "total = x", True),
    ("total = x * 2", "total = x", False),
    ("if x < 3:", "if not x >= 3:", False),  # NaN: not written out on purpose
])
def test_negations_written_differently_are_one_fix(a: str, b: str, same: bool) -> None:
    def mutant(after: str) -> Mutant:
        return Mutant(operator="negation", description="", line=3, before="", after=after,
                      source=after)

    assert _equivalent(mutant(a), mutant(b)) is same
