"""Failing tests that are not plain regressions: a flake, test bugs, a missing dependency."""

from __future__ import annotations

from why_cases.history import CALC, Bug, History, Module, calc_module, tests_config
from why_cases.project import Case, Expect, Project

FLAKY_TEST = '''\
import os
import pathlib


def test_sometimes():
    # Fails on every other call: the counter lives outside the repository.
    counter = pathlib.Path(os.environ["BENCH_FLAKY_COUNTER"])
    calls = int(counter.read_text()) if counter.exists() else 0
    counter.write_text(str(calls + 1))
    assert calls % 2 == 0, f"call {calls} lost the race"
'''


def _flaky(p: Project) -> Expect:
    p.env["BENCH_FLAKY_COUNTER"] = str(p.path.parent / "flaky-counter")
    module = calc_module()
    h = History(p, Module(files={**module.files, "tests/test_flaky.py": FLAKY_TEST},
                          grow=module.grow))
    h.start()
    p.run(expect_pass=True)
    for i in range(1, 5):
        h.filler(i)
    p.run(expect_pass=False)
    return Expect(stage="tests", category="flaky-test")


def _test_bug_commit(p: Project) -> Expect:
    h = History(p, calc_module())
    h.start()
    p.run(expect_pass=True)
    culprit = h.commits(6, 4, Bug("tests/test_calc.py", "assert mul(2, 3) == 6",
                                  "assert mul(2, 3) == 5", "tests: check mul of 2 and 3"))
    p.run(expect_pass=False)
    return Expect(stage="tests", category="test-bug", culprit=culprit, n=6, bisect=True,
                  culprit_at=4)


UNTESTED = '''

def triage(score: int, age: int) -> str:
    """Emergency triage level."""
    if score > 8:
        return "red"
    if score > 5 and age > 70:
        return "red"
    if score > 5:
        return "orange"
    if age < 2:
        return "orange"
    return "green"
'''


def _coverage_drop(p: Project) -> Expect:
    h = History(p, calc_module(tests_config(coverage="90", extra="    source: [calc]\n")))
    h.start()
    p.run(expect_pass=True)
    h.filler(1)
    h.filler(2)
    culprit = h.apply(Bug("calc.py", CALC, CALC + UNTESTED, "add triage"))
    p.run(expect_pass=False)
    return Expect(stage="tests", category="test-bug", origin=culprit)


STATE_TESTS = '''\
import calc


def test_strict_mode():
    calc.MODE = "strict"
    assert calc.MODE == "strict"


def test_default_mode():
    assert calc.MODE == "lenient"
'''


def _order_dependent(p: Project) -> Expect:
    module = calc_module()
    h = History(p, Module(files={**module.files, "calc.py": CALC + '\nMODE = "lenient"\n'},
                          grow=module.grow))
    h.start()
    p.run(expect_pass=True)
    h.filler(1)
    p.write("tests/test_state.py", STATE_TESTS)
    culprit = p.commit("tests: modes")
    h.filler(2)
    p.run(expect_pass=False)
    return Expect(stage="tests", category="test-bug", origin=culprit)


def _missing_dependency(p: Project) -> Expect:
    h = History(p, calc_module())
    h.start()
    p.run(expect_pass=True)
    culprit = h.commits(4, 3, Bug("calc.py", '"""Arithmetic."""\n',
                                  '"""Arithmetic."""\n\nimport phi_scrubber  # noqa: F401\n',
                                  "scrub PHI before adding"))
    p.run(expect_pass=False)
    return Expect(stage="tests", category="missing-dependency", origin=culprit)


CASES = (
    Case("flaky-counter", _flaky, "fails on every other call; 4 harmless commits since green"),
    Case("test-bug-commit", _test_bug_commit, "commit 4 of 6 changes only a test, wrongly"),
    Case("test-bug-coverage", _coverage_drop, "untested code drops coverage below 90%"),
    Case("test-bug-order", _order_dependent, "a test leaks module state into the next one"),
    Case("missing-dependency", _missing_dependency, "calc.py imports a package not installed"),
)
