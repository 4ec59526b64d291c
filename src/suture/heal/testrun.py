"""Running chosen pytest node ids in the project's environment and reading the verdict.

Only the selected tests run: pytest is given the files that hold them, and a small plugin
(written to a temp folder, never into the project) deselects everything else and reports which
ids it found. An id with no test at this commit (the test was added later) is `missing`, which
bisection counts as "the failure is not here". Results come from JUnit XML, not pytest's text.
The run writes nothing into `cwd`: no cache provider, no bytecode, JUnit and coverage data in a
temp folder. There is no `-x`: every selected test runs, so `failed_ids` is complete.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from suture import proc
from suture.errors import ToolError, UsageError
from suture.gates import junit
from suture.proc import CmdTimeout

# pytest exit codes: 0 passed, 1 tests failed, 2 interrupted (collection errors), 5 none selected.
_PASSED, _FAILED, _INTERRUPTED, _NONE = 0, 1, 2, 5
_PLUGIN = "suture_select_plugin"
_PLUGIN_SOURCE = '''\
"""Written by suture: keep only the node ids suture asked for, and say which exist."""
import json
import os

_WANTED = json.loads(os.environ["SUTURE_SELECT_IDS"])


def _match(nodeid):
    for wanted in _WANTED:
        if nodeid == wanted or nodeid.startswith((wanted + "::", wanted + "[", wanted + "/")):
            return wanted
    return None


def pytest_collection_modifyitems(config, items):
    keep, drop, seen = [], [], set()
    for item in items:
        wanted = _match(item.nodeid)
        (keep if wanted else drop).append(item)
        if wanted:
            seen.add(wanted)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
    with open(os.environ["SUTURE_SELECT_REPORT"], "w", encoding="utf-8") as fh:
        json.dump(sorted(seen), fh)
'''


@dataclass(frozen=True)
class TestOutcome:
    """The verdict of one run of the selected tests."""

    __test__ = False  # a record, not a pytest test class

    passed: bool
    failed_ids: tuple[str, ...]
    output: str
    duration_s: float
    missing_ids: tuple[str, ...] = ()  # asked for, but no such test exists at this commit
    timed_out: bool = False


def run_tests(
    cwd: Path,
    python: str,
    test_ids: Sequence[str],
    *,
    timeout: float,
    env: Mapping[str, str] | None = None,
) -> TestOutcome:
    """Run only `test_ids` with `python -m pytest` in `cwd`; one call is one test execution.

    A run past `timeout` is a failure of every selected test (a hang is a failure), with
    `timed_out` set. Raises UsageError for no ids, ToolError when pytest itself cannot run.
    """
    ids = tuple(dict.fromkeys(test_ids))
    if not ids:
        raise UsageError("no tests to run", hint="pass at least one pytest node id")
    present = tuple(i for i in ids if (cwd / _file_of(i)).exists())
    absent = tuple(i for i in ids if i not in present)
    if not present:
        return TestOutcome(True, (), "none of the tests exist here", 0.0, missing_ids=absent)
    files = tuple(dict.fromkeys(_file_of(i) for i in present))
    with tempfile.TemporaryDirectory(prefix="suture-testrun-") as tmp:
        out = Path(tmp)
        (out / f"{_PLUGIN}.py").write_text(_PLUGIN_SOURCE, encoding="utf-8")
        run_env = {
            **(env or {}),
            "PYTHONPATH": _pythonpath(cwd, out, env),
            "SUTURE_SELECT_IDS": json.dumps(present),
            "SUTURE_SELECT_REPORT": str(out / "seen.json"),
            # pytest-cov in the project's addopts would otherwise write .coverage into cwd.
            "COVERAGE_FILE": str(out / ".coverage"),
        }
        cmd = [python, "-m", "pytest", "-p", "no:cacheprovider", "-p", _PLUGIN, "-q",
               f"--junitxml={out / 'junit.xml'}", "-o", "junit_family=xunit1", "--", *files]
        try:
            res = proc.run(cmd, cwd=cwd, timeout=timeout, env=run_env)
        except CmdTimeout as exc:
            return TestOutcome(False, present, f"{exc}\n{exc.hint or ''}", timeout,
                               missing_ids=absent, timed_out=True)
        report = out / "junit.xml"
        suite = junit.parse(report.read_text(encoding="utf-8", errors="replace")) \
            if report.is_file() else None
        seen = _read_seen(out / "seen.json")
    verdict = res.returncode in (_PASSED, _FAILED, _NONE) or (
        res.returncode == _INTERRUPTED and suite is not None and bool(suite.failed))
    if suite is None or not verdict:
        raise ToolError(f"pytest could not run the selected tests in {cwd} "
                        f"(exit code {res.returncode})", hint=res.describe())
    failed = tuple(case.test_id for case in suite.failed)
    # An id under a file that failed to import is broken, not missing.
    missing = tuple(
        i for i in ids
        if i in absent or (seen is not None and i not in seen and _file_of(i) not in failed))
    return TestOutcome(
        passed=res.returncode in (_PASSED, _NONE) and not failed,
        failed_ids=failed,
        output=proc.clip(res.stdout + res.stderr),
        duration_s=res.duration_s,
        missing_ids=missing,
    )


def _file_of(test_id: str) -> str:
    """The path part of a node id: tests/test_x.py::TestY::test_z[1] -> tests/test_x.py."""
    return test_id.split("::", 1)[0]


def _pythonpath(cwd: Path, plugin_dir: Path, env: Mapping[str, str] | None) -> str:
    """Our plugin folder, then a src-layout project's `src/` ahead of anything installed.

    Without `src/` first, an editable install of the user's checkout would shadow the code
    of the commit under test in a worktree, and every bisection probe would test the same code.
    """
    parts = [str(plugin_dir)]
    if (cwd / "src").is_dir():
        parts.append(str((cwd / "src").resolve()))
    inherited = (env or {}).get("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
    if inherited:
        parts.append(inherited)
    return os.pathsep.join(parts)


def _read_seen(path: Path) -> frozenset[str] | None:
    try:
        return frozenset(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None
