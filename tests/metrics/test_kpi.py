"""KPIs against their targets, from real runs, releases and repair attempts in a real store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from suture.audit import AuditLog
from suture.compliance.evidence import EvidenceContext
from suture.compliance.packs import resolve
from suture.compliance.report import evaluate
from suture.metrics import Period, collect
from suture.metrics.kpi import Kpi
from suture.model import (
    AttemptStatus,
    Check,
    Finding,
    FixAttempt,
    Level,
    Run,
    RunStatus,
    StageResult,
    StageStatus,
)
from suture.store import RunStore, open_store
from tests.fixtures import runs as samples
from tests.fixtures.git import GitRepo
from tests.fixtures.runs import STARTED, make_failed_run
from tests.metrics import PERIOD, scenario, seed


def by_key(kpis: tuple[Kpi, ...]) -> dict[str, Kpi]:
    return {k.key: k for k in kpis}


def security_run() -> Run:
    """A later run whose sast and deps gates finished: 2 new bandit findings + 1 advisory."""
    deps = StageResult(
        name="deps", kind="deps", status=StageStatus.FAILED, summary="1 vulnerable package",
        findings=(Finding(rule_id="PYSEC-2024-1", level=Level.ERROR, tool="osv",
                          message="jinja2 3.1.2 is vulnerable; fixed in 3.1.4"),),
    )
    return Run(run_id="r-security", status=RunStatus.FAILED, root="/srv/clinic-api",
               started_at=STARTED + timedelta(hours=1),
               stages=(samples.tests_stage(), samples.sast_stage(), deps))


def attempt(status: AttemptStatus, checks: tuple[Check, ...] = (), diff: str = "") -> FixAttempt:
    return FixAttempt(stage="lint", remedy="ruff-fix", status=status, reason="r",
                      checks=checks, diff=diff)


def test_release_kpis(git_repo: GitRepo) -> None:
    store = open_store(git_repo.path)
    seed(store, scenario(git_repo))
    kpis = by_key(collect(store, git_repo.path, PERIOD).kpis)
    success = kpis["deployment_success_rate"]
    assert success.value == pytest.approx(50.0)  # 3 of the 6 finished production releases
    assert (success.target, success.met, success.unit) == (100.0, False, "%")
    mttr = kpis["mean_time_to_recovery"]
    assert mttr.value == pytest.approx(75.0)  # mean of 30 s and 120 s
    assert (mttr.target, mttr.met) == (60.0, False)
    cfr = kpis["change_failure_rate"]
    assert cfr.value == pytest.approx(40.0)
    assert (cfr.target, cfr.met) == (0.0, False)


def test_run_kpis(git_repo: GitRepo) -> None:
    store = open_store(git_repo.path)
    store.finish_run(make_failed_run())
    whole = Period(PERIOD.since, datetime.now(UTC))
    # The failed run's deps gate errored: the count is unknown, not zero.
    vulns = by_key(collect(store, git_repo.path, whole).kpis)["open_vulnerabilities"]
    assert vulns.value is None and vulns.met is None
    assert "deps did not finish" in (vulns.reason or "")
    store.finish_run(security_run())
    report = collect(store, git_repo.path, whole)
    assert report.latest_run == "r-security"
    kpis = by_key(report.kpis)
    # B608 and B101 are new, B105 is baselined; plus the deps advisory.
    assert kpis["open_vulnerabilities"].value == 3.0
    assert kpis["open_vulnerabilities"].met is False
    coverage = kpis["test_coverage"]
    assert (coverage.value, coverage.target, coverage.met) == (91.5, 95.0, False)
    # A period that ends before the security run picks the earlier run.
    early = Period(PERIOD.since, STARTED + timedelta(minutes=1))
    assert collect(store, git_repo.path, early).latest_run == make_failed_run().run_id


def test_fix_success_rate_counts_verified_candidates(git_repo: GitRepo) -> None:
    store: RunStore = open_store(git_repo.path)
    store.finish_run(make_failed_run())
    ok = (Check(name="gate", passed=True),)
    store.save_fix_attempts(make_failed_run().run_id, [
        attempt(AttemptStatus.ACCEPTED, ok, "diff"),
        attempt(AttemptStatus.ACCEPTED, ok, "diff"),
        attempt(AttemptStatus.REJECTED, (Check(name="tests twice", passed=False),), "diff"),
        attempt(AttemptStatus.REJECTED),  # the remedy raised before any candidate: not verified
        attempt(AttemptStatus.ESCALATED),
    ], branch="suture/fix-1")
    now = datetime.now(UTC)
    rate = by_key(collect(store, git_repo.path, Period(now - timedelta(hours=1), now)).kpis)[
        "fix_success_rate"]
    assert rate.value == pytest.approx(200 / 3)
    assert (rate.target, rate.met) == (95.0, False)
    assert "2 of 3" in rate.detail
    # Attempts recorded outside the period do not count.
    old = by_key(collect(store, git_repo.path, PERIOD).kpis)["fix_success_rate"]
    assert old.value is None and old.reason


def test_empty_store_has_no_kpi_values(git_repo: GitRepo) -> None:
    kpis = collect(open_store(git_repo.path), git_repo.path, PERIOD).kpis
    assert [k.key for k in kpis] == [
        "deployment_success_rate", "open_vulnerabilities", "test_coverage",
        "mean_time_to_recovery", "change_failure_rate", "fix_success_rate", "compliance_score"]
    for k in kpis[:-1]:
        assert k.value is None and k.met is None and k.reason
    # The compliance pack judges itself: with no runs no hipaa control is satisfied.
    assert kpis[-1].value == 0.0 and kpis[-1].met is False
    assert kpis[-1].detail.startswith("hipaa: 0 of ")
    assert {k.key: k.target for k in kpis} == {
        "deployment_success_rate": 100.0, "open_vulnerabilities": 0.0, "test_coverage": 95.0,
        "mean_time_to_recovery": 60.0, "change_failure_rate": 0.0, "fix_success_rate": 95.0,
        "compliance_score": 100.0}


def test_targets_met() -> None:
    from suture.metrics.kpi import Goal, kpi

    assert kpi("x", "X", 95.0, 95.0, Goal.AT_LEAST, "%").met is True
    assert kpi("x", "X", 0.0, 0.0, Goal.AT_MOST, "findings").met is True
    assert kpi("x", "X", 61.0, 60.0, Goal.AT_MOST, "s").met is False


def test_compliance_score_and_unknown_pack(git_repo: GitRepo) -> None:
    store = open_store(git_repo.path)
    store.finish_run(samples.make_passed_run())
    whole = Period(PERIOD.since, datetime.now(UTC))
    score = by_key(collect(store, git_repo.path, whole).kpis)["compliance_score"]
    # The same score `suture compliance report --pack hipaa` gives for the period.
    ctx = EvidenceContext(store=store, log=AuditLog.for_store(store, root=git_repo.path),
                          root=git_repo.path, since=whole.since, until=whole.until)
    expected = evaluate(resolve("hipaa", git_repo.path), ctx, whole.until).score
    assert expected.applicable > 0
    assert score.value == expected.percent
    assert score.detail == (f"hipaa: {expected.satisfied} of {expected.applicable} "
                            "controls satisfied")
    missing = by_key(collect(store, git_repo.path, whole, pack="no-such-pack").kpis)[
        "compliance_score"]
    assert missing.value is None and missing.met is None
    assert (missing.reason or "").startswith("no-such-pack: ")
