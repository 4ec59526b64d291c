"""Release risk from a real git history and a real run store: facts, score, bands, strategy."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from suture.deploy.model import Risk, RiskLevel, Strategy
from suture.deploy.risk import (
    LOW_BELOW,
    MEDIUM_BELOW,
    RiskFacts,
    approval_required,
    assess,
    gather_facts,
    sensitive_kinds,
    strategy_for,
)
from suture.errors import UsageError
from suture.fix import branch
from suture.fix.remedies.interface import Proposal
from suture.model import (
    Category,
    Diagnosis,
    Finding,
    Level,
    Run,
    RunStatus,
    StageResult,
    StageStatus,
)
from suture.store import RunStore, open_store
from tests.fixtures.git import GitRepo

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RunStore]:
    """A fresh SQLite run store outside the repository."""
    s = open_store(tmp_path / "state")
    yield s
    s.close()


def lines(n: int, word: str = "x") -> str:
    """`n` distinct lines of text."""
    return "".join(f"{word}_{i} = {i}\n" for i in range(n))


def finding(path: str, rule: str = "B105", *, baselined: bool = False) -> Finding:
    """A new finding at `path`."""
    return Finding(rule_id=rule, level=Level.ERROR, message=f"{rule} in {path}", tool="bandit",
                   path=path, line=1, fingerprint=f"{rule}:{path}", baselined=baselined)


def seed(store: RunStore, commit: str, status: RunStatus = RunStatus.PASSED, *,
         coverage: float | None = 95.0, findings: tuple[Finding, ...] = (),
         minutes: int = 0, branch_name: str = "main") -> Run:
    """Record a finished run of `commit`: a tests stage (with coverage) and a sast stage."""
    failed = status is not RunStatus.PASSED
    tests = StageResult(name="tests", kind="tests", status=StageStatus.PASSED,
                        metrics={"tests": 10.0, **({"coverage": coverage} if coverage else {})})
    sast = StageResult(name="sast", kind="sast", findings=findings,
                       status=StageStatus.FAILED if failed else StageStatus.PASSED)
    started = NOW - timedelta(hours=1) + timedelta(minutes=minutes)
    run = Run(run_id=uuid.uuid4().hex, status=status, root="/srv/repo", commit=commit,
              branch=branch_name, started_at=started, finished_at=started + timedelta(seconds=30),
              duration_s=30.0, stages=(tests, sast))
    store.finish_run(run)
    return run


def base_repo(repo: GitRepo) -> str:
    """A small app with docs, auth and migrations; returns the stable commit."""
    repo.write("docs/guide.md", "# Guide\n\nHow to run the clinic API.\n")
    repo.write("app/api.py", lines(20, "api"))
    repo.write("app/auth/login.py", lines(10, "login"))
    repo.write("migrations/versions/0001_init.py", lines(5, "m"))
    return repo.commit("base")


def factors(risk: Risk) -> dict[str, float]:
    """factor -> points."""
    return {r.factor: r.points for r in risk.reasons}


def test_a_tiny_docs_only_change_with_a_clean_run_is_low(git_repo: GitRepo,
                                                         store: RunStore) -> None:
    base = base_repo(git_repo)
    git_repo.write("docs/guide.md", "# Guide\n\nHow to run the clinic API locally.\n")
    head = git_repo.commit("docs: wording")
    run = seed(store, head)

    facts = gather_facts(git_repo.path, store, head, base, None, now=NOW)
    risk = assess(facts)

    assert (facts.files_changed, facts.lines_changed, facts.dirs_touched) == (1, 2, 1)
    assert facts.touched == ("docs/guide.md",) and facts.sensitive_paths == ()
    assert facts.run_id == run.run_id and facts.coverage == 95.0 and not facts.auto_fixed
    assert risk.score == 0 and risk.level is RiskLevel.LOW
    assert strategy_for(risk) is Strategy.ROLLING and not approval_required(risk)
    assert f"stable commit {base[:12]}" in risk.reasons[0].detail


def test_a_large_change_to_migrations_and_auth_with_a_failing_run_is_high(
        git_repo: GitRepo, store: RunStore) -> None:
    base = base_repo(git_repo)
    git_repo.write("migrations/versions/0002_patients.py", lines(600, "col"))
    git_repo.write("app/auth/login.py", lines(500, "login2"))
    git_repo.write("app/api.py", lines(40, "api"))
    head = git_repo.commit("patients table and new login")
    seed(store, head, RunStatus.FAILED, coverage=72.0,
         findings=(finding("app/auth/login.py"), finding("app/api.py", "B608")))

    facts = gather_facts(git_repo.path, store, head, base, None, now=NOW)
    risk = assess(facts)

    assert set(facts.sensitive_paths) == {"migrations/versions/0002_patients.py",
                                          "app/auth/login.py"}
    assert facts.lines_changed > 1000 and facts.run_status == "failed"
    points = factors(risk)
    assert points["size"] == 20 and points["sensitive"] == 25 and points["run"] == 30
    assert points["spread"] == 4 and points["findings"] == 6 and points["coverage"] == 6
    assert risk.level is RiskLevel.HIGH and risk.score == 91
    assert strategy_for(risk) is Strategy.BLUE_GREEN and approval_required(risk)
    sensitive = next(r.detail for r in risk.reasons if r.factor == "sensitive")
    assert "migrations" in sensitive and "auth: app/auth/login.py" in sensitive


def test_new_findings_of_the_releases_run_raise_risk(git_repo: GitRepo, store: RunStore) -> None:
    base = base_repo(git_repo)
    git_repo.write("app/api.py", lines(25, "api"))
    head = git_repo.commit("more endpoints")
    seed(store, head, minutes=0)
    before = assess(gather_facts(git_repo.path, store, head, base, None, now=NOW))
    # A newer run of the same commit wins; a baselined finding is not new.
    newer = seed(store, head, minutes=5, findings=(
        finding("app/api.py", "B101"), finding("app/api.py", "B311"),
        finding("app/api.py", "B105", baselined=True)))

    facts = gather_facts(git_repo.path, store, head, base, None, now=NOW)
    after = assess(facts)

    assert facts.run_id == newer.run_id and facts.new_findings == 2
    assert factors(after)["findings"] == 6 and "findings" not in factors(before)
    assert after.score == before.score + 6


def test_commits_made_by_suture_fix_raise_risk(git_repo: GitRepo, store: RunStore) -> None:
    base = base_repo(git_repo)
    git_repo.write("app/api.py", lines(21, "api"))
    user = git_repo.commit("user change")
    # The fix commit is made exactly as `suture fix` makes it (trailers, hooks off).
    git_repo.write("app/api.py", lines(21, "fixed"))
    git_repo.git("add", "-A")
    text = branch.message(Proposal(summary="Use parameters", rationale="B608 was raised."),
                          "ab" * 16, "sast", "bandit-sql", None)
    fix = branch.commit(git_repo.path, text)
    for sha in (user, fix):
        seed(store, sha)

    fixed = gather_facts(git_repo.path, store, fix, base, None, now=NOW)
    plain = gather_facts(git_repo.path, store, user, base, None, now=NOW)

    assert fixed.auto_fixed and fixed.auto_fix_commits == (fix,)
    assert not plain.auto_fixed and plain.auto_fix_commits == ()
    reason = next(r for r in assess(fixed).reasons if r.factor == "auto-fix")
    assert reason.points == 10 and fix[:12] in reason.detail
    assert assess(fixed).score == assess(plain).score + 10


def test_a_run_on_a_suture_fix_branch_counts_as_auto_fixed(git_repo: GitRepo,
                                                           store: RunStore) -> None:
    base = base_repo(git_repo)
    git_repo.write("app/api.py", lines(21, "api"))
    head = git_repo.commit("rebased fix, trailers lost")
    seed(store, head, branch_name="suture/fix/abababababab")

    facts = gather_facts(git_repo.path, store, head, base, None, now=NOW)

    assert facts.auto_fixed and facts.auto_fix_commits == ()
    assert "suture fix" in next(r.detail for r in assess(facts).reasons if r.factor == "auto-fix")


def test_a_recent_failed_deploy_raises_risk_more_the_more_recent(git_repo: GitRepo,
                                                                 store: RunStore) -> None:
    base = base_repo(git_repo)
    git_repo.write("docs/guide.md", "# Guide\n\nNew text.\n")
    head = git_repo.commit("docs")
    seed(store, head)

    def score(ago: timedelta | None) -> tuple[float | None, float]:
        at = None if ago is None else NOW - ago
        facts = gather_facts(git_repo.path, store, head, base, at, now=NOW)
        return facts.hours_since_failed_deploy, assess(facts).score

    # A naive timestamp is read as UTC.
    naive = gather_facts(git_repo.path, store, head, base,
                         (NOW - timedelta(hours=2)).replace(tzinfo=None), now=NOW)
    assert naive.hours_since_failed_deploy == pytest.approx(2.0)
    assert score(timedelta(hours=2)) == (pytest.approx(2.0), 15)
    assert score(timedelta(hours=30))[1] == 8
    assert score(timedelta(days=5))[1] == 4
    assert score(timedelta(days=30))[1] == 0
    assert score(None) == (None, 0)


def test_no_run_for_the_commit_adds_risk_and_says_so(git_repo: GitRepo, store: RunStore) -> None:
    base = base_repo(git_repo)
    git_repo.write("app/api.py", lines(21, "api"))
    head = git_repo.commit("unchecked")
    seed(store, base)  # a run of another commit is not the release's run

    facts = gather_facts(git_repo.path, store, head, base, None, now=NOW)
    risk = assess(facts)

    assert facts.run_id is None and facts.run_status is None and facts.coverage is None
    reason = next(r for r in risk.reasons if r.factor == "run")
    assert reason.points == 25 and "no suture run for this commit" in reason.detail
    assert "coverage" not in factors(risk)  # not counted twice for the same missing run


def test_failed_runs_on_the_touched_files_count_as_history(git_repo: GitRepo,
                                                           store: RunStore) -> None:
    base = base_repo(git_repo)
    git_repo.write("app/auth/login.py", lines(12, "login"))
    culprit = git_repo.commit("broke login")
    git_repo.write("app/auth/login.py", lines(11, "login"))
    head = git_repo.commit("touch login again")
    # Two failures on login.py (a finding; a diagnosis blaming a commit that changed it), one
    # failure elsewhere, and one passing run with a finding there: only the first two count.
    seed(store, base, RunStatus.FAILED, findings=(finding("app/auth/login.py"),), minutes=1)
    blamed = seed(store, culprit, RunStatus.FAILED, findings=(), minutes=2)
    store.save_diagnoses(blamed.run_id, [Diagnosis(
        stage="tests", category=Category.REGRESSION, root_cause="login broke",
        culprit_commit=culprit)])
    seed(store, base, RunStatus.FAILED, findings=(finding("docs/guide.md"),), minutes=3)
    seed(store, base, RunStatus.PASSED, findings=(finding("app/auth/login.py"),), minutes=4)
    seed(store, head, minutes=5)

    facts = gather_facts(git_repo.path, store, head, culprit, None, now=NOW)

    assert facts.past_failures == 2
    reason = next(r for r in assess(facts).reasons if r.factor == "history")
    assert reason.points == 10 and "2 of the last" in reason.detail


def test_first_deploy_measures_the_commit_against_its_parent_or_the_whole_tree(
        git_repo: GitRepo, store: RunStore) -> None:
    root = base_repo(git_repo)
    git_repo.write("docs/guide.md", "# Guide\n\nChanged.\n")
    head = git_repo.commit("docs")

    first = gather_facts(git_repo.path, store, head, None, None, now=NOW)
    whole = gather_facts(git_repo.path, store, root, None, None, now=NOW)

    assert first.touched == ("docs/guide.md",) and first.base is None
    assert "first deploy" in first.diff_basis and root[:12] in first.diff_basis
    assert whole.files_changed == 4 and "whole tree (root commit)" in whole.diff_basis
    assert assess(first).reasons[0].detail == first.diff_basis


def test_an_unknown_or_diverged_stable_commit_falls_back_sensibly(git_repo: GitRepo,
                                                                  store: RunStore) -> None:
    base = base_repo(git_repo)
    git_repo.git("checkout", "-q", "-b", "side")
    git_repo.write("app/side.py", "side = 1\n")
    side = git_repo.commit("side")
    git_repo.git("checkout", "-q", "main")
    git_repo.write("docs/guide.md", "# Guide\n\nMain.\n")
    head = git_repo.commit("main change")

    diverged = gather_facts(git_repo.path, store, head, side, None, now=NOW)
    unknown = gather_facts(git_repo.path, store, head, "d" * 40, None, now=NOW)

    # The tree diff is what actually changes in the environment: side.py goes away.
    assert diverged.touched == ("app/side.py", "docs/guide.md")
    assert "not an ancestor" in diverged.diff_basis
    assert unknown.touched == ("docs/guide.md",)
    assert "not in this repository" in unknown.diff_basis and base[:12] in unknown.diff_basis


def test_a_commit_git_does_not_know_is_a_usage_error(git_repo: GitRepo, store: RunStore) -> None:
    base_repo(git_repo)
    with pytest.raises(UsageError, match="not in this repository"):
        gather_facts(git_repo.path, store, "e" * 40, None, None, now=NOW)


def quiet(**changes: object) -> RiskFacts:
    """Facts that score 0: a one-line change, clean run, full coverage."""
    facts = RiskFacts(
        commit="c" * 40, base="b" * 40, files_changed=1, lines_changed=1, dirs_touched=1,
        touched=("README.md",), sensitive_paths=(), past_failures=0, run_id="r1",
        run_status="passed", new_findings=0, coverage=99.0, auto_fixed=False,
        hours_since_failed_deploy=None)
    return replace(facts, **changes)  # type: ignore[arg-type]


def test_bands_map_to_strategies_at_the_thresholds() -> None:
    low = assess(quiet(run_id=None, run_status=None))  # 25: unchecked alone stays low
    medium = assess(quiet(run_id=None, run_status=None, auto_fixed=True))  # 35
    high = assess(quiet(run_status="error", new_findings=10, hours_since_failed_deploy=1.0))

    assert low.score == 25 < LOW_BELOW and low.level is RiskLevel.LOW
    assert LOW_BELOW <= medium.score == 35 < MEDIUM_BELOW and medium.level is RiskLevel.MEDIUM
    assert high.score == 60 >= MEDIUM_BELOW and high.level is RiskLevel.HIGH
    assert [strategy_for(r) for r in (low, medium, high)] == [
        Strategy.ROLLING, Strategy.CANARY, Strategy.BLUE_GREEN]
    assert [approval_required(r) for r in (low, medium, high)] == [False, False, True]


def test_the_score_is_monotone_and_bounded() -> None:
    worst = quiet(files_changed=500, lines_changed=90_000, dirs_touched=80,
                  sensitive_paths=("alembic/env.py", "app/auth.py", "Dockerfile", "main.tf",
                                   "requirements.txt", "certs/server.pem"),
                  past_failures=40, run_status="failed", new_findings=99, coverage=3.0,
                  auto_fixed=True, hours_since_failed_deploy=0.0)
    assert assess(worst).score == 100 and assess(worst).level is RiskLevel.HIGH
    scores = [assess(quiet(lines_changed=n)).score for n in (0, 51, 201, 501, 1001, 10**6)]
    assert scores == sorted(scores) and scores[0] == 0 and scores[-1] == 20
    cover = [assess(quiet(coverage=c)).score for c in (100.0, 89.0, 79.0, 59.0, 0.0)]
    assert cover == sorted(cover) and cover[-1] == 10


def test_sensitive_paths_are_classified_by_kind() -> None:
    assert sensitive_kinds("migrations/versions/0002.py") == ("migrations",)
    assert sensitive_kinds("db/schema.sql") == ("migrations",)
    assert sensitive_kinds("app/auth/login.py") == ("auth",)
    assert sensitive_kinds("app/security/crypto.py") == ("security",)
    assert sensitive_kinds("Dockerfile") == ("infra",)
    assert sensitive_kinds("deploy/main.tf") == ("infra",)
    assert sensitive_kinds("requirements-dev.txt") == ("dependencies",)
    assert sensitive_kinds("pyproject.toml") == ("dependencies",)
    assert sensitive_kinds("AUTHORS.md") == () and sensitive_kinds("app/api.py") == ()
