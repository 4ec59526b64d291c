"""Measure `suture why` on a corpus of failing repositories built here, with known answers.

Each case is a real git repository in a temp folder (fixed author and date, branch main) with a
suture.yml and a history of several commits: usually a passing `suture run`, then n commits of
which one is the known culprit, then a failing `suture run` and a timed `suture why --json`.
Every category of `suture.model.Category` is covered. Printed: per case the expected and found
category and culprit, test executions spent (and, for a culprit search, its executions against
ceil(log2 n)), seconds per diagnosis; then category accuracy, culprit top-1 accuracy, execution
and time figures, and the cases that went wrong. Always exits 0: it measures, it does not judge.

    .venv/bin/python bench/why_corpus.py                 # the whole corpus (a few minutes)
    .venv/bin/python bench/why_corpus.py --only regression-n30-last --keep
    .venv/bin/python bench/why_corpus.py --list
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from why_cases import CASES
from why_cases.project import (
    Case,
    Expect,
    Project,
    SetupError,
    expected_search,
    log2_bound,
)

_SEARCH = re.compile(r"bisecting (\d+) commit\(s\).* in (\d+) test executions")


@dataclass(frozen=True)
class Outcome:
    """What suture said about one case, next to the truth."""

    case: Case
    expect: Expect | None
    category: str | None = None
    culprit: str | None = None
    escalated: bool | None = None
    executions: int | None = None  # every test execution of the diagnosis (flake re-runs too)
    search_execs: int | None = None  # executions of the culprit search alone
    candidates: int | None = None  # commits the search looked at, as suture counted them
    seconds: float | None = None
    root_cause: str = ""
    problem: str = ""  # setup failure, crash, wrong exit code, touched working tree

    @property
    def category_ok(self) -> bool:
        """The category is the expected one."""
        return self.expect is not None and self.category == self.expect.category

    @property
    def escalation_ok(self) -> bool:
        """Escalated exactly when a person is expected to be needed."""
        return self.expect is not None and self.escalated == self.expect.escalated

    @property
    def culprit_ok(self) -> bool | None:
        """The culprit is the known one; None when the case does not score culprits."""
        if self.expect is None or self.expect.culprit is None:
            return None
        return self.culprit == self.expect.culprit

    @property
    def right(self) -> bool:
        """Everything the case checks came out as expected."""
        return (self.category_ok and self.escalation_ok and self.culprit_ok is not False
                and not self.problem)


def run_case(case: Case, workdir: Path) -> Outcome:
    """Build the case's repository and diagnose its failing run."""
    project = Project.create(workdir / case.name / "repo")
    try:
        expect = case.build(project)
    except SetupError as exc:
        return Outcome(case, None, problem=f"setup: {exc}")
    status_before = project.git("status", "--porcelain")
    why = project.why()
    problems = []
    if why.data is None:
        return Outcome(case, expect, seconds=why.seconds,
                       problem=f"suture why exited {why.code} without JSON: {why.stderr[-800:]}")
    expected_code = 1 if expect.escalated else 0
    if why.code != expected_code:
        problems.append(f"suture why exited {why.code}, expected {expected_code}")
    if project.git("status", "--porcelain") != status_before:
        problems.append("suture why changed the working tree")
    if len(project.git("worktree", "list").splitlines()) != 1:
        problems.append("suture why left a git worktree behind")
    diagnoses = why.data.get("diagnoses") or []
    assert isinstance(diagnoses, list)
    picked = next((d for d in diagnoses if d.get("stage") == expect.stage), None)
    if picked is None:
        stages = [d.get("stage") for d in diagnoses]
        return Outcome(case, expect, seconds=why.seconds,
                       problem=f"no diagnosis for stage {expect.stage!r} (got {stages})")
    answers = " ".join(w.get("answer", "") for w in picked.get("chain", []))
    search = _SEARCH.search(answers)
    if expect.bisect and expect.n and expect.culprit_at and search:
        _, model = expected_search(expect.n, expect.culprit_at)
        if int(search.group(1)) != expect.n:
            problems.append(f"suture searched {search.group(1)} commits, expected {expect.n}")
        if int(search.group(2)) != model:
            problems.append(f"the search spent {search.group(2)} executions; a binary search "
                            f"with these rules spends {model}")
    return Outcome(
        case, expect, category=picked.get("category"), culprit=picked.get("culprit_commit"),
        escalated=picked.get("escalated"), executions=picked.get("test_executions"),
        search_execs=int(search.group(2)) if search else None,
        candidates=int(search.group(1)) if search else None, seconds=why.seconds,
        root_cause=str(picked.get("root_cause", "")), problem="; ".join(problems),
    )


def _probes(e: Expect | None) -> int | None:
    """Commits probed between the verified endpoints, for a search that went by the rules."""
    if e is None or not (e.bisect and e.n and e.culprit_at):
        return None
    return expected_search(e.n, e.culprit_at)[0]


def _short(sha: str | None) -> str:
    return sha[:8] if sha else "-"


def _num(value: float | int | None, fmt: str = "{}") -> str:
    return "-" if value is None else fmt.format(value)


def print_table(outcomes: list[Outcome]) -> None:
    """One row per case."""
    head = ("case", "expected", "got", "esc", "culprit exp", "culprit got", "execs",
            "search", "n", "probes", "log2n", "seconds", "ok")
    rows = []
    for o in outcomes:
        e = o.expect
        rows.append((
            o.case.name, e.category if e else "?", o.category or "-",
            "-" if o.escalated is None else ("yes" if o.escalated else "no"),
            _short(e.culprit if e else None) if e and e.culprit else
            (f"({_short(e.origin)})" if e and e.origin else "-"),
            _short(o.culprit), _num(o.executions), _num(o.search_execs),
            _num(e.n if e else None), _num(_probes(e)),
            _num(log2_bound(e.n) if e and e.bisect else None),
            _num(o.seconds, "{:.1f}"), "ok" if o.right else "WRONG",
        ))
    widths = [max(len(str(r[i])) for r in (head, *rows)) for i in range(len(head))]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print(line.format(*head))
    print(line.format(*("-" * w for w in widths)))
    for r in rows:
        print(line.format(*r))
    print("culprit exp: the commit the engine should name; (sha): the introducing commit, known "
          "but not promised\nexecs: test executions of the whole diagnosis (flake re-runs "
          "included); search: those of the culprit search alone\nprobes: commits tested between "
          "the endpoints (search = 1 + 2 for the endpoints, then 1 per failing probe and 2 per "
          "passing one,\n  checked against that model); log2n: ceil(log2 n), the probes a plain "
          "binary search needs")


def _pct(hits: int, total: int) -> str:
    return f"{hits}/{total} ({100 * hits / total:.0f}%)" if total else "n/a"


def print_totals(outcomes: list[Outcome], wall: float) -> None:
    """Accuracy, executions against the bound, seconds per diagnosis, and what went wrong."""
    n = len(outcomes)
    print("\nTotals")
    print(f"  category accuracy:            {_pct(sum(o.category_ok for o in outcomes), n)}")
    print(f"  escalation agrees:            {_pct(sum(o.escalation_ok for o in outcomes), n)}")
    scored = [o for o in outcomes if o.culprit_ok is not None]
    bisected = [o for o in scored if o.expect and o.expect.bisect]
    top1 = _pct(sum(bool(o.culprit_ok) for o in scored), len(scored))
    print(f"  culprit top-1 accuracy:       {top1} (cases with a culprit: bisection and blame)")
    top1 = _pct(sum(bool(o.culprit_ok) for o in bisected), len(bisected))
    print(f"    by bisection:               {top1}")
    known = [o for o in outcomes if o.expect and o.expect.origin]
    named = sum(o.culprit == o.expect.origin for o in known if o.expect)
    print(f"  introducing commit named where not promised: {_pct(named, len(known))}")
    searches = [(o.expect, o.search_execs) for o in bisected
                if o.expect and o.expect.n and o.search_execs is not None]
    if searches:
        execs = [x for _, x in searches]
        bounds = [log2_bound(e.n) or 1 for e, _ in searches]
        probes = [_probes(e) or 0 for e, _ in searches]
        print(f"  culprit search executions:    mean {sum(execs) / len(execs):.1f}, max "
              f"{max(execs)}; per ceil(log2 n): mean "
              f"{sum(x / b for x, b in zip(execs, bounds, strict=True)) / len(execs):.2f}, max "
              f"{max(x / b for x, b in zip(execs, bounds, strict=True)):.2f}")
        print(f"  probes between endpoints:     {sum(probes)} over {len(probes)} searches, "
              f"ceil(log2 n) allows {sum(bounds)}; over the bound: "
              f"{sum(p > b for p, b in zip(probes, bounds, strict=True))}")
        print("    (n, ceil(log2 n), probes, search executions, worst case 3 + 2*ceil(log2 n)): "
              + ", ".join(f"({e.n}, {log2_bound(e.n)}, {_probes(e)}, {x}, "
                          f"{3 + 2 * (log2_bound(e.n) or 0)})" for e, x in searches))
    totals = [o.executions for o in outcomes if o.executions]
    if totals:
        print(f"  test executions per diagnosis (flake re-runs included, cases that ran tests): "
              f"mean {sum(totals) / len(totals):.1f}, max {max(totals)}")
    secs = [o.seconds for o in outcomes if o.seconds is not None]
    if secs:
        print(f"  seconds per diagnosis:        mean {sum(secs) / len(secs):.2f}, "
              f"max {max(secs):.2f}")
    print(f"  bench wall time:              {wall:.0f} s for {n} case(s)")
    wrong = [o for o in outcomes if not o.right]
    print(f"\nWrong: {len(wrong)} of {n}" + (":" if wrong else ""))
    for o in wrong:
        e = o.expect
        print(f"  - {o.case.name} ({o.case.note})")
        if e is not None:
            print(f"      expected {e.category}, culprit {_short(e.culprit)}, escalated "
                  f"{e.escalated}; got {o.category}, culprit {_short(o.culprit)}, escalated "
                  f"{o.escalated}")
        if o.root_cause:
            print(f"      root cause: {o.root_cause[:300]}")
        if o.problem:
            print("      problem: " + o.problem[:1500].replace("\n", "\n        "))


def _selects(only: str, name: str) -> bool:
    """An exact case name selects that case; otherwise a prefix selects a family."""
    if any(c.name == only for c in CASES):
        return name == only
    return name.startswith(only)


def main(argv: list[str] | None = None) -> int:
    """Build the corpus, diagnose every case, print the table and totals."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="run only this case (repeatable; a prefix selects a family)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temp repositories for inspection")
    parser.add_argument("--list", action="store_true", help="list the cases and stop")
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    if args.list:
        for case in CASES:
            print(f"{case.name:28} {case.note}")
        return 0
    cases = [c for c in CASES if not args.only or any(_selects(o, c.name) for o in args.only)]
    if not cases:
        print(f"no case matches {args.only}; see --list", file=sys.stderr)
        return 0
    workdir = Path(tempfile.mkdtemp(prefix="suture-why-corpus-"))
    outcomes = []
    t0 = time.perf_counter()
    try:
        for case in cases:
            print(f"[{len(outcomes) + 1}/{len(cases)}] {case.name} ...", file=sys.stderr,
                  flush=True)
            outcomes.append(run_case(case, workdir))
    finally:
        if args.keep:
            print(f"repositories kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print()
    print_table(outcomes)
    print_totals(outcomes, time.perf_counter() - t0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
