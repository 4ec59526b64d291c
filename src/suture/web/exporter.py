"""The Prometheus `/metrics` of `suture serve`: runs, gates, fixes, deploys and the audit chain.

Every number is an SQL aggregate (GROUP BY, COUNT, SUM, MAX) over the run database: a scrape
reads no row into Python and runs six queries. A query that fails sets
`suture_exporter_scrape_error` 1 and the other metrics are still served.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator

from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from sqlalchemy import Connection, func, select

from suture.deploy.model import ReleaseStatus
from suture.errors import StoreError
from suture.model import AttemptStatus, RunStatus, StageStatus
from suture.store.db import SQLITE_BEGIN
from suture.store.runs import RunStore
from suture.store.tables import AuditEventRow, FixAttemptRow, ReleaseRow, RunRow, StageRow
from suture.web.chain_status import ChainStatus

_log = logging.getLogger(__name__)

# Counters only count records in a final state; unfinished ones are gauges, since a counter that
# goes down (running -> passed) reads as a reset to Prometheus and breaks rate().
_RUN_FINAL = [s.value for s in RunStatus if s != RunStatus.RUNNING]
_RELEASE_ACTIVE = (ReleaseStatus.RUNNING.value, ReleaseStatus.AWAITING_APPROVAL.value)
_GATE_FAILED = (StageStatus.FAILED.value, StageStatus.ERROR.value)


def render_metrics(store: RunStore, chain: ChainStatus | None) -> tuple[bytes, str]:
    """The store's metrics (and the chain status, when known) as Prometheus text: (body, type)."""
    registry = CollectorRegistry(auto_describe=False)  # no describe pass: it would query twice
    registry.register(_StoreCollector(store, chain))
    return generate_latest(registry), CONTENT_TYPE_PLAIN_0_0_4


class _StoreCollector:
    """Runs each section's queries on its own connection, so one failure spoils only itself."""

    def __init__(self, store: RunStore, chain: ChainStatus | None) -> None:
        self._store = store
        self._chain = chain

    def collect(self) -> Iterator[Metric]:
        """Every metric family; sections whose query failed are left out."""
        reader = self._store.engine.execution_options(**{SQLITE_BEGIN: "DEFERRED"})
        failed = 0
        for section in (_runs, _gates, _fixes, _releases, _audit):
            try:
                with self._store.translated("read metrics from"), reader.connect() as conn:
                    families = section(conn)
            except StoreError as exc:
                _log.warning("%s", exc)
                failed = 1
                continue
            yield from families
        yield from _chain_metrics(self._chain)
        yield GaugeMetricFamily("suture_exporter_scrape_error",
                                "1 if a query of this scrape failed (its metrics are missing).",
                                value=failed)


def _runs(conn: Connection) -> list[Metric]:
    total = CounterMetricFamily("suture_runs", "Pipeline runs that ended, by final status.",
                                labels=["status"])
    active = GaugeMetricFamily("suture_runs_in_progress", "Pipeline runs still running.")
    by_status = {s: (0, 0.0) for s in _RUN_FINAL}
    running = 0
    query = select(RunRow.status, func.count(), func.sum(RunRow.duration_s)).group_by(RunRow.status)
    for status, count, seconds in conn.execute(query):
        if status == RunStatus.RUNNING.value:
            running = count
        else:
            by_status[status] = (count, seconds or 0.0)
    for status, (count, _) in sorted(by_status.items()):
        total.add_metric([status], count)
    active.add_metric([], running)
    duration = SummaryMetricFamily(
        "suture_run_duration_seconds", "Wall time of the pipeline runs that ended.",
        count_value=sum(c for c, _ in by_status.values()),
        sum_value=sum(s for _, s in by_status.values()))
    return [total, active, duration]


def _gates(conn: Connection) -> list[Metric]:
    runs = CounterMetricFamily("suture_gate_runs", "Gate results, by gate and status.",
                               labels=["gate", "status"])
    failures = CounterMetricFamily("suture_gate_failures",
                                   "Gate results that did not pass (failed or error), by gate.",
                                   labels=["gate"])
    duration = SummaryMetricFamily("suture_gate_duration_seconds",
                                   "Wall time of the gates that ran (not skipped), by gate.",
                                   labels=["gate"])
    query = (select(StageRow.name, StageRow.status, func.count(), func.sum(StageRow.duration_s))
             .group_by(StageRow.name, StageRow.status).order_by(StageRow.name, StageRow.status))
    per_gate: dict[str, tuple[int, int, float]] = {}  # gate -> (failures, ran, seconds)
    for gate, status, count, seconds in conn.execute(query):
        runs.add_metric([gate, status], count)
        failed, ran, total = per_gate.get(gate, (0, 0, 0.0))
        if status in _GATE_FAILED:
            failed += count
        if status != StageStatus.SKIPPED.value:
            ran, total = ran + count, total + (seconds or 0.0)
        per_gate[gate] = (failed, ran, total)
    for gate, (failed, ran, seconds) in per_gate.items():
        failures.add_metric([gate], failed)
        duration.add_metric([gate], count_value=ran, sum_value=seconds)
    return [runs, failures, duration]


def _fixes(conn: Connection) -> list[Metric]:
    attempts = CounterMetricFamily("suture_fix_attempts",
                                   "Repair attempts of `suture fix`, by outcome.",
                                   labels=["outcome"])
    counts = dict.fromkeys((s.value for s in AttemptStatus), 0)
    query = select(FixAttemptRow.status, func.count()).group_by(FixAttemptRow.status)
    counts.update({status: count for status, count in conn.execute(query)})
    for outcome, count in sorted(counts.items()):
        attempts.add_metric([outcome], count)
    return [attempts]


def _releases(conn: Connection) -> list[Metric]:
    deploys = CounterMetricFamily("suture_deploys", "Releases that ended, by final status.",
                                  labels=["env", "strategy", "status"])
    active = GaugeMetricFamily("suture_deploys_in_progress",
                               "Releases running or awaiting approval.", labels=["env", "status"])
    rollbacks = CounterMetricFamily("suture_rollbacks", "Releases rolled back.", labels=["env"])
    mttr = SummaryMetricFamily("suture_mttr_seconds",
                               "Time from a bad canary to restored service, of the rollbacks.",
                               labels=["env"])
    last = GaugeMetricFamily("suture_last_deploy_timestamp_seconds",
                             "When the newest release of the environment started (Unix time).",
                             labels=["env"])
    r = ReleaseRow
    query = (select(r.env, r.strategy, r.status, func.count())
             .group_by(r.env, r.strategy, r.status).order_by(r.env, r.strategy, r.status))
    rolled: dict[str, int] = {}
    for env, strategy, status, count in conn.execute(query):
        if status in _RELEASE_ACTIVE:
            active.add_metric([env, status], count)
            continue
        deploys.add_metric([env, strategy, status], count)
        rolled[env] = rolled.get(env, 0) + (count if status == ReleaseStatus.ROLLED_BACK else 0)
    for env, count in sorted(rolled.items()):
        rollbacks.add_metric([env], count)
    per_env = (select(r.env, func.count(r.mttr_s), func.sum(r.mttr_s), func.max(r.started_at))
               .group_by(r.env).order_by(r.env))
    for env, repaired, seconds, newest in conn.execute(per_env):
        mttr.add_metric([env], count_value=repaired, sum_value=seconds or 0.0)
        last.add_metric([env], newest.timestamp())
    return [deploys, active, rollbacks, mttr, last]


def _audit(conn: Connection) -> list[Metric]:
    # Sequence numbers run 1, 2, 3... with no gaps, so the newest is the number of events
    # ever appended: a primary-key lookup where COUNT(*) would scan a million rows.
    head = conn.execute(select(func.max(AuditEventRow.seq))).scalar_one_or_none()
    return [CounterMetricFamily("suture_audit_events", "Events appended to the audit log.",
                                value=head or 0)]


def _chain_metrics(chain: ChainStatus | None) -> Iterable[Metric]:
    """The last verification's verdict; absent until a verification reached one."""
    if chain is None or chain.ok is None or chain.checked_at is None:
        return []
    return [
        GaugeMetricFamily("suture_audit_chain_ok",
                          "1 if the audit hash chain verified intact, 0 if it was tampered with.",
                          value=1 if chain.ok else 0),
        GaugeMetricFamily("suture_audit_chain_checked_timestamp_seconds",
                          "When the audit chain was last verified (Unix time).",
                          value=chain.checked_at.timestamp()),
        GaugeMetricFamily("suture_audit_chain_verify_duration_seconds",
                          "How long the last verification of the audit chain took.",
                          value=chain.duration_s),
    ]
