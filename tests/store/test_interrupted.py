"""A run that never finishes must end up `error`, never looking complete or half-written."""

from __future__ import annotations

import multiprocessing
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from suture.errors import StoreError
from suture.model import RunStatus, StageStatus
from suture.store import RunStore

from . import workers
from .records import finished, run, stage


def test_mark_interrupted_ends_a_running_run_as_error(store: RunStore) -> None:
    r = run(started=datetime.now(UTC) - timedelta(seconds=5))
    store.begin_run(r)
    assert store.mark_interrupted(r.run_id, "interrupted by Ctrl-C") is True
    back = store.get_run(r.run_id)
    assert back.status == RunStatus.ERROR
    assert back.error == "interrupted by Ctrl-C"
    assert back.finished_at is not None and back.duration_s >= 5


def test_mark_interrupted_leaves_finished_runs_alone(store: RunStore) -> None:
    r = run()
    store.begin_run(r)
    store.finish_run(finished(r, RunStatus.PASSED, stage("lint", StageStatus.PASSED)))
    assert store.mark_interrupted(r.run_id, "late signal") is False
    assert store.get_run(r.run_id).status == RunStatus.PASSED


def test_run_of_a_killed_process_is_marked_error(
    store: RunStore, db_url: str, tmp_path: Path
) -> None:
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    child = ctx.Process(
        target=workers.begin_and_hang, args=(str(tmp_path / "repo"), db_url, results)
    )
    child.start()
    try:
        run_id = results.get(timeout=60)
    finally:
        child.kill()
        child.join(30)
    mine = run(started=datetime.now(UTC) - timedelta(days=3))
    store.begin_run(mine)  # this process is alive: its run must survive the sweep

    assert store.get_run(run_id).status == RunStatus.RUNNING
    assert store.mark_stale_running() == [run_id]
    dead = store.get_run(run_id)
    assert dead.status == RunStatus.ERROR
    assert f"process {child.pid}" in (dead.error or "")
    assert store.get_run(mine.run_id).status == RunStatus.RUNNING
    assert store.mark_stale_running() == []


def test_runs_from_other_hosts_expire_by_age(store: RunStore, raw_engine: Engine) -> None:
    old = run(started=datetime.now(UTC) - timedelta(hours=30))
    recent = run(started=datetime.now(UTC) - timedelta(minutes=5))
    for r in (old, recent):
        store.begin_run(r)
    with raw_engine.begin() as conn:  # as if written by a CI runner elsewhere
        conn.execute(text("UPDATE runs SET host = 'ci-runner-7', pid = :pid"), {"pid": os.getpid()})
    assert store.mark_stale_running(older_than_s=24 * 3600) == [old.run_id]
    assert "ci-runner-7" in (store.get_run(old.run_id).error or "")
    assert store.get_run(recent.run_id).status == RunStatus.RUNNING


def _install_failing_trigger(engine: Engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(
                text(
                    "CREATE TRIGGER boom BEFORE INSERT ON findings WHEN NEW.rule_id = 'BOOM' "
                    "BEGIN SELECT RAISE(ABORT, 'disk quota exceeded'); END"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    "IF NEW.rule_id = 'BOOM' THEN RAISE EXCEPTION 'disk quota exceeded'; END IF; "
                    "RETURN NEW; END $$"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER boom BEFORE INSERT ON findings "
                    "FOR EACH ROW EXECUTE FUNCTION boom()"
                )
            )


def test_failed_finish_leaves_no_half_written_run(store: RunStore, raw_engine: Engine) -> None:
    _install_failing_trigger(raw_engine)
    r = run()
    store.begin_run(r)
    bad = stage("security", findings=3)
    bad = bad.model_copy(
        update={"findings": (*bad.findings, bad.findings[0].model_copy(update={"rule_id": "BOOM"}))}
    )
    with pytest.raises(StoreError, match="disk quota exceeded") as err:
        store.finish_run(finished(r, RunStatus.PASSED, stage("lint", StageStatus.PASSED), bad))
    assert r.run_id in str(err.value)
    assert "rejected" in (err.value.hint or "")
    back = store.get_run(r.run_id)
    assert back.status == RunStatus.RUNNING  # not "passed" with a missing stage
    assert back.stages == ()
    assert store.mark_interrupted(r.run_id, "could not record results") is True
    assert store.get_run(r.run_id).status == RunStatus.ERROR
