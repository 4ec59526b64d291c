"""Weakened tests and unsafe paths are recognised from the files themselves."""

from __future__ import annotations

import pytest

from suture.fix import guard, integrity
from suture.fix.patch import FileChange, Patch

BEFORE = '''import pytest
import unittest


def test_a():
    assert 1 + 1 == 2
    with pytest.raises(ValueError):
        int("x")


class TestB:
    def test_b(self):
        assert True


class C(unittest.TestCase):
    def test_c(self):
        self.assertEqual(1, 1)
'''


@pytest.mark.parametrize(("after", "problem"), [
    (BEFORE.replace("    assert 1 + 1 == 2\n", ""), "test_a: 1 assertion(s) removed"),
    (BEFORE.replace("    with pytest.raises(ValueError):\n        int(\"x\")\n", "    pass\n"),
     "test_a: 1 assertion(s) removed"),
    (BEFORE.replace("        self.assertEqual(1, 1)\n", "        pass\n"),
     "C::test_c: 1 assertion(s) removed"),
    (BEFORE.replace("def test_a():\n", "@pytest.mark.skip(reason='later')\ndef test_a():\n"),
     "test_a: skip added"),
    (BEFORE.replace("class TestB:\n", "@pytest.mark.xfail\nclass TestB:\n"),
     "TestB::test_b: xfail added"),
    (BEFORE.replace("    assert 1 + 1 == 2\n", "    pytest.skip('no')\n    assert 1 + 1 == 2\n"),
     "test_a: skip added"),
    (BEFORE + "\npytestmark = pytest.mark.skipif(True, reason='x')\n", "test_a: skipif added"),
    (BEFORE.replace("def test_b(self)", "def helper_b(self)"), "TestB::test_b: test removed"),
    (BEFORE.replace("        self.assertEqual(1, 1)\n",
                    "        self.skipTest('x')\n        self.assertEqual(1, 1)\n"),
     "C::test_c: skip added"),
    (None, "test file deleted"),
    ("def test_a(:\n", "no longer valid Python"),
])
def test_weakening_is_named(after: str | None, problem: str) -> None:
    found = integrity.weakened("tests/test_x.py", BEFORE, after)
    assert any(problem in p for p in found), found


def test_stronger_or_unchanged_tests_pass() -> None:
    stronger = BEFORE.replace("    assert 1 + 1 == 2\n", "    assert 1 + 1 == 2\n    assert 2\n")
    assert integrity.weakened("tests/test_x.py", BEFORE, stronger) == []
    assert integrity.weakened("tests/test_x.py", BEFORE, BEFORE + "\n\ndef test_new():\n"
                              "    assert 3\n") == []
    assert integrity.weakened("tests/test_new.py", None, "def test_z():\n    pass\n") == []


def test_only_the_quarantined_test_may_gain_xfail() -> None:
    after = BEFORE.replace("def test_a():\n", "@pytest.mark.xfail(strict=False)\ndef test_a():\n")
    assert integrity.weakened("tests/test_x.py", BEFORE, after,
                              quarantined=["tests/test_x.py::test_a"]) == []
    assert integrity.weakened("tests/test_x.py", BEFORE, after,
                              quarantined=["tests/test_x.py::test_other"])
    skip = after.replace("xfail(strict=False)", "skip")
    assert integrity.weakened("tests/test_x.py", BEFORE, skip,
                              quarantined=["tests/test_x.py::test_a"])


def test_runner_configuration_changes_are_caught_and_other_edits_are_not() -> None:
    before = '[project]\nname = "x"\n\n[tool.pytest.ini_options]\naddopts = "-q"\n'
    deselect = before.replace('"-q"', '"-q --deselect tests/test_x.py::test_a"')
    assert integrity.runner_config_changed("pyproject.toml", before, deselect)
    bump = before.replace('name = "x"', 'name = "x"\ndependencies = ["jinja2==3.1.6"]')
    assert integrity.runner_config_changed("pyproject.toml", before, bump) == []
    assert integrity.runner_config_changed("setup.cfg", "[tool:pytest]\naddopts = -q\n",
                                           "[tool:pytest]\naddopts = -q -k 'not slow'\n")


@pytest.mark.parametrize(("path", "is_test"), [
    ("tests/test_api.py", True), ("test_api.py", True), ("pkg/api_test.py", True),
    ("tests/helpers.py", True), ("conftest.py", True), ("src/app/api.py", False),
    ("tests/data.json", False),
])
def test_what_counts_as_test_code(path: str, is_test: bool) -> None:
    assert integrity.is_test_file(path) is is_test


def _patch(*changes: FileChange, lines: int = 2) -> Patch:
    body = "\n".join(["+x"] * lines)
    return Patch(diff=f"--- a/f\n+++ b/f\n@@ -1 +1 @@\n{body}\n", changes=changes)


def test_guard_refuses_protected_paths_links_escapes_and_size() -> None:
    ok = _patch(FileChange("src/app.py", "M", "100644"))
    assert guard.refusals(ok) == []
    for path in (".github/workflows/ci.yml", "suture.yml", ".secrets.baseline",
                 ".gitlab-ci.yml", ".ci/run", ".suture/baseline.json"):
        assert guard.refusals(_patch(FileChange(path, "M", "100644"))), path
    assert "symbolic link" in guard.refusals(_patch(FileChange("x", "A", "120000")))[0]
    assert "outside" in guard.refusals(_patch(FileChange("../x.py", "M", "100644")))[0]
    assert guard.refusals(_patch(FileChange("a.py", "M", "100644"), lines=500), max_lines=400)
    assert guard.refusals(Patch(diff="", changes=())) == ["the candidate changes nothing"]
    assert guard.refusals(_patch(FileChange("config/secrets.json", "M", "100644")),
                          extra_protected=("config/secrets.json",))
