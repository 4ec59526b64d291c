"""A run written to the store reads back exactly as it was recorded, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from suture.model import RunStatus, StageResult, StageStatus
from suture.proc import MAX_LOG_CHARS
from suture.store import RunStore, open_store

from .records import finished, run, stage


def test_full_run_round_trips(store: RunStore) -> None:
    began = run()
    store.begin_run(began)
    assert store.get_run(began.run_id).status == RunStatus.RUNNING

    done = finished(
        began,
        RunStatus.FAILED,
        stage("lint", StageStatus.PASSED, findings=0),
        stage("security", StageStatus.FAILED, findings=3),
        StageResult(name="sbom", kind="sbom", status=StageStatus.SKIPPED),
    )
    store.finish_run(done)

    back = store.get_run(began.run_id)
    assert back == done
    assert back.tool_versions == {"lint": "1.7.9", "security": "1.7.9"}
    assert [f.line for f in back.stages[1].findings] == [1, 2, 3]
    assert back.started_at.tzinfo is not None
    assert back.started_at.utcoffset() == timedelta(0)


def test_times_in_other_zones_keep_their_instant(store: RunStore) -> None:
    ist = timezone(timedelta(hours=5, minutes=30))
    local = datetime(2026, 6, 1, 9, 0, 0, 500, tzinfo=ist)
    r = run(started=local)
    store.begin_run(r)
    back = store.get_run(r.run_id)
    assert back.started_at == local
    assert back.started_at.tzinfo == UTC
    assert back.started_at.hour == 3 and back.started_at.minute == 30


def test_finishing_again_replaces_stages(store: RunStore) -> None:
    r = run()
    store.begin_run(r)
    store.finish_run(finished(r, RunStatus.FAILED, stage("security", findings=4)))
    store.finish_run(
        finished(r, RunStatus.PASSED, stage("security", StageStatus.PASSED, findings=1))
    )
    back = store.get_run(r.run_id)
    assert back.status == RunStatus.PASSED
    assert len(back.stages) == 1
    assert len(back.stages[0].findings) == 1


def test_finish_without_begin_records_the_whole_run(store: RunStore) -> None:
    r = finished(run(), RunStatus.PASSED, stage("lint", StageStatus.PASSED))
    store.finish_run(r)
    assert store.get_run(r.run_id) == r


def test_logs_are_bounded_keeping_head_and_tail(store: RunStore) -> None:
    log = "START\n" + "x" * 500_000 + "\nEND"
    r = run()
    store.begin_run(r)
    store.finish_run(finished(r, RunStatus.FAILED, stage(log=log)))
    kept = store.get_run(r.run_id).stages[0].log
    assert len(kept) < MAX_LOG_CHARS + 100
    assert kept.startswith("START") and kept.endswith("END")
    assert "characters cut" in kept


def test_nul_bytes_and_non_finite_metrics_are_stored(store: RunStore) -> None:
    # Tools do print NUL bytes, and 0/0 ratios happen; neither may lose the run on PostgreSQL.
    s = stage(log="binary\x00garbage").model_copy(
        update={"metrics": {"coverage": float("nan"), "ratio": float("inf"), "n": 3.0}}
    )
    r = run()
    store.begin_run(r)
    store.finish_run(finished(r, RunStatus.FAILED, s))
    back = store.get_run(r.run_id).stages[0]
    assert back.log == "binary\ufffdgarbage"
    assert back.metrics["ratio"] == float("inf")
    assert back.metrics["coverage"] != back.metrics["coverage"]  # NaN
    assert back.metrics["n"] == 3.0


@pytest.mark.postgres
def test_postgres_session_time_zone_does_not_shift_times(
    fresh_postgres_url: str, tmp_path: Path
) -> None:
    # A server or role configured for local time must not move recorded instants.
    url = fresh_postgres_url + "?options=-c%20TimeZone%3DAmerica/New_York"
    with open_store(tmp_path, url) as store:
        r = run()
        store.begin_run(r)
        back = store.get_run(r.run_id)
    engine = create_engine(url)  # prove such sessions really are on local time
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW TimeZone").scalar() == "America/New_York"
        stored = conn.exec_driver_sql("SELECT started_at::text FROM runs").scalar()
    engine.dispose()
    assert stored == "2026-03-01 07:00:00.123456-05"
    assert back.started_at == r.started_at
    assert back.started_at.tzinfo == UTC
