"""The Prometheus exporter against a real store: every number parsed back from the text format."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text

from suture.audit import AuditLog
from suture.deploy.model import ReleaseStatus, Strategy
from suture.model import AttemptStatus, FixAttempt, RunStatus, StageResult, StageStatus
from suture.store import RunStore, open_store
from suture.store.db import resolve_url
from suture.web.chain_status import ChainStatus, ChainWatcher
from suture.web.exporter import render_metrics
from tests.metrics import at, release, seed
from tests.store.records import finished, run, stage

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
P, RB, F = ReleaseStatus.PROMOTED, ReleaseStatus.ROLLED_BACK, ReleaseStatus.FAILED


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunStore]:
    """An empty migrated store on SQLite or on a fresh PostgreSQL database."""
    url = (resolve_url(tmp_path / "repo") if request.param == "sqlite"
           else str(request.getfixturevalue("fresh_postgres_url")))
    s = open_store(tmp_path / "repo", url)
    yield s
    s.close()


def scrape(store: RunStore, chain: ChainStatus | None = None) -> tuple[Samples, set[str]]:
    """Render, check the content type, and parse back: (sample -> value, family names)."""
    body, content_type = render_metrics(store, chain)
    assert content_type.startswith("text/plain; version=0.0.4")
    samples: Samples = {}
    names = set()
    for family in text_string_to_metric_families(body.decode()):
        names.add(family.name)
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    return samples, names


def val(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value (KeyError when the series is absent)."""
    return samples[(name, frozenset(labels.items()))]


def gate(name: str, status: StageStatus, seconds: float) -> StageResult:
    """A stage named `name` that took `seconds`."""
    return stage(name, status, findings=0).model_copy(update={"duration_s": seconds})


def seed_runs(store: RunStore) -> None:
    """3 passed (10+20+30 s), 1 failed (5 s), 1 error (2 s) and 2 still running."""
    done = [(RunStatus.PASSED, 10.0), (RunStatus.PASSED, 20.0), (RunStatus.PASSED, 30.0),
            (RunStatus.FAILED, 5.0), (RunStatus.ERROR, 2.0)]
    stages = [
        (gate("lint", StageStatus.PASSED, 1.0), gate("tests", StageStatus.PASSED, 4.0)),
        (gate("lint", StageStatus.PASSED, 2.0), gate("tests", StageStatus.PASSED, 6.0)),
        (gate("lint", StageStatus.PASSED, 1.5), gate("tests", StageStatus.FAILED, 8.0)),
        (gate("lint", StageStatus.FAILED, 0.5), gate("tests", StageStatus.SKIPPED, 0.0)),
        (gate("lint", StageStatus.ERROR, 0.25), gate("tests", StageStatus.SKIPPED, 0.0)),
    ]
    for (status, seconds), gates in zip(done, stages, strict=True):
        r = run()
        store.begin_run(r)
        store.finish_run(finished(r, status, *gates).model_copy(update={"duration_s": seconds}))
    for _ in range(2):
        store.begin_run(run())
    first = store.list_runs(limit=1)[0].run_id
    store.save_fix_attempts(first, [
        FixAttempt(stage="tests", remedy="codemod", status=AttemptStatus.ACCEPTED, reason="ok",
                   commit="ab" * 20),
        FixAttempt(stage="tests", remedy="search", status=AttemptStatus.REJECTED, reason="no"),
        FixAttempt(stage="lint", remedy="ruff-fix", status=AttemptStatus.ACCEPTED, reason="ok",
                   commit="cd" * 20),
    ], branch="suture/fix-1")


def seed_releases(store: RunStore) -> None:
    """Production: 2 promoted canaries, a canary and a rolling rollback (MTTR 30 s and 12 s), a
    failure, one running; staging: a promoted blue-green and one awaiting approval."""
    c = "ab" * 20
    seed(store, [
        release(c, P, at(2, 1), started=at(2)),
        release(c, P, at(3, 1), started=at(3)),
        release(c, RB, at(4, 1), started=at(4), mttr_s=30.0),
        release(c, RB, at(5, 1), started=at(5), mttr_s=12.0).model_copy(
            update={"strategy": Strategy.ROLLING}),
        release(c, F, at(6, 1), started=at(6)),
        release(c, ReleaseStatus.RUNNING, None, started=at(9)),
        release(c, P, at(7, 1), started=at(7), env="staging").model_copy(
            update={"strategy": Strategy.BLUE_GREEN}),
        release(c, ReleaseStatus.AWAITING_APPROVAL, None, started=at(8), env="staging"),
    ])


def test_every_metric_has_the_store_s_exact_value(store: RunStore, tmp_path: Path) -> None:
    seed_runs(store)
    seed_releases(store)
    log = AuditLog.for_store(store, root=tmp_path / "repo", checkpoint_every=3)
    for i in range(7):
        log.append("run.started", f"run-{i}", {"i": i})
    chain = ChainWatcher(lambda: AuditLog.for_store(store, root=tmp_path / "repo")).refresh()
    s, _ = scrape(store, chain)

    assert val(s, "suture_runs_total", status="passed") == 3
    assert val(s, "suture_runs_total", status="failed") == 1
    assert val(s, "suture_runs_total", status="error") == 1
    assert ("suture_runs_total", frozenset({("status", "running")})) not in s
    assert val(s, "suture_runs_in_progress") == 2
    assert val(s, "suture_run_duration_seconds_count") == 5
    assert val(s, "suture_run_duration_seconds_sum") == pytest.approx(67.0)

    assert val(s, "suture_gate_runs_total", gate="lint", status="passed") == 3
    assert val(s, "suture_gate_runs_total", gate="lint", status="failed") == 1
    assert val(s, "suture_gate_runs_total", gate="lint", status="error") == 1
    assert val(s, "suture_gate_runs_total", gate="tests", status="skipped") == 2
    assert val(s, "suture_gate_failures_total", gate="lint") == 2
    assert val(s, "suture_gate_failures_total", gate="tests") == 1
    assert val(s, "suture_gate_duration_seconds_count", gate="lint") == 5
    assert val(s, "suture_gate_duration_seconds_sum", gate="lint") == pytest.approx(5.25)
    assert val(s, "suture_gate_duration_seconds_count", gate="tests") == 3  # skipped left out
    assert val(s, "suture_gate_duration_seconds_sum", gate="tests") == pytest.approx(18.0)

    assert val(s, "suture_fix_attempts_total", outcome="accepted") == 2
    assert val(s, "suture_fix_attempts_total", outcome="rejected") == 1
    assert val(s, "suture_fix_attempts_total", outcome="escalated") == 0

    prod = {"env": "production"}
    assert val(s, "suture_deploys_total", **prod, strategy="canary", status="promoted") == 2
    assert val(s, "suture_deploys_total", **prod, strategy="canary", status="rolled_back") == 1
    assert val(s, "suture_deploys_total", **prod, strategy="rolling", status="rolled_back") == 1
    assert val(s, "suture_deploys_total", **prod, strategy="canary", status="failed") == 1
    assert val(s, "suture_deploys_total", env="staging", strategy="blue-green",
               status="promoted") == 1
    assert val(s, "suture_deploys_in_progress", **prod, status="running") == 1
    assert val(s, "suture_deploys_in_progress", env="staging", status="awaiting_approval") == 1
    assert val(s, "suture_rollbacks_total", **prod) == 2
    assert val(s, "suture_rollbacks_total", env="staging") == 0
    assert val(s, "suture_mttr_seconds_count", **prod) == 2
    assert val(s, "suture_mttr_seconds_sum", **prod) == pytest.approx(42.0)
    assert val(s, "suture_mttr_seconds_count", env="staging") == 0
    assert val(s, "suture_last_deploy_timestamp_seconds", **prod) == at(9).timestamp()
    assert val(s, "suture_last_deploy_timestamp_seconds", env="staging") == at(8).timestamp()

    assert val(s, "suture_audit_events_total") == 7
    assert val(s, "suture_audit_chain_ok") == 1
    assert chain.checked_at is not None
    assert val(s, "suture_audit_chain_checked_timestamp_seconds") == pytest.approx(
        chain.checked_at.timestamp())
    assert val(s, "suture_exporter_scrape_error") == 0


def test_chain_verdict_absent_until_known_and_zero_when_tampered(store: RunStore) -> None:
    _, names = scrape(store, None)
    assert "suture_audit_chain_ok" not in names
    unknown = ChainStatus(ok=None, events=0, head_seq=None, checked_at=at(1),
                          problem="could not verify", duration_s=0.1)
    _, names = scrape(store, unknown)
    assert "suture_audit_chain_ok" not in names
    assert "suture_audit_chain_checked_timestamp_seconds" not in names
    bad = ChainStatus(ok=False, events=2, head_seq=5, checked_at=at(2),
                      problem="the payload of event 3 no longer matches", duration_s=0.1)
    s, _ = scrape(store, bad)
    assert val(s, "suture_audit_chain_ok") == 0
    assert val(s, "suture_audit_chain_checked_timestamp_seconds") == at(2).timestamp()


def test_a_failing_query_is_reported_and_the_rest_still_served(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    store = open_store(root)
    try:
        seed_runs(store)
        # A damaged database: the fix attempts' table is gone, so that one query fails.
        engine = create_engine(resolve_url(root))
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE fix_attempts"))
        engine.dispose()
        s, names = scrape(store)
    finally:
        store.close()
    assert val(s, "suture_exporter_scrape_error") == 1
    assert "suture_fix_attempts" not in names
    assert val(s, "suture_runs_total", status="passed") == 3
    assert val(s, "suture_gate_failures_total", gate="lint") == 2
