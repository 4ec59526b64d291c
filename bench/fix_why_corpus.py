"""Measure `suture fix` on the `suture why` corpus: which failures it repairs, and how fast.

Each case of bench/why_cases is built as for why_corpus.py, diagnosed (`suture why --json`), then
repaired (`suture fix --json`). A repair counts as correct when the fix branch's tip passes a
full `suture run` of its own, checked in a separate worktree. Cases whose failure no remedy can
honestly fix (a committed secret must be rotated, a hanging test, a tool that is not there) are
expected to escalate; a fix accepted there counts as wrong. Printed: per case the remedies that
were accepted, whether the branch is green, seconds; then fix rate, wrong fixes, escalations
and the median seconds to a verified fix. Always exits 0: it measures, it does not judge.

    .venv/bin/python bench/fix_why_corpus.py
    .venv/bin/python bench/fix_why_corpus.py --only regression-n8-src,lint-unused-import --keep
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from why_cases import CASES
from why_cases.project import Case, Project, SetupError

# Categories a remedy exists for; anything else should be escalated to a person.
FIXABLE = {"regression", "lint", "insecure-code", "vulnerable-dependency", "flaky-test"}
# Cases of a fixable category that still must escalate, and why.
MUST_ESCALATE = {
    "insecure-code-secret": "a committed secret must be rotated by a person",
    "regression-uncommitted": "the run was made on uncommitted changes",
}


@dataclass(frozen=True)
class Outcome:
    """What `suture fix` did for one case."""

    case: Case
    category: str = "-"
    accepted: tuple[str, ...] = ()
    rejected: int = 0
    escalated: bool = False
    green: bool | None = None  # the fix branch passes `suture run`; None when nothing accepted
    seconds: float = 0.0
    expected_fix: bool = False
    problem: str = ""

    @property
    def fixed(self) -> bool:
        """A fix was accepted and the branch passes every gate."""
        return bool(self.accepted) and bool(self.green)

    @property
    def wrong(self) -> bool:
        """A fix was accepted that does not hold, or where a person had to decide."""
        return bool(self.accepted) and (not self.green or not self.expected_fix)


def run_case(case: Case, workdir: Path) -> Outcome:
    """Build, diagnose and fix one case; check the fix branch in a worktree of its own."""
    project = Project.create(workdir / case.name / "repo")
    try:
        expect = case.build(project)
    except SetupError as exc:
        return Outcome(case, problem=f"setup: {exc}")
    why = project.why()
    diagnoses = (why.data or {}).get("diagnoses") or []
    category = next((d.get("category", "-") for d in diagnoses  # type: ignore[union-attr]
                     if d.get("stage") == expect.stage), "-")  # type: ignore[union-attr]
    expected_fix = category in FIXABLE and case.name not in MUST_ESCALATE
    t0 = time.perf_counter()
    res = project.suture("fix", "--json")
    seconds = time.perf_counter() - t0
    try:
        data = json.loads(res.stdout)
    except ValueError:
        return Outcome(case, category, seconds=seconds, expected_fix=expected_fix,
                       problem=f"suture fix exited {res.returncode} without JSON: "
                       f"{res.stderr.strip()[-300:]}")
    attempts = data.get("remedies", [])
    accepted = tuple(a["remedy"] for a in attempts if a["status"] == "accepted")
    rejected = sum(a["status"] == "rejected" for a in attempts)
    escalated = any(a["status"] == "escalated" for a in attempts)
    green = _branch_green(project, data["head"]) if data.get("head") else None
    return Outcome(case, category, accepted, rejected, escalated, green, seconds, expected_fix)


def _branch_green(project: Project, head: str) -> bool:
    """`suture run` on the fix branch's tip, in a worktree, with the case's environment."""
    tree = Path(tempfile.mkdtemp(prefix="fix-check-")) / "tree"
    project.git("worktree", "add", "--detach", "--quiet", str(tree), head)
    try:
        res = subprocess.run([str(Path(sys.executable).parent / "suture"), "run"], cwd=tree,
                             env=project.suture_env(), capture_output=True, text=True,
                             timeout=600)
        return res.returncode == 0
    finally:
        project.git("worktree", "remove", "--force", str(tree))


def main() -> None:
    """Run the corpus and print the table and totals."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated case names")
    parser.add_argument("--keep", action="store_true", help="keep the repositories")
    args = parser.parse_args()
    only = {n for n in args.only.split(",") if n}
    cases = [c for c in CASES if not only or c.name in only]
    workdir = Path(tempfile.mkdtemp(prefix="suture-fix-bench-"))
    outcomes = []
    t0 = time.perf_counter()
    try:
        for i, case in enumerate(cases, 1):
            print(f"[{i}/{len(cases)}] {case.name} ...", flush=True)
            outcomes.append(run_case(case, workdir))
    finally:
        if args.keep:
            print(f"repositories kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    wall = time.perf_counter() - t0
    print(f"\n{'case':32} {'category':22} {'accepted':34} {'green':6} {'esc':4} "
          f"{'secs':>6}  verdict")
    for o in outcomes:
        verdict = ("FIXED" if o.fixed and o.expected_fix else "WRONG" if o.wrong else
                   "escalated" if o.escalated and not o.expected_fix else
                   "MISSED" if o.expected_fix else "ok")
        print(f"{o.case.name:32} {o.category:22} {','.join(o.accepted) or '-':34} "
              f"{'-' if o.green is None else 'yes' if o.green else 'NO':6} "
              f"{'yes' if o.escalated else 'no':4} {o.seconds:6.1f}  {verdict}"
              + (f"  ({o.problem})" if o.problem else ""))
    fixable = [o for o in outcomes if o.expected_fix]
    fixed = [o for o in fixable if o.fixed]
    wrong = [o for o in outcomes if o.wrong]
    honest = [o for o in outcomes if not o.expected_fix and o.escalated and not o.accepted]
    times = [o.seconds for o in fixed]
    print("\nTotals")
    print(f"  fixed (accepted, branch green): {len(fixed)}/{len(fixable)} of the cases a remedy "
          f"exists for ({100 * len(fixed) / max(1, len(fixable)):.0f}%)")
    print(f"  wrong fixes accepted:           {len(wrong)}")
    print(f"  escalated where a person must decide: {len(honest)}/"
          f"{len(outcomes) - len(fixable)}")
    if times:
        print(f"  seconds to a verified fix:      median {statistics.median(times):.1f}, "
              f"max {max(times):.1f}")
    print(f"  candidates rejected:            {sum(o.rejected for o in outcomes)}")
    print(f"  bench wall time:                {wall:.0f} s for {len(outcomes)} case(s)")


if __name__ == "__main__":
    main()
