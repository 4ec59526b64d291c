"""The project's KPIs against their targets (issue 7): deploys, vulnerabilities, coverage, fixes."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from enum import StrEnum

from suture.deploy.model import Release, ReleaseStatus
from suture.metrics.dora import (
    Period,
    change_failure_rate,
    failed_in_production,
    finished_in,
    recovery_s,
)
from suture.model import AttemptStatus, FixAttempt, Record, Run, StageStatus

SECURITY_KINDS = ("sast", "deps")


class Goal(StrEnum):
    """Which side of the target is good."""

    AT_LEAST = "at_least"
    AT_MOST = "at_most"


class Kpi(Record):
    """One KPI: its value (None with a reason when unknown), target, and whether it is met."""

    key: str
    title: str
    value: float | None
    target: float
    goal: Goal
    unit: str
    met: bool | None
    detail: str = ""
    reason: str | None = None


def kpi(key: str, title: str, value: float | None, target: float, goal: Goal, unit: str,
        detail: str = "", reason: str | None = None) -> Kpi:
    """A KPI with `met` worked out from the value, target and goal."""
    met = None if value is None else (value >= target if goal == Goal.AT_LEAST
                                      else value <= target)
    return Kpi(key=key, title=title, value=value, target=target, goal=goal, unit=unit, met=met,
               detail=detail, reason=reason if value is None else None)


def deployment_success_rate(releases: Sequence[Release], period: Period) -> Kpi:
    """Percent of releases that ended in the period and were promoted."""
    done = finished_in(releases, period)
    promoted = sum(1 for r in done if r.status == ReleaseStatus.PROMOTED)
    value = 100.0 * promoted / len(done) if done else None
    return kpi("deployment_success_rate", "Deployment success rate", value, 100.0,
               Goal.AT_LEAST, "%", f"{promoted} of {len(done)} releases promoted",
               "no release ended in the period")


def open_vulnerabilities(latest: Run | None) -> Kpi:
    """New (not baselined) findings of the sast and deps gates in the latest finished run."""
    title, key = "Open security vulnerabilities", "open_vulnerabilities"
    if latest is None:
        return kpi(key, title, None, 0, Goal.AT_MOST, "findings", reason="no finished run")
    stages = [s for s in latest.stages if s.kind in SECURITY_KINDS]
    if not stages:
        return kpi(key, title, None, 0, Goal.AT_MOST, "findings",
                   reason=f"run {latest.run_id[:12]} has no sast or deps gate")
    unknown = [s.name for s in stages if s.status in (StageStatus.ERROR, StageStatus.SKIPPED)]
    if unknown:
        return kpi(key, title, None, 0, Goal.AT_MOST, "findings",
                   reason=f"{', '.join(unknown)} did not finish in run {latest.run_id[:12]}")
    count = sum(len(s.new_findings) for s in stages)
    return kpi(key, title, float(count), 0, Goal.AT_MOST, "findings",
               f"{', '.join(s.name for s in stages)} of run {latest.run_id[:12]}")


def coverage_kpi(latest: Run | None) -> Kpi:
    """Total coverage reported by the tests gate of the latest finished run."""
    title, key = "Test coverage", "test_coverage"
    if latest is None:
        return kpi(key, title, None, 95.0, Goal.AT_LEAST, "%", reason="no finished run")
    stage = next((s for s in latest.stages if s.kind == "tests"
                  and "coverage" in s.metrics), None)
    if stage is None:
        return kpi(key, title, None, 95.0, Goal.AT_LEAST, "%",
                   reason=f"run {latest.run_id[:12]} has no tests gate that measured coverage")
    return kpi(key, title, stage.metrics["coverage"], 95.0, Goal.AT_LEAST, "%",
               f"{stage.name} of run {latest.run_id[:12]}")


def mean_time_to_recovery(releases: Sequence[Release], period: Period) -> Kpi:
    """Mean seconds to restore service over the deployments that failed in production."""
    failed = [r for r in finished_in(releases, period) if failed_in_production(r)]
    times = [t for t in (recovery_s(r) for r in failed) if t is not None]
    value = statistics.fmean(times) if times else None
    reason = ("no deployment failed in production in the period" if not failed
              else "no failed deployment recorded when service was restored")
    return kpi("mean_time_to_recovery", "Mean time to recovery", value, 60.0, Goal.AT_MOST, "s",
               f"mean of {len(times)} recoveries", reason)


def change_failure_kpi(releases: Sequence[Release], period: Period) -> Kpi:
    """The DORA change failure rate against a target of zero."""
    key = change_failure_rate(releases, period)
    return kpi("change_failure_rate", "Change failure rate", key.value, 0.0, Goal.AT_MOST, "%",
               key.detail, key.reason)


def reached_verification(a: FixAttempt) -> bool:
    """Whether a candidate fix was verified: accepted, or rejected by a check on its diff."""
    if a.status == AttemptStatus.ACCEPTED:
        return True
    return a.status == AttemptStatus.REJECTED and bool(a.checks or a.diff)


def fix_success_rate(attempts: Sequence[FixAttempt]) -> Kpi:
    """Percent of verified fix candidates that were accepted."""
    verified = [a for a in attempts if reached_verification(a)]
    accepted = sum(1 for a in verified if a.status == AttemptStatus.ACCEPTED)
    value = 100.0 * accepted / len(verified) if verified else None
    return kpi("fix_success_rate", "AI fix success rate", value, 95.0, Goal.AT_LEAST, "%",
               f"{accepted} of {len(verified)} verified candidates accepted",
               "no fix candidate reached verification in the period")


class Compliance(Record):
    """A compliance pack's score over the period: satisfied / applicable controls, or why not."""

    pack: str
    percent: float | None
    satisfied: int = 0
    applicable: int = 0
    reason: str | None = None


def compliance_score(score: Compliance) -> Kpi:
    """The pack's satisfied controls as a percent of its applicable ones."""
    return kpi("compliance_score", "Compliance score", score.percent, 100.0, Goal.AT_LEAST, "%",
               f"{score.pack}: {score.satisfied} of {score.applicable} controls satisfied",
               score.reason or f"no {score.pack} control applied in the period")


def compute(releases: Sequence[Release], period: Period, latest: Run | None,
            attempts: Sequence[FixAttempt], compliance: Compliance) -> tuple[Kpi, ...]:
    """Every KPI, in the issue's order."""
    return (deployment_success_rate(releases, period), open_vulnerabilities(latest),
            coverage_kpi(latest), mean_time_to_recovery(releases, period),
            change_failure_kpi(releases, period), fix_success_rate(attempts),
            compliance_score(compliance))
