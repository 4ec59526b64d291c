"""Spectrum-based fault localisation: which project lines do the failing tests run most?

One run of the project's tests under the real coverage.py, with a small pytest plugin (written
to a temp folder) that switches coverage's dynamic context to each test's node id, as
pytest-cov's `--cov-context=test` does; `test_function` contexts would lose the file and the
parametrisation a node id keeps. The same run writes JUnit XML for the verdicts. The coverage
data is read back by a script run with the project's interpreter (which has coverage; suture's
own may not), and lines are ranked by Ochiai:
failed(s) / sqrt(total_failed * (failed(s) + passed(s))). Nothing is written into the project.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from suture import proc
from suture.errors import ToolError
from suture.gates import files, junit
from suture.proc import CmdTimeout

_PLUGIN = "suture_sbfl_plugin"
_PLUGIN_SOURCE = '''\
"""Written by suture: one coverage context per test (its node id), and what each test did."""
import json
import os

import coverage
import pytest

_OUTCOMES = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    cov = coverage.Coverage.current()
    if cov is not None:
        cov.switch_context(item.nodeid)
    try:
        yield
    finally:
        if cov is not None:
            cov.switch_context("")


def pytest_runtest_logreport(report):
    state = _OUTCOMES.get(report.nodeid, "passed")
    if report.failed:
        state = "failed"
    elif report.skipped and state != "failed":
        state = "skipped"
    _OUTCOMES[report.nodeid] = state


def pytest_sessionfinish(session):
    with open(os.environ["SUTURE_SBFL_OUTCOMES"], "w", encoding="utf-8") as fh:
        json.dump(_OUTCOMES, fh)
'''
# Run with the project's interpreter: every measured file under the root, line -> contexts.
_READER = '''\
import json, os, sys
from coverage import CoverageData

data = CoverageData(basename=sys.argv[1])
data.read()
root = os.path.realpath(sys.argv[2]) + os.sep
out = {}
for name in data.measured_files():
    real = os.path.realpath(name)
    if real.startswith(root) and "site-packages" not in real:
        lines = data.contexts_by_lineno(name)
        out[real[len(root):].replace(os.sep, "/")] = {str(k): v for k, v in lines.items()}
json.dump(out, sys.stdout)
'''
_TEST_NAMES = ("conftest.py",)
_TEST_FOLDERS = frozenset({"tests", "test", "testing"})
# pytest exit codes: 0 passed, 1 tests failed, 2 interrupted (collection errors), 5 none ran.
_VERDICT_CODES = (0, 1, 5)


class LocaliseTimeout(ToolError):
    """The tests ran past the time allowed for localising (a search's budget ran out)."""


@dataclass(frozen=True)
class Suspect:
    """One project line and how strongly the failing tests point at it."""

    path: str  # repo-relative, POSIX
    line: int
    score: float  # Ochiai, 0..1
    failed: int  # failing tests that ran the line
    passed: int  # passing tests that ran the line
    tests: tuple[str, ...] = ()  # node ids of the passing tests that ran it


@dataclass(frozen=True)
class Localisation:
    """The ranked suspects of one coverage run, and the verdicts the ranking rests on."""

    suspects: tuple[Suspect, ...]
    failed_tests: tuple[str, ...]
    passed_tests: tuple[str, ...]
    test_files: tuple[str, ...]  # every test file that ran, for a whole-suite check
    duration_s: float


def is_test_file(rel: str, test_paths: Iterable[str] = ()) -> bool:
    """A test module, conftest, or anything under a tests folder: never a suspect, never edited."""
    rel = rel.replace(os.sep, "/").removeprefix("./")
    base = rel.rsplit("/", 1)[-1]
    if base in _TEST_NAMES or base.startswith("test_") or base.endswith("_test.py"):
        return True
    if any(part in _TEST_FOLDERS for part in rel.split("/")[:-1]):
        return True
    for p in test_paths:
        p = p.strip("/").removeprefix("./")
        if p in ("", ".") or not p:
            continue
        if rel == p or rel.startswith(p + "/"):
            return True
    return False


def ochiai(failed: int, passed: int, total_failed: int) -> float:
    """Ochiai suspiciousness: failed / sqrt(total_failed * (failed + passed)); 0 when undefined."""
    if failed <= 0 or total_failed <= 0:
        return 0.0
    return failed / math.sqrt(total_failed * (failed + passed))


def rank(
    contexts: Mapping[str, Mapping[int, Iterable[str]]],
    failed_tests: Iterable[str],
    passed_tests: Iterable[str],
    *,
    test_paths: Iterable[str] = (),
    exclude: Iterable[str] = (),
) -> tuple[Suspect, ...]:
    """Rank project lines (path -> line -> contexts) by Ochiai, most suspicious first.

    A line run only outside any test (module level, at import) counts as run by every test:
    a wrong module-level constant shows in every result.
    """
    failed, passed = frozenset(failed_tests), frozenset(passed_tests)
    test_paths, exclude = tuple(test_paths), tuple(exclude)
    suspects = []
    for path, lines in contexts.items():
        if (is_test_file(path, test_paths) or files.is_excluded(path, exclude)
                or not path.endswith(".py")):
            continue
        for line, ctxs in lines.items():
            names = set(ctxs)
            if "" in names:  # run at import: every test depends on it
                names |= failed | passed
            f = len(names & failed)
            if f == 0:
                continue
            covering = names & passed
            suspects.append(Suspect(path=path, line=int(line),
                                    score=ochiai(f, len(covering), len(failed)),
                                    failed=f, passed=len(covering), tests=tuple(sorted(covering))))
    # Ties are common (a basic block shares one spectrum); prefer lines more failing tests ran,
    # then fewer passing ones, then the later line, which is nearer to the wrong value's use.
    suspects.sort(key=lambda s: (-round(s.score, 9), -s.failed, s.passed, s.path, -s.line))
    return tuple(suspects)


def localise(
    root: Path,
    python: str,
    *,
    test_paths: Sequence[str] = (),
    pytest_args: Sequence[str] = (),
    exclude: Iterable[str] = (),
    timeout: float = 600.0,
    env: Mapping[str, str] | None = None,
) -> Localisation:
    """Run the tests under `root` with per-test coverage and rank the project's lines.

    Raises ToolError when coverage or pytest cannot run, or the coverage data cannot be read;
    LocaliseTimeout (a ToolError) when the run takes longer than `timeout`.
    """
    with tempfile.TemporaryDirectory(prefix="suture-sbfl-") as tmp:
        out = Path(tmp)
        data_file = out / ".coverage"
        (out / f"{_PLUGIN}.py").write_text(_PLUGIN_SOURCE, encoding="utf-8")
        rc = out / "coveragerc"
        # Our own rc file: the project's coverage settings (branch, plugins, a data_file inside
        # the repository) must not change what is measured or where it is written.
        rc.write_text(f"[run]\ndata_file = {data_file}\nsource = {root.resolve()}\n"
                      "omit =\n    */site-packages/*\n", encoding="utf-8")
        run_env = {
            **(env or {}),
            "COVERAGE_FILE": str(data_file),
            "PYTHONPATH": _pythonpath(root, out, env),
            "SUTURE_SBFL_OUTCOMES": str(out / "outcomes.json"),
        }
        cmd = [python, "-m", "coverage", "run", f"--rcfile={rc}", "-m", "pytest",
               "-p", "no:cacheprovider", "-p", _PLUGIN, "-q", f"--junitxml={out / 'junit.xml'}",
               "-o", "junit_family=xunit1", *pytest_args, *test_paths]
        try:
            res = proc.run(cmd, cwd=root, timeout=timeout, env=run_env)
        except CmdTimeout as exc:
            raise LocaliseTimeout(f"the tests ran past {timeout:g}s while localising the fault",
                                  hint=exc.hint) from exc
        report = out / "junit.xml"
        suite = junit.parse(report.read_text(encoding="utf-8", errors="replace")) \
            if report.is_file() else None
        interrupted = res.returncode == 2 and suite is not None and bool(suite.failed)
        if suite is None or (res.returncode not in _VERDICT_CODES and not interrupted):
            raise ToolError(f"pytest under coverage could not run the tests in {root} "
                            f"(exit code {res.returncode})",
                            hint="is coverage installed in the project's environment? "
                            f"{python} -m pip install coverage\n{res.describe()}")
        outcomes = _read_outcomes(out / "outcomes.json")
        contexts = _read_contexts(root, python, data_file) if data_file.exists() else {}
    failed = tuple(dict.fromkeys(c.test_id for c in suite.failed))
    failed_set = set(failed)
    passed = tuple(t for t, state in outcomes.items()
                   if state == "passed" and t not in failed_set)
    ran_failed = [t for t in failed if t in outcomes]
    suspects = rank(contexts, ran_failed, passed, test_paths=test_paths, exclude=exclude)
    test_files = tuple(sorted({t.split("::", 1)[0] for t in outcomes}))
    return Localisation(suspects=suspects, failed_tests=failed, passed_tests=passed,
                        test_files=test_files, duration_s=res.duration_s)


def _read_contexts(root: Path, python: str, data_file: Path) -> dict[str, dict[int, list[str]]]:
    res = proc.run((python, "-c", _READER, str(data_file), str(root)), cwd=root, timeout=120)
    if res.returncode != 0:
        raise ToolError("could not read the per-test coverage data", hint=res.describe())
    try:
        raw = json.loads(res.stdout)
    except ValueError as exc:
        raise ToolError("the coverage reader printed something that is not JSON",
                        hint=res.describe()) from exc
    return {path: {int(line): list(ctxs) for line, ctxs in lines.items()}
            for path, lines in raw.items()}


def _read_outcomes(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _pythonpath(root: Path, plugin_dir: Path, env: Mapping[str, str] | None) -> str:
    """The plugin folder, then a src-layout project's `src/` (the code of this worktree)."""
    parts = [str(plugin_dir)]
    if (root / "src").is_dir():
        parts.append(str((root / "src").resolve()))
    inherited = (env or {}).get("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
    if inherited:
        parts.append(inherited)
    return os.pathsep.join(parts)
