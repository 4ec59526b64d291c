"""Gates that cannot reach a verdict, or fail with no visible reason."""

from __future__ import annotations

from why_cases.history import CALC, CALC_TESTS, History, Module, calc_module, tests_config
from why_cases.project import Case, Expect, Project

NESTED_CONFTEST = (
    '"""Put the project on sys.path."""\n\nimport pathlib\nimport sys\n\n'
    "sys.path.insert(0, str(pathlib.Path(__file__).parents[2]))\n"
)


def _command_config(run: str, timeout: float | None = None) -> str:
    limit = f"    timeout: {timeout:g}\n" if timeout else ""
    return f"version: 1\ngates:\n  check:\n    kind: command\n    run: {run}\n{limit}"


def _moved_tests(p: Project, keep_empty_folder: bool = False) -> Expect:
    """The tests move from tests/unit to tests/, suture.yml still names tests/unit.

    `git mv` leaves tests/unit behind, empty, in the working tree (a fresh clone has no such
    folder): with `keep_empty_folder` pytest collects nothing there, else the folder is gone.
    """
    config = "version: 1\ngates:\n  tests:\n    paths: [tests/unit]\n    min_coverage: null\n" \
             "    ratchet: false\n"
    h = History(p, Module(files={"suture.yml": config, "calc.py": CALC,
                                 "tests/unit/conftest.py": NESTED_CONFTEST,
                                 "tests/unit/test_calc.py": CALC_TESTS}, grow="calc.py"))
    h.start()
    p.run(expect_pass=True)
    h.filler(1)
    p.git("mv", "tests/unit/test_calc.py", "tests/test_calc.py")
    p.git("mv", "tests/unit/conftest.py", "tests/conftest.py")
    (p.path / "tests" / "conftest.py").write_text(NESTED_CONFTEST.replace("parents[2]",
                                                                          "parents[1]"))
    origin = p.commit("flatten the tests folder")
    if not keep_empty_folder:
        (p.path / "tests" / "unit").rmdir()
    h.filler(2)
    p.run(expect_pass=False)
    return Expect(stage="tests", category="config-error", origin=origin)


def _missing_tool(p: Project) -> Expect:
    h = History(p, calc_module(_command_config("python -c 'print(1)'")))
    h.start()
    p.run(expect_pass=True)
    h.filler(1)
    p.write("suture.yml", _command_config("clinic-schema-check --strict schemas/"))
    origin = p.commit("validate schemas with clinic-schema-check")
    h.filler(2)
    p.run(expect_pass=False)
    return Expect(stage="check", category="environment", origin=origin)


SLOW_CHECK = '''\
"""Checks the data dictionary."""

import time

time.sleep({seconds})
print("data dictionary ok")
'''


def _slow_command(p: Project) -> Expect:
    module = calc_module(_command_config("python slow_check.py", timeout=3))
    h = History(p, Module(files={**module.files, "slow_check.py":
                                 SLOW_CHECK.format(seconds=0.1)}, grow=module.grow))
    h.start()
    p.run(expect_pass=True)
    h.filler(1)
    p.write("slow_check.py", SLOW_CHECK.format(seconds=30))
    origin = p.commit("check the full dictionary")
    p.run(expect_pass=False)
    return Expect(stage="check", category="timeout", origin=origin)


HANGING_TEST = '''\
import time


def test_waits_for_the_lab_service():
    time.sleep(60)
'''


def _hanging_test(p: Project) -> Expect:
    h = History(p, calc_module(tests_config(extra="    timeout: 12\n")))
    h.start()
    p.run(expect_pass=True)
    h.filler(1)
    p.write("tests/test_lab.py", HANGING_TEST)
    origin = p.commit("test the lab service")
    h.filler(2)
    p.run(expect_pass=False)
    return Expect(stage="tests", category="timeout", origin=origin)


RELEASE_CHECK = '''\
#!/bin/sh
[ -f approvals/ok ] || exit 1
'''


def _silent_exit(p: Project) -> Expect:
    module = calc_module(_command_config("sh release_check.sh"))
    h = History(p, Module(files={**module.files, "release_check.sh": RELEASE_CHECK,
                                 "approvals/ok": "approved\n"}, grow=module.grow))
    h.start()
    p.run(expect_pass=True)
    h.filler(1)
    p.git("rm", "-q", "approvals/ok")
    origin = p.commit("remove stray files")
    h.filler(2)
    p.run(expect_pass=False)
    return Expect(stage="check", category="unknown", origin=origin, escalated=True)


CASES = (
    Case("config-error-moved-tests", _moved_tests,
         "suture.yml names a test folder that moved away (gone, as in a fresh clone)"),
    Case("config-error-empty-test-folder", lambda p: _moved_tests(p, keep_empty_folder=True),
         "suture.yml names a test folder that moved away; the empty folder is still there"),
    Case("environment-missing-tool", _missing_tool, "a command gate's tool is not installed"),
    Case("timeout-command", _slow_command, "a command gate sleeps past its 3 s timeout"),
    Case("timeout-test", _hanging_test, "a test hangs past the tests gate's 12 s timeout"),
    Case("unknown-silent-exit", _silent_exit, "a command exits 1 without a word"),
)
