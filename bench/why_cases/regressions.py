"""Regressions: a passing run, then n commits of which one breaks the code under test."""

from __future__ import annotations

from collections.abc import Callable

from why_cases.history import (
    Bug,
    History,
    Module,
    billing_module,
    calc_module,
    dosage_module,
    units_module,
)
from why_cases.project import Case, Expect, Project


def _regression(module: Callable[[], Module], n: int, culprit_at: int,
                bug: Bug) -> Callable[[Project], Expect]:
    def build(p: Project) -> Expect:
        h = History(p, module())
        h.start()
        p.run(expect_pass=True)
        culprit = h.commits(n, culprit_at, bug)
        p.run(expect_pass=False)
        return Expect(stage="tests", category="regression", culprit=culprit, n=n, bisect=True,
                      culprit_at=culprit_at)
    return build


def _uncommitted(p: Project) -> Expect:
    """The breaking change is in the working tree, not in any commit."""
    h = History(p, calc_module())
    h.start()
    p.run(expect_pass=True)
    for i in range(1, 4):
        h.filler(i)
    h.texts["calc.py"] = h.texts["calc.py"].replace("return a * b", "return a ** b")
    p.write("calc.py", h.texts["calc.py"])
    p.run(expect_pass=False)
    return Expect(stage="tests", category="regression", culprit=None, n=3)


def _merged_branch(p: Project) -> Expect:
    """The culprit sits on a feature branch merged with --no-ff: the merge commit is named.

    The search walks first parents only (bisect.py), so the branch is judged as its merge.
    """
    h = History(p, calc_module())
    h.start()
    p.run(expect_pass=True)
    p.git("switch", "-q", "-c", "feature")
    h.filler(4)
    h.apply(Bug("calc.py", "return a * b", "return a * b + 1", "mul counts the header row"))
    h.filler(5)
    p.git("switch", "-q", "main")
    h.filler(10)
    h.filler(11)
    p.git("merge", "--no-ff", "-q", "-m", "merge feature", "feature")
    merge = p.git("rev-parse", "HEAD")
    h.filler(13)
    p.run(expect_pass=False)
    return Expect(stage="tests", category="regression", culprit=merge, n=4, bisect=True,
                  culprit_at=3)


CASES = (
    Case("regression-n3-flat",
         _regression(calc_module, 3, 2,
                     Bug("calc.py", "return a + b", "return a + b + 1", "tune add")),
         "flat layout, culprit in the middle"),
    Case("regression-n8-src",
         _regression(dosage_module, 8, 1,
                     Bug("src/clinic/dosage.py", "max_mg: float = 4000.0",
                         "max_mg: float = 400.0", "lower the default dose cap")),
         "src layout, culprit is the first commit after the passing run"),
    Case("regression-n16-other-file",
         _regression(billing_module, 16, 11,
                     Bug("rates.py", '"lab": 45', '"lab": 54', "update lab tariff")),
         "the failing test calls billing.py; the culprit changed rates.py"),
    Case("regression-n30-last",
         _regression(units_module, 30, 30,
                     Bug("app/units.py", "round(mg_dl / 18.0, 2)", "round(mg_dl / 18.02, 2)",
                         "units: use the precise glucose factor")),
         "package folder, two failing tests, culprit is the newest commit"),
    Case("regression-merge", _merged_branch,
         "the culprit is on a merged branch; 4 first-parent commits, the merge is the culprit"),
    Case("regression-uncommitted", _uncommitted,
         "the break is an uncommitted edit in the working tree: no culprit commit"),
)
