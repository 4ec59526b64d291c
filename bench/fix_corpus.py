"""Measure `suture fix` on small programs with one known single-line bug and held-out tests.

Each case in bench/fix_cases/<name>/ holds the buggy module (`<m>.py` or `src/<m>.py`), the
visible tests suture sees (`tests/`), held-out tests it never sees (`heldout/`), and case.json:
{"name", "bug", "kind", "file", "line", "fixed_line", optional "fix": "insert" | "delete" (default:
replace line `line` by `fixed_line`), optional "decoy_line": a plausible wrong fix that passes the
visible tests but not the held-out ones}. A fix is correct when visible and held-out tests pass.

    .venv/bin/python bench/fix_corpus.py --check      # the corpus itself: bugs fail, fixes pass
    .venv/bin/python bench/fix_corpus.py              # suture run + suture fix --json, end to end
    .venv/bin/python bench/fix_corpus.py --remedy search-repair --cases bmi-square,fever-threshold
    .venv/bin/python bench/fix_corpus.py --direct     # SearchRepair alone, no engine

End to end, per case: a git repository in a temp folder (fixed author and date, one commit, a
suture.yml with only the tests gate), `python -m suture run` (must fail), then
`python -m suture fix --json`; an accepted fix is checked out in a worktree, the held-out tests
are copied in, and visible + held-out tests run. Printed: per case and totals, the fix success
rate (accepted and correct), wrong fixes accepted (held-out tests fail), escalated, errors, and
the median seconds to a verified fix. Always exits 0: it measures, it does not judge.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

CASES_DIR = Path(__file__).resolve().parent / "fix_cases"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Corpus Author",
    "GIT_AUTHOR_EMAIL": "author@example.test",
    "GIT_COMMITTER_NAME": "Corpus Author",
    "GIT_COMMITTER_EMAIL": "author@example.test",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00+00:00",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00+00:00",
    "GIT_CONFIG_NOSYSTEM": "1",
}
SUTURE_YML = "gates:\n  tests:\n    paths: [tests]\n    min_coverage: null\n"
SUTURE_TIMEOUT_S = 900


@dataclass(frozen=True)
class Case:
    """One program of the corpus, read from its case.json."""

    folder: Path
    name: str
    bug: str
    kind: str
    file: str
    line: int
    fixed_line: str
    fix: str = "replace"  # replace | insert (before `line`) | delete
    decoy_line: str | None = None

    @classmethod
    def load(cls, folder: Path) -> Case:
        """Read and validate case.json."""
        data = json.loads((folder / "case.json").read_text(encoding="utf-8"))
        return cls(folder=folder, name=data["name"], bug=data["bug"], kind=data.get("kind", ""),
                   file=data["file"], line=int(data["line"]), fixed_line=data["fixed_line"],
                   fix=data.get("fix", "replace"), decoy_line=data.get("decoy_line"))

    @property
    def buggy(self) -> str:
        """The module as shipped, with its bug."""
        return (self.folder / self.file).read_text(encoding="utf-8")

    def with_line(self, text: str, fix: str | None = None) -> str:
        """The module with line `line` replaced by `text` (or `text` inserted, or the line gone)."""
        lines = self.buggy.splitlines(keepends=True)
        i = self.line - 1
        how = fix or self.fix
        if how == "insert":
            lines.insert(i, text + "\n")
        elif how == "delete":
            del lines[i]
        else:
            lines[i] = text + "\n"
        return "".join(lines)

    @property
    def fixed(self) -> str:
        """The module with the known correct fix."""
        return self.with_line(self.fixed_line)


def load_cases(names: Iterable[str] = ()) -> list[Case]:
    """Every case, or the named ones, sorted by name."""
    cases = [Case.load(d) for d in sorted(CASES_DIR.iterdir()) if (d / "case.json").is_file()]
    wanted = [n for n in names if n]
    unknown = set(wanted) - {c.name for c in cases}
    if unknown:
        sys.exit(f"fix_corpus: no such case: {', '.join(sorted(unknown))} (see --list)")
    return [c for c in cases if not wanted or c.name in wanted]


# --- building and testing a case -----------------------------------------------------------

def git(cwd: Path, *args: str) -> str:
    """git with the fixed author and date; stdout; raises on failure."""
    res = subprocess.run(["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV},
                         capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {res.stderr.strip()}")
    return res.stdout.strip()


def write_project(case: Case, dest: Path, module_text: str | None = None) -> None:
    """The case's module and visible tests plus suture.yml and pytest settings in `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / case.file
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(case.buggy if module_text is None else module_text, encoding="utf-8")
    shutil.copytree(case.folder / "tests", dest / "tests", dirs_exist_ok=True)
    (dest / "suture.yml").write_text(SUTURE_YML, encoding="utf-8")
    layout = "src" if case.file.startswith("src/") else "."
    (dest / "pyproject.toml").write_text(
        f'[tool.pytest.ini_options]\npythonpath = ["{layout}"]\n', encoding="utf-8")
    (dest / ".gitignore").write_text(".suture/\n__pycache__/\n", encoding="utf-8")


def build_repo(case: Case, dest: Path) -> Path:
    """A one-commit git repository of the buggy case."""
    write_project(case, dest)
    git(dest, "init", "-q", "-b", "main")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", f"{case.name}: as shipped")
    return dest


@dataclass(frozen=True)
class PytestResult:
    """How many tests ran and failed in one pytest run."""

    code: int
    total: int
    failed: int
    output: str

    @property
    def passed(self) -> bool:
        """Every test passed (and some ran)."""
        return self.code == 0 and self.total > 0


def pytest_in(cwd: Path, *paths: str) -> PytestResult:
    """Run pytest on `paths` in `cwd` with this interpreter, writing nothing there."""
    with tempfile.TemporaryDirectory(prefix="fix-corpus-junit-") as tmp:
        report = Path(tmp) / "junit.xml"
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "COVERAGE_FILE": str(report) + ".cov"}
        res = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                              f"--junitxml={report}", *paths], cwd=cwd, env=env,
                             capture_output=True, text=True, timeout=300)
        total = failed = 0
        if report.is_file():
            from suture.gates import junit
            suite = junit.parse(report.read_text(encoding="utf-8"))
            total, failed = suite.total, len(suite.failed)
    return PytestResult(res.returncode, total, failed, res.stdout[-3000:] + res.stderr[-2000:])


def heldout_passes(case: Case, checkout: Path) -> PytestResult:
    """Copy the held-out tests into `checkout` and run visible + held-out tests there."""
    shutil.copytree(case.folder / "heldout", checkout / "heldout", dirs_exist_ok=True)
    try:
        return pytest_in(checkout, "tests", "heldout")
    finally:
        shutil.rmtree(checkout / "heldout", ignore_errors=True)


def same_code(a: str, b: str) -> bool:
    """Equal up to formatting and comments: the same Python syntax tree."""
    try:
        return ast.dump(ast.parse(a)) == ast.dump(ast.parse(b))
    except SyntaxError:
        return False


# --- --check: the corpus itself -----------------------------------------------------------

def check_case(case: Case, work: Path) -> list[str]:
    """What is wrong with the case, if anything."""
    problems = []
    lines = case.buggy.splitlines()
    if not 0 < case.line <= len(lines):
        return [f"line {case.line} is outside {case.file}"]
    if case.fix == "replace" and lines[case.line - 1] == case.fixed_line:
        problems.append("fixed_line is the line as shipped")
    if len(list((case.folder / "heldout").glob("test_*_heldout.py"))) != 1:
        problems.append("heldout/ needs one test_<module>_heldout.py")
    buggy = work / "buggy"
    write_project(case, buggy)
    visible = pytest_in(buggy, "tests")
    if visible.code != 1 or visible.failed < 1:
        problems.append(f"visible tests do not fail on the bug (exit {visible.code})")
    if visible.total - visible.failed < 2:
        problems.append(f"only {visible.total - visible.failed} visible test(s) pass on the bug")
    if heldout_passes(case, buggy).passed:
        problems.append("held-out tests pass on the bug")
    fixed = work / "fixed"
    write_project(case, fixed, case.fixed)
    both = heldout_passes(case, fixed)
    if not both.passed:
        problems.append(f"visible + held-out tests fail with fixed_line:\n{both.output}")
    if case.decoy_line is not None:
        decoy = work / "decoy"
        write_project(case, decoy, case.with_line(case.decoy_line, "replace"))
        if not pytest_in(decoy, "tests").passed:
            problems.append("the decoy does not pass the visible tests")
        if heldout_passes(case, decoy).passed:
            problems.append("the held-out tests do not catch the decoy")
    return problems


def run_check(cases: list[Case], work: Path) -> None:
    """Check every case and print one line each."""
    bad = 0
    for case in cases:
        problems = check_case(case, work / case.name)
        bad += bool(problems)
        print(f"{case.name:28} {case.kind:18} {'ok' if not problems else 'BROKEN'}"
              + ("  (decoy checked)" if case.decoy_line and not problems else ""))
        for p in problems:
            print("    - " + p.replace("\n", "\n      "))
    kinds = sorted({c.kind for c in cases})
    print(f"\n{len(cases) - bad} of {len(cases)} cases ok; {len(kinds)} bug kinds: "
          f"{', '.join(kinds)}; {sum(bool(c.decoy_line) for c in cases)} with a decoy")


# --- end to end: suture run + suture fix --json -------------------------------------------

@dataclass
class Outcome:
    """What happened to one case."""

    case: Case
    status: str = "error"  # fixed | wrong | escalated | error
    seconds: float | None = None
    summary: str = ""
    exact: bool | None = None  # the accepted fix is fixed_line (same syntax tree)
    detail: str = ""
    extra: dict[str, object] = field(default_factory=dict)


def suture_env() -> dict[str, str]:
    """The environment suture runs in: the project's interpreter is this one."""
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "SUTURE_PYTHON": sys.executable,
           "PYTHONDONTWRITEBYTECODE": "1"}
    for name in ("VIRTUAL_ENV", "SUTURE_DATABASE_URL", "SUTURE_TIMEOUT", "SUTURE_JOBS"):
        env.pop(name, None)
    return env


def suture(repo: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    """`python -m suture ...` in the repository, timed."""
    t0 = time.perf_counter()
    try:
        res = subprocess.run([sys.executable, "-m", "suture", *args], cwd=repo,
                             env=suture_env(), capture_output=True, text=True,
                             timeout=SUTURE_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        res = subprocess.CompletedProcess(exc.cmd, -1, "", f"timed out after {exc.timeout}s")
    return res, time.perf_counter() - t0


def run_e2e_case(case: Case, work: Path, remedies: list[str]) -> Outcome:
    """Build, fail, fix, and judge the accepted fix with the held-out tests."""
    out = Outcome(case)
    repo = build_repo(case, work / "repo")
    run, _ = suture(repo, "run")
    if run.returncode == 0:
        out.detail = "suture run passed on the buggy case"
        return out
    args = ["fix", "--json", *[a for r in remedies for a in ("--remedy", r)]]
    fix, seconds = suture(repo, *args)
    out.seconds = seconds
    try:
        data = json.loads(fix.stdout)
    except ValueError:
        out.detail = f"suture fix exited {fix.returncode} without JSON: {fix.stderr[-600:]}"
        return out
    if not isinstance(data, dict):
        out.detail = f"suture fix printed {type(data).__name__}, not an object"
        return out
    results = [r for r in data.get("remedies") or [] if isinstance(r, dict)]
    out.extra["remedies"] = [(r.get("remedy"), r.get("status")) for r in results]
    accepted = [r for r in results if r.get("status") == "accepted"]
    if not accepted:
        out.status = "escalated"
        reasons = "; ".join(f"{r.get('remedy')}: {r.get('status')} ({r.get('reason', '')})"
                            for r in results)
        out.detail = reasons[:600] or f"no remedy tried (exit {fix.returncode})"
        return out
    branch = data.get("branch")
    if not isinstance(branch, str):
        out.detail = "a remedy was accepted but the JSON names no branch"
        return out
    out.summary = "; ".join(f"{r.get('remedy')}: {r.get('summary') or r.get('reason', '')}"
                            for r in accepted)[:200]
    checkout = work / "fixed"
    try:
        git(repo, "worktree", "add", "-q", "--detach", str(checkout), branch)
    except RuntimeError as exc:
        out.detail = str(exc)
        return out
    fixed_text = (checkout / case.file).read_text(encoding="utf-8") \
        if (checkout / case.file).is_file() else ""
    out.exact = same_code(fixed_text, case.fixed)
    verdict = heldout_passes(case, checkout)
    out.status = "fixed" if verdict.passed else "wrong"
    if not verdict.passed:
        out.detail = "\n".join(ln for ln in verdict.output.splitlines()
                               if ln.startswith("FAILED")) or verdict.output[-600:]
    git(repo, "worktree", "remove", "--force", str(checkout))
    return out


# --- --direct: SearchRepair alone ---------------------------------------------------------

def run_direct_case(case: Case, work: Path, budget: float, wanted: int) -> Outcome:
    """Call SearchRepair.propose on the case as the engine would, without the engine."""
    from suture import config as config_mod
    from suture.fix.remedies.interface import FixTarget, RemedyContext
    from suture.fix.remedies.search_repair import AmbiguousRepair, SearchRepair
    from suture.heal.testrun import TestOutcome, run_tests
    from suture.model import Finding, Level, Run, RunStatus, StageResult, StageStatus

    out = Outcome(case, status="escalated")
    repo = build_repo(case, work / "repo")
    python = sys.executable
    first = run_tests(repo, python, ["tests"], timeout=300)
    if first.passed:
        out.status, out.detail = "error", "the visible tests pass on the bug"
        return out
    findings = tuple(Finding(rule_id="tests/failed", level=Level.ERROR, tool="pytest",
                             message=f"{test_id} failed: (bench)", fingerprint=f"test:{test_id}")
                     for test_id in first.failed_ids)
    stage = StageResult(name="tests", kind="tests", status=StageStatus.FAILED, findings=findings)
    from datetime import UTC, datetime
    run = Run(run_id="0" * 32, status=RunStatus.FAILED, root=str(repo),
              started_at=datetime(2026, 1, 1, tzinfo=UTC), stages=(stage,))
    target = FixTarget(run=run, stage=stage)

    def runner(cwd: Path, test_ids: Iterable[str], *, timeout: float | None = None
               ) -> TestOutcome:
        return run_tests(cwd, python, list(test_ids), timeout=timeout or 300.0)

    ctx = RemedyContext(root=repo, python=python, config=config_mod.load(repo),
                        run_tests=runner, time_budget_s=budget)
    workdir = work / "scratch"
    git(repo, "worktree", "add", "-q", "--detach", str(workdir))
    remedy = SearchRepair()
    if not remedy.applies(target):
        out.detail = "SearchRepair does not apply"
        return out
    candidates: list[dict[str, object]] = []
    t0 = time.perf_counter()
    proposals = remedy.propose(target, workdir, ctx)
    while True:
        try:
            proposal = next(proposals, None)
        except AmbiguousRepair as exc:
            out.detail = f"ambiguous: {exc.message}"
            break
        if proposal is None:
            break
        took = time.perf_counter() - t0
        git(workdir, "add", "-A", "-N", ".")
        changed = git(workdir, "diff", "--name-only").split()
        text = (workdir / case.file).read_text(encoding="utf-8")
        verdict = heldout_passes(case, workdir)
        candidates.append({"summary": proposal.summary, "seconds": round(took, 1),
                           "files": changed, "exact": changed == [case.file]
                           and same_code(text, case.fixed), "correct": verdict.passed})
        git(workdir, "reset", "-q", "--hard")
        git(workdir, "clean", "-q", "-fd")
    out.extra["candidates"] = candidates
    out.extra["search_s"] = time.perf_counter() - t0
    if candidates:
        top = candidates[0]
        out.status = "fixed" if top["correct"] else "wrong"
        out.summary = str(top["summary"])
        out.exact = bool(top["exact"])
        out.seconds = float(str(top["seconds"]))
    else:
        out.detail = f"no candidate in {out.extra['search_s']:.0f}s"
    git(repo, "worktree", "remove", "--force", str(workdir))
    return out


# --- reporting ----------------------------------------------------------------------------

def _pct(hits: int, total: int) -> str:
    return f"{hits}/{total} ({100 * hits / total:.0f}%)" if total else "n/a"


def print_outcomes(outcomes: list[Outcome], direct: bool) -> None:
    """One row per case, then the totals."""
    print(f"{'case':28} {'kind':18} {'status':9} {'exact':5} {'secs':>6}  fix")
    for o in outcomes:
        exact = "-" if o.exact is None else ("yes" if o.exact else "no")
        secs = "-" if o.seconds is None else f"{o.seconds:.1f}"
        decoy = " [decoy]" if o.case.decoy_line else ""
        print(f"{o.case.name:28} {o.case.kind:18} {o.status:9} {exact:5} {secs:>6}  "
              f"{o.summary}{decoy}")
        if o.detail and o.status in ("error", "wrong"):
            print("      " + o.detail.strip().replace("\n", "\n      ")[:800])
        elif o.detail and o.status == "escalated":
            print("      " + o.detail.strip().splitlines()[0][:300])
        if direct and len(o.extra.get("candidates", []) or []) > 1:  # type: ignore[arg-type]
            for c in o.extra["candidates"][1:]:  # type: ignore[index]
                print(f"      also: {c['summary']} (exact {c['exact']}, correct {c['correct']})")
    n = len(outcomes)
    by = {s: sum(o.status == s for o in outcomes) for s in ("fixed", "wrong", "escalated",
                                                              "error")}
    what = "first candidate" if direct else "accepted fix"
    rows = [
        (f"fix success ({what} correct on held-out tests)", _pct(by["fixed"], n)),
        (f"wrong fixes ({what} fails held-out tests)", _pct(by["wrong"], n)),
        (f"escalated (nothing {'proposed' if direct else 'accepted'})",
         _pct(by["escalated"], n)),
        ("errors", _pct(by["error"], n)),
        (f"{what} identical to fixed_line (syntax tree)",
         _pct(sum(bool(o.exact) for o in outcomes), n)),
    ]
    if direct:
        anywhere = sum(any(c["exact"] for c in o.extra.get("candidates", []))  # type: ignore
                       for o in outcomes)
        rows.append(("fixed_line among the candidates", _pct(anywhere, n)))
    decoys = [o for o in outcomes if o.case.decoy_line]
    if decoys:
        rows.append(("decoy cases: fixed correctly / wrongly",
                     f"{sum(o.status == 'fixed' for o in decoys)} / "
                     f"{sum(o.status == 'wrong' for o in decoys)} of {len(decoys)}"))
    print("\nTotals" + (" (SearchRepair alone, no engine)" if direct else ""))
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"  {label + ':':{width + 1}} {value}")
    secs = [o.seconds for o in outcomes if o.status == "fixed" and o.seconds is not None]
    if secs:
        label = "to the first correct candidate" if direct else "to a verified fix"
        print(f"  median seconds {label}: {statistics.median(secs):.1f} "
              f"(max {max(secs):.1f})")


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run the chosen mode over the chosen cases."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="", help="comma-separated case names (default: all)")
    parser.add_argument("--remedy", action="append", default=[],
                        help="pass --remedy to suture fix (repeatable)")
    parser.add_argument("--check", action="store_true",
                        help="check the corpus: visible tests fail on the bug, pass when fixed")
    parser.add_argument("--direct", action="store_true",
                        help="run SearchRepair directly over the corpus, without the engine")
    parser.add_argument("--budget", type=float, default=120.0,
                        help="--direct: search budget per case in seconds (default 120)")
    parser.add_argument("--candidates", type=int, default=1,
                        help="--direct: candidates to collect per case (default 1)")
    parser.add_argument("--list", action="store_true", help="list the cases and stop")
    parser.add_argument("--keep", action="store_true", help="keep the temp folders")
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    cases = load_cases(args.cases.split(","))
    if args.list:
        for c in cases:
            print(f"{c.name:28} {c.kind:18} {c.bug}")
        return 0
    work = Path(tempfile.mkdtemp(prefix="suture-fix-corpus-"))
    t0 = time.perf_counter()
    try:
        if args.check:
            run_check(cases, work)
            return 0
        runner: Callable[[Case, Path], Outcome]
        if args.direct:
            def runner(c: Case, w: Path) -> Outcome:
                return run_direct_case(c, w, args.budget, args.candidates)
        else:
            def runner(c: Case, w: Path) -> Outcome:
                return run_e2e_case(c, w, args.remedy)
        outcomes = []
        for i, case in enumerate(cases, 1):
            print(f"[{i}/{len(cases)}] {case.name} ...", file=sys.stderr, flush=True)
            try:
                outcomes.append(runner(case, work / case.name))
            except Exception as exc:  # a bench bug or a crash: record it, go on
                outcomes.append(Outcome(case, detail=f"{type(exc).__name__}: {exc}"))
        print()
        print_outcomes(outcomes, args.direct)
        print(f"  bench wall time: {time.perf_counter() - t0:.0f} s for {len(cases)} case(s)")
    finally:
        if args.keep:
            print(f"kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
