"""Repair attempts are stored with their run, on SQLite and PostgreSQL."""

from __future__ import annotations

from suture.model import AttemptStatus, Check, FixAttempt, RunStatus
from tests.store import records


def test_attempts_round_trip_and_append(store):
    run = records.run()
    store.begin_run(run)
    store.finish_run(records.finished(run, RunStatus.FAILED, records.stage("lint")))
    accepted = FixAttempt(stage="lint", remedy="ruff-fix", status=AttemptStatus.ACCEPTED,
                          reason="verified", commit="a" * 40, files=("calc.py",),
                          diff="--- a/calc.py\n+++ b/calc.py\n", duration_s=1.5,
                          checks=(Check(name="lint passes", passed=True),))
    escalated = FixAttempt(stage="tests", remedy="-", status=AttemptStatus.ESCALATED,
                           reason="regression: ...; no remedy applies")
    store.save_fix_attempts(run.run_id, [accepted, escalated], "suture/fix/abc")
    store.save_fix_attempts(run.run_id, [escalated], "suture/fix/abc")
    assert store.fix_attempts(run.run_id) == [accepted, escalated, escalated]
    assert store.fix_attempts("f" * 32) == []
