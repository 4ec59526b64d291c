"""Delivery metrics: DORA's four keys and the project's KPIs, read from the run database.

`collect` gathers one period's numbers; `trend` splits a period into day or week buckets.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from suture.audit.since import parse_since
from suture.deploy.model import Release
from suture.errors import SutureError, UsageError
from suture.metrics import dora, kpi
from suture.metrics.dora import Band, CommitTime, Dora, Key, Period
from suture.metrics.kpi import Compliance, Kpi
from suture.model import FixAttempt, Record, Run, RunStatus
from suture.store.releases import ReleaseStore
from suture.store.runs import RunStore
from suture.store.tables import FixAttemptRow

if TYPE_CHECKING:
    from suture.compliance.report import Report

SCHEMA_VERSION = 1
DEFAULT_ENV = "production"
DEFAULT_PACK = "hipaa"
_PAGE = 500

__all__ = ["SCHEMA_VERSION", "Band", "Bucket", "Dora", "Granularity", "Key", "Kpi", "Metrics",
           "Period", "collect", "parse_when", "trend"]


class Metrics(Record):
    """Everything `suture metrics` shows for one period: the four keys and the KPIs."""

    schema_version: int = SCHEMA_VERSION
    dora: Dora
    kpis: tuple[Kpi, ...]
    latest_run: str | None = None


class Granularity(StrEnum):
    """Bucket size of a trend."""

    DAY = "day"
    WEEK = "week"


class Bucket(Record):
    """The four keys over one bucket of a trend."""

    start: datetime
    end: datetime
    dora: Dora


def parse_when(text: str, now: datetime, option: str = "--since") -> datetime:
    """`30d`, `12h`, `2w` (that long before `now`) or an ISO date/time (UTC when naive)."""
    try:
        return parse_since(text, now)
    except UsageError as exc:  # the shared parser names --since; say which option was wrong
        raise UsageError(f"{option} {text!r} is neither a duration nor a date",
                         hint=exc.hint) from None


def compliance(store: RunStore, root: Path, period: Period, pack: str,
               report: Report | SutureError | None = None) -> Compliance:
    """A compliance pack's score over the period (None with the reason when it cannot be had).

    `report` is the pack's report when the caller already has it (the dashboard caches them).
    """
    from suture.audit import AuditLog
    from suture.compliance.evidence import EvidenceContext
    from suture.compliance.packs import resolve
    from suture.compliance.report import evaluate

    try:
        if isinstance(report, SutureError):
            raise report
        if report is None:
            loaded = resolve(pack, root)
            ctx = EvidenceContext(store=store, log=AuditLog.for_store(store, root=root),
                                  root=root, since=period.since, until=period.until)
            report = evaluate(loaded, ctx, period.until)
    except SutureError as exc:
        return Compliance(pack=pack, percent=None, reason=f"{pack}: {exc.message}")
    score = report.score
    return Compliance(pack=pack, percent=score.percent, satisfied=score.satisfied,
                      applicable=score.applicable)


def pick_env(releases: ReleaseStore, env: str | None) -> str | None:
    """The environment asked for; else `production` when it has releases; else None (all)."""
    if env is not None:
        return env
    return DEFAULT_ENV if releases.recent(env=DEFAULT_ENV, limit=1) else None


def releases_for(releases: ReleaseStore, env: str | None, period: Period) -> list[Release]:
    """Every release of `env` (or all) that could have ended in the period.

    `recent` is newest-first by start, so pages grow until the oldest one started before the
    period (a release never ends before it starts).
    """
    limit = _PAGE
    while True:
        found = releases.recent(env=env, limit=limit)
        if len(found) < limit or found[-1].started_at < period.since:
            return [r for r in found if r.started_at <= period.until]
        limit *= 4


def latest_run(store: RunStore, until: datetime) -> Run | None:
    """The newest finished run started by `until`, with its findings."""
    limit = 50
    while True:
        runs = store.list_runs(limit=limit)
        for r in runs:
            if r.status != RunStatus.RUNNING and r.started_at <= until:
                return store.get_run(r.run_id)
        if len(runs) < limit:
            return None
        limit *= 4


def fix_attempts(store: RunStore, period: Period) -> list[FixAttempt]:
    """The repair attempts recorded within the period, oldest first."""
    query = (select(FixAttemptRow.payload)
             .where(FixAttemptRow.created_at >= period.since,
                    FixAttemptRow.created_at <= period.until)
             .order_by(FixAttemptRow.id))
    with store.translated("read the repair attempts from"), store.engine.connect() as conn:
        return [FixAttempt.model_validate(p) for p in conn.execute(query).scalars()]


def collect(store: RunStore, root: Path, period: Period, env: str | None = None,
            commit_time: CommitTime | None = None, pack: str = DEFAULT_PACK,
            compliance_report: Report | SutureError | None = None) -> Metrics:
    """The four keys and the KPIs of one period; `env` None means production if deployed."""
    releases = ReleaseStore(store)
    chosen = pick_env(releases, env)
    found = releases_for(releases, chosen, period)
    lookup = commit_time or dora.git_commit_time(root)
    run = latest_run(store, period.until)
    return Metrics(dora=dora.compute(found, period, chosen, lookup),
                   kpis=kpi.compute(found, period, run, fix_attempts(store, period),
                                    compliance(store, root, period, pack,
                                               compliance_report)),
                   latest_run=None if run is None else run.run_id)


def trend(store: RunStore, root: Path, period: Period, granularity: Granularity,
          env: str | None = None, commit_time: CommitTime | None = None) -> list[Bucket]:
    """The four keys per day or week of the period, oldest first (for charts)."""
    releases = ReleaseStore(store)
    chosen = pick_env(releases, env)
    found = releases_for(releases, chosen, period)
    lookup = commit_time or dora.git_commit_time(root)
    return bucketed(found, period, granularity, chosen, lookup)


def bucketed(found: Sequence[Release], period: Period, granularity: Granularity,
             env: str | None, commit_time: CommitTime) -> list[Bucket]:
    """Split `found` into buckets; the last bucket is cut at the period's end."""
    size = timedelta(days=1 if granularity == Granularity.DAY else 7)
    out: list[Bucket] = []
    for start in dora.bucket_starts(period, size):
        # Buckets are half-open except the last, so a release on a boundary counts once.
        end = min(start + size, period.until)
        inner = end if end == period.until else end - timedelta(microseconds=1)
        part = Period(start, inner)
        out.append(Bucket(start=start, end=end, dora=dora.compute(found, part, env, commit_time)))
    return out

