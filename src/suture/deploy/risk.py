"""Release risk: facts gathered once from git and the run store, then a pure, explainable score.

The score is a sum of capped, monotone points per factor, clamped to 0..100 (see the tables
below); every factor that adds points is a reason. Bands: score < LOW_BELOW is low (rolling),
< MEDIUM_BELOW is medium (canary), else high (blue-green, approval required).

| factor         | points                                                                     |
|----------------|----------------------------------------------------------------------------|
| size           | lines changed >50: 5, >200: 10, >500: 15, >1000: 20 (files >5/15/40 alike)  |
| spread         | folders touched >=3: 4, >=6: 7, >10: 10                                    |
| sensitive      | migrations 15, auth 12, security 12, infra 8, dependencies 8 (sum, max 25) |
| history        | 5 per failed run in the last HISTORY_RUNS touching these files (max 20)    |
| run            | no suture run for the commit: 25; run failed/error: 30; still running: 15  |
| findings       | 3 per new (not baselined) finding of the release's run (max 15)            |
| coverage       | <90%: 3, <80%: 6, <60%: 10; not measured by the run: 5                     |
| auto-fix       | commits made by `suture fix` in the release: 10                            |
| deploy-history | last failed deploy <7 d ago: 4, <72 h: 8, <24 h: 15                        |
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from suture import proc
from suture.deploy.model import Risk, RiskLevel, RiskReason, Strategy
from suture.errors import ToolError, UsageError
from suture.model import Run, RunStatus, StageStatus
from suture.store.runs import RunStore

LOW_BELOW = 30.0
MEDIUM_BELOW = 60.0
HISTORY_RUNS = 50  # failed runs older than this many runs say little about today's change
RUN_SCAN = 200  # how far back to look for the release commit's own run
MAX_LOG_COMMITS = 500
_GIT_TIMEOUT_S = 60.0

# (threshold, points): the first threshold the value exceeds, scanning from the top, wins.
SIZE_LINES = ((1000, 20.0), (500, 15.0), (200, 10.0), (50, 5.0))
SIZE_FILES = ((40, 20.0), (15, 10.0), (5, 5.0))
SPREAD_DIRS = ((10, 10.0), (5, 7.0), (2, 4.0))
SENSITIVE_POINTS = {"migrations": 15.0, "auth": 12.0, "security": 12.0, "infra": 8.0,
                    "dependencies": 8.0}
SENSITIVE_MAX = 25.0
HISTORY_EACH, HISTORY_MAX = 5.0, 20.0
NO_RUN, RUN_FAILED, RUN_UNFINISHED = 25.0, 30.0, 15.0
FINDING_EACH, FINDINGS_MAX = 3.0, 15.0
COVERAGE_BELOW = ((60.0, 10.0), (80.0, 6.0), (90.0, 3.0))  # (below this percent, points)
COVERAGE_UNKNOWN = 5.0
AUTO_FIX = 10.0
FAILED_DEPLOY_WITHIN = ((24.0, 15.0), (72.0, 8.0), (168.0, 4.0))  # (within hours, points)

# What `suture fix` leaves in its commits (src/suture/fix/branch.py): trailers and bot identity.
FIX_TRAILER = "Suture-Run"
FIX_EMAIL = "suture@localhost"
FIX_BRANCH_PREFIX = "suture/"

_SENSITIVE: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("migrations", re.compile(r"(^|/)(migrations?|alembic)/|\.sql$")),
    ("auth", re.compile(r"auth(?!or)|login|passw|permission|rbac|jwt")),
    ("security", re.compile(r"secur|crypt|secret|(^|[/_.-])(tls|ssl)([/_.-]|$)|\.(pem|key)$")),
    ("infra", re.compile(
        r"(^|/)(dockerfile[^/]*|[^/]*\.dockerfile|docker-compose[^/]*|compose\.ya?ml|"
        r"jenkinsfile|procfile|suture\.ya?ml|\.gitlab-ci\.ya?ml)$|\.(tf|tfvars|hcl)$|"
        r"(^|/)(\.github/workflows|helm|charts|k8s|kubernetes|terraform|infra|nginx)/")),
    ("dependencies", re.compile(
        r"(^|/)(requirements[^/]*\.(txt|in)|requirements/[^/]+|constraints[^/]*\.txt|"
        r"pyproject\.toml|poetry\.lock|uv\.lock|pipfile(\.lock)?|setup\.(py|cfg)|"
        r"package(-lock)?\.json|yarn\.lock|go\.(mod|sum)|cargo\.(toml|lock))$")),
)


@dataclass(frozen=True)
class RiskFacts:
    """Everything the score reads, gathered once so it can be printed, stored and tested."""

    commit: str
    base: str | None  # commit currently stable in the environment; None on a first deploy
    files_changed: int
    lines_changed: int
    dirs_touched: int
    touched: tuple[str, ...]
    sensitive_paths: tuple[str, ...]
    past_failures: int
    run_id: str | None
    run_status: str | None
    new_findings: int
    coverage: float | None
    auto_fixed: bool
    hours_since_failed_deploy: float | None
    diff_basis: str = ""  # what the change was measured against, in words
    auto_fix_commits: tuple[str, ...] = ()


def sensitive_kinds(path: str) -> tuple[str, ...]:
    """The sensitive kinds (migrations, auth, security, infra, dependencies) a path falls in."""
    low = path.lower()
    return tuple(kind for kind, pattern in _SENSITIVE if pattern.search(low))


def gather_facts(root: Path, store: RunStore, commit: str, base: str | None,
                 last_failed_deploy_at: datetime | None,
                 now: datetime | None = None) -> RiskFacts:
    """Read the change (git), the release's run and failure history (store) into RiskFacts."""
    sha = _resolve(root, commit)
    if sha is None:
        raise UsageError(f"the commit to deploy, {commit!r}, is not in this repository",
                         hint="fetch it first, or pass a commit that `git rev-parse` knows")
    commit = sha
    old, log_args, basis = _diff_basis(root, commit, base)
    numstat = _git(root, "diff", "--numstat", "-z", "--no-renames", "--no-ext-diff",
                   "--no-textconv", old, commit)
    files, lines = _parse_numstat(numstat)
    touched = tuple(sorted(files))
    sensitive = tuple(p for p in touched if sensitive_kinds(p))
    dirs = {str(PurePosixPath(p).parent) for p in touched}

    run = _release_run(store, commit)
    fix_commits = _auto_fix_commits(root, log_args)
    auto_fixed = bool(fix_commits) or bool(
        run and run.branch and run.branch.startswith(FIX_BRANCH_PREFIX))
    hours = None
    if last_failed_deploy_at is not None:
        at = _utc(last_failed_deploy_at)
        hours = max(0.0, (_utc(now or datetime.now(UTC)) - at).total_seconds() / 3600.0)
    return RiskFacts(
        commit=commit, base=base, files_changed=len(touched), lines_changed=lines,
        dirs_touched=len(dirs), touched=touched, sensitive_paths=sensitive,
        past_failures=_past_failures(root, store, commit, frozenset(touched)),
        run_id=run.run_id if run else None, run_status=run.status.value if run else None,
        new_findings=sum(len(s.new_findings) for s in run.stages) if run else 0,
        coverage=_coverage(run), auto_fixed=auto_fixed,
        hours_since_failed_deploy=hours, diff_basis=basis, auto_fix_commits=fix_commits,
    )


def assess(facts: RiskFacts) -> Risk:
    """Score the facts: the sum of each factor's points, clamped to 0..100, with every reason."""
    reasons = [RiskReason(factor="basis", points=0.0,
                          detail=facts.diff_basis or "change measured against the stable commit")]
    reasons += _change_reasons(facts)
    reasons += _run_reasons(facts)
    if facts.auto_fixed:
        which = ", ".join(c[:12] for c in facts.auto_fix_commits[:5])
        detail = (f"commits made by `suture fix` are in this release ({which})" if which
                  else "the release was built on a `suture fix` branch")
        reasons.append(RiskReason(factor="auto-fix", points=AUTO_FIX, detail=detail))
    hours = facts.hours_since_failed_deploy
    if hours is not None:
        pts = next((p for within, p in FAILED_DEPLOY_WITHIN if hours < within), 0.0)
        if pts:
            reasons.append(RiskReason(factor="deploy-history", points=pts,
                                      detail=f"the last failed deploy was {hours:.1f} h ago"))
    score = min(100.0, max(0.0, sum(r.points for r in reasons)))
    return Risk(score=score, level=_level(score), reasons=tuple(reasons))


def strategy_for(risk: Risk) -> Strategy:
    """What `strategy: auto` picks: low → rolling, medium → canary, high → blue-green."""
    return {RiskLevel.LOW: Strategy.ROLLING, RiskLevel.MEDIUM: Strategy.CANARY,
            RiskLevel.HIGH: Strategy.BLUE_GREEN}[risk.level]


def approval_required(risk: Risk) -> bool:
    """High-risk releases wait for a person, whatever the environment's own policy says."""
    return risk.level is RiskLevel.HIGH


# -- scoring ------------------------------------------------------------------------------------


def _level(score: float) -> RiskLevel:
    if score < LOW_BELOW:
        return RiskLevel.LOW
    return RiskLevel.MEDIUM if score < MEDIUM_BELOW else RiskLevel.HIGH


def _step(value: float, table: tuple[tuple[int, float], ...]) -> float:
    return next((p for over, p in table if value > over), 0.0)


def _change_reasons(f: RiskFacts) -> list[RiskReason]:
    out: list[RiskReason] = []
    size = max(_step(f.lines_changed, SIZE_LINES), _step(f.files_changed, SIZE_FILES))
    if size:
        out.append(RiskReason(factor="size", points=size,
                              detail=f"{f.lines_changed} lines in {f.files_changed} files changed"))
    spread = _step(f.dirs_touched, SPREAD_DIRS)
    if spread:
        out.append(RiskReason(factor="spread", points=spread,
                              detail=f"the change spans {f.dirs_touched} folders"))
    kinds: dict[str, list[str]] = {}
    for path in f.sensitive_paths:
        for kind in sensitive_kinds(path):
            kinds.setdefault(kind, []).append(path)
    if kinds:
        pts = min(SENSITIVE_MAX, sum(SENSITIVE_POINTS[k] for k in kinds))
        detail = "; ".join(f"{k}: {', '.join(ps[:3])}{' ...' if len(ps) > 3 else ''}"
                           for k, ps in kinds.items())
        if "migrations" in kinds:
            detail += " (switching traffic back does not undo a schema change)"
        out.append(RiskReason(factor="sensitive", points=pts, detail=detail))
    if f.past_failures:
        out.append(RiskReason(
            factor="history", points=min(HISTORY_MAX, HISTORY_EACH * f.past_failures),
            detail=f"{f.past_failures} of the last {HISTORY_RUNS} runs failed on files "
            "this change touches"))
    return out


def _run_reasons(f: RiskFacts) -> list[RiskReason]:
    if f.run_id is None:
        return [RiskReason(factor="run", points=NO_RUN,
                           detail="no suture run for this commit: no gate has checked it")]
    status = f.run_status or "unknown"
    pts = {RunStatus.PASSED.value: 0.0, RunStatus.RUNNING.value: RUN_UNFINISHED}.get(
        status, RUN_FAILED)
    out = [RiskReason(factor="run", points=pts, detail=f"run {f.run_id[:12]} {status}")]
    if f.new_findings:
        out.append(RiskReason(factor="findings",
                              points=min(FINDINGS_MAX, FINDING_EACH * f.new_findings),
                              detail=f"{f.new_findings} new findings in run {f.run_id[:12]}"))
    if f.coverage is None:
        out.append(RiskReason(factor="coverage", points=COVERAGE_UNKNOWN,
                              detail="the run measured no test coverage"))
    else:
        cov = next((p for below, p in COVERAGE_BELOW if f.coverage < below), 0.0)
        if cov:
            out.append(RiskReason(factor="coverage", points=cov,
                                  detail=f"test coverage {f.coverage:.1f}%"))
    return out


# -- facts --------------------------------------------------------------------------------------


def _git(root: Path, *args: str, input_text: str | None = None) -> str:
    res = proc.run(("git", *args), cwd=root, timeout=_GIT_TIMEOUT_S, input_text=input_text)
    if res.returncode != 0:
        raise ToolError(f"git {args[0]} failed in {root}", hint=res.describe())
    return res.stdout


def _resolve(root: Path, ref: str) -> str | None:
    if not ref.strip():
        return None
    res = proc.run(("git", "rev-parse", "--verify", "--quiet", "--end-of-options",
                    f"{ref}^{{commit}}"), cwd=root, timeout=_GIT_TIMEOUT_S)
    return res.stdout.strip() if res.returncode == 0 else None


def _diff_basis(root: Path, commit: str, base: str | None
                ) -> tuple[str, tuple[str, ...], str]:
    """(tree to diff from, `git log` arguments naming the release's commits, basis in words)."""
    stable = _resolve(root, base) if base else None
    if stable is not None:
        ancestor = proc.run(("git", "merge-base", "--is-ancestor", stable, commit), cwd=root,
                            timeout=_GIT_TIMEOUT_S).returncode == 0
        words = f"change measured against the stable commit {stable[:12]}"
        if not ancestor:
            words += " (not an ancestor of this commit: histories diverged or it goes back)"
        return stable, (f"{stable}..{commit}",), words
    parent = _resolve(root, f"{commit}^1")
    if parent is None:  # a root commit: everything in it is new
        empty = _git(root, "hash-object", "-t", "tree", "--stdin", input_text="").strip()
        old, what = empty, "the whole tree (root commit)"
    else:
        old, what = parent, f"its parent {parent[:12]}"
    if base is None:
        words = f"first deploy to this environment: measured this commit against {what}"
    else:
        words = (f"the stable commit {base[:12]} is not in this repository: measured this "
                 f"commit against {what}")
    return old, ("-1", commit), words


def _parse_numstat(out: str) -> tuple[list[str], int]:
    files: list[str] = []
    lines = 0
    for entry in out.split("\0"):
        parts = entry.strip("\n").split("\t", 2)
        if len(parts) != 3:
            continue
        added, deleted, path = parts
        files.append(path)
        # Binary files print "-": they count as a file changed, not as lines.
        lines += sum(int(n) for n in (added, deleted) if n.isdigit())
    return files, lines


def _auto_fix_commits(root: Path, log_args: tuple[str, ...]) -> tuple[str, ...]:
    fmt = f"%H%x1f%ae%x1f%(trailers:key={FIX_TRAILER},valueonly,separator=%x2C)%x1e"
    found: list[str] = []
    out = _git(root, "log", f"--max-count={MAX_LOG_COMMITS}", f"--format={fmt}", *log_args)
    for record in out.split("\x1e"):
        fields = record.strip().split("\x1f")
        if len(fields) == 3 and (fields[2].strip() or fields[1].strip().lower() == FIX_EMAIL):
            found.append(fields[0])
    return tuple(found)


def _release_run(store: RunStore, commit: str) -> Run | None:
    """The newest stored run of exactly this commit; a clean checkout's run beats a dirty one."""
    runs = [r for r in store.list_runs(limit=RUN_SCAN) if r.commit == commit]
    if not runs:
        return None
    best = next((r for r in runs if not r.dirty), runs[0])
    return store.get_run(best.run_id)


def _coverage(run: Run | None) -> float | None:
    if run is None:
        return None
    stages = sorted(run.stages, key=lambda s: s.kind != "tests")  # the tests gate first
    return next((s.metrics["coverage"] for s in stages if "coverage" in s.metrics), None)


def _past_failures(root: Path, store: RunStore, commit: str, touched: frozenset[str]) -> int:
    """Failed runs among the last HISTORY_RUNS whose findings or diagnosis touched these files."""
    if not touched:
        return 0
    culprit_files: dict[str, frozenset[str]] = {}
    count = 0
    for summary in store.list_runs(limit=HISTORY_RUNS):
        if summary.commit == commit or summary.status not in (RunStatus.FAILED, RunStatus.ERROR):
            continue  # the release's own run is scored on its own
        run = store.get_run(summary.run_id)
        paths = {f.path for s in run.stages if s.status in (StageStatus.FAILED, StageStatus.ERROR)
                 for f in s.new_findings if f.path}
        for d in store.get_diagnoses(run.run_id):
            paths.update(e.path for why in d.chain for e in why.evidence if e.path)
            if d.culprit_commit:
                if d.culprit_commit not in culprit_files:
                    culprit_files[d.culprit_commit] = _commit_files(root, d.culprit_commit)
                paths |= culprit_files[d.culprit_commit]
        if paths & touched:
            count += 1
    return count


def _commit_files(root: Path, ref: str) -> frozenset[str]:
    sha = _resolve(root, ref)
    if sha is None:  # a culprit from a history this clone does not have
        return frozenset()
    out = _git(root, "diff-tree", "--no-commit-id", "-r", "--name-only", "-z", "--root", sha)
    return frozenset(p for p in out.split("\0") if p)


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
