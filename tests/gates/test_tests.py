"""The tests gate drives real pytest under real coverage.py in the project's interpreter."""

from __future__ import annotations

import pytest

from suture.errors import ToolError
from suture.gates.tests import TestsConfig, TestsGate

CODE = """\
def add(a, b):
    return a + b


def sub(a, b):
    return a - b
"""
TESTS = """\
from calc import add


def helper(x):
    assert x == 3, "helper saw the wrong value"


def test_add():
    assert add(1, 2) == 3


def test_add_broken():
    helper(add(2, 2))
"""


@pytest.fixture
def calc_repo(git_repo):
    git_repo.write("calc.py", CODE)
    git_repo.write("tests/test_calc.py", TESTS)
    git_repo.write("tests/conftest.py", "import sys, pathlib\n"
                   "sys.path.insert(0, str(pathlib.Path(__file__).parents[1]))\n")
    return git_repo


def test_failures_coverage_and_location(calc_repo, gate_ctx):
    gate = TestsGate("tests", TestsConfig(paths=["tests"], source=["calc"], min_coverage=90))
    report = gate.run(gate_ctx(calc_repo.path))
    failed = [f for f in report.findings if f.rule_id == "tests/failed"]
    assert len(failed) == 1
    f = failed[0]
    assert f.message.startswith("tests/test_calc.py::test_add_broken failed")
    assert "helper saw the wrong value" in f.message
    # the deepest frame in the repository: the assert inside helper()
    assert (f.path, f.line) == ("tests/test_calc.py", 5)
    assert report.metrics["tests"] == 2 and report.metrics["failed"] == 1
    assert report.metrics["coverage"] == pytest.approx(75.0)
    assert any(f.rule_id == "coverage/below-threshold" for f in report.findings)
    assert "1 passed, 1 failed" in report.summary


def test_ratchet_fails_when_coverage_drops(calc_repo, gate_ctx):
    calc_repo.write("tests/test_calc.py", TESTS.split("\n\ndef test_add_broken")[0] + "\n")
    gate = TestsGate("tests", TestsConfig(paths=["tests"], source=["calc"], min_coverage=50))
    ctx = gate_ctx(calc_repo.path, previous_metrics={"coverage": 100.0})
    report = gate.run(ctx)
    assert report.findings == ()  # the threshold of 50% is met
    (ratchet,) = gate.judge_history(ctx, report.metrics)
    assert ratchet.rule_id == "coverage/ratchet"
    assert "fell from 100.00%" in ratchet.message
    assert gate.judge_history(gate_ctx(calc_repo.path, previous_metrics={"coverage": 75.0}),
                              report.metrics) == ()


def test_no_tests_collected(git_repo, gate_ctx):
    git_repo.write("tests/test_nothing.py", "X = 1\n")
    report = TestsGate("tests", TestsConfig(paths=["tests"], min_coverage=None)).run(
        gate_ctx(git_repo.path))
    assert [f.rule_id for f in report.findings] == ["tests/none-collected"]


def test_collection_error_is_a_finding(git_repo, gate_ctx):
    git_repo.write("tests/test_bad.py", "import not_a_module_anywhere\n")
    report = TestsGate("tests", TestsConfig(paths=["tests"], min_coverage=None)).run(
        gate_ctx(git_repo.path))
    assert [f.rule_id for f in report.findings] == ["tests/error"]
    assert "not_a_module_anywhere" in report.findings[0].message


def test_interpreter_without_pytest_is_a_tool_error(calc_repo, gate_ctx, tmp_path):
    import subprocess
    import sys

    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    with pytest.raises(ToolError, match="not importable by the project's Python"):
        TestsGate("tests", TestsConfig()).run(gate_ctx(calc_repo.path,
                                                       python=str(bare / "bin" / "python")))


def test_timeout_is_a_tool_error(git_repo, gate_ctx):
    git_repo.write("tests/test_slow.py", "import time\n\ndef test_slow():\n    time.sleep(30)\n")
    gate = TestsGate("tests", TestsConfig(paths=["tests"], timeout=3))
    with pytest.raises(ToolError, match="timed out after 3s"):
        gate.run(gate_ctx(git_repo.path))


def test_frames_in_a_virtualenv_inside_the_repo_are_not_the_location(git_repo, gate_ctx):
    git_repo.write(".venv/lib/site-packages/thirdparty.py",
                   "def boom():\n    raise ValueError('x')\n")
    git_repo.write("tests/test_lib.py", """\
        import sys
        from pathlib import Path

        sys.path.insert(0, str(Path(__file__).parents[1] / ".venv/lib/site-packages"))
        import thirdparty


        def test_boom():
            thirdparty.boom()
        """)
    report = TestsGate("tests", TestsConfig(paths=["tests"], min_coverage=None)).run(
        gate_ctx(git_repo.path))
    (f,) = report.findings
    assert (f.path, f.line) == ("tests/test_lib.py", 9)


def test_missing_tests_folder_is_a_clear_error(git_repo, gate_ctx):
    git_repo.write("app.py", "x = 1\n")
    with pytest.raises(ToolError, match="test path tests does not exist"):
        TestsGate("tests", TestsConfig(paths=["tests"])).run(gate_ctx(git_repo.path))
