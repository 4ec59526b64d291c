"""Diagnoses and LLM calls are stored with their run, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from suture.llm.interface import CallOutcome, LLMCall
from suture.model import (
    Category,
    Diagnosis,
    Evidence,
    EvidenceKind,
    RunStatus,
    StageStatus,
    Why,
)
from tests.store import records


def _diagnosis(stage: str = "tests") -> Diagnosis:
    return Diagnosis(
        stage=stage, category=Category.REGRESSION, root_cause="commit abc broke add()",
        culprit_commit="abc123", confidence=0.9, remedies=("revert abc123",),
        chain=(Why(question="Why did tests fail?", answer="test_add failed",
                   evidence=(Evidence(kind=EvidenceKind.TEST, text="assert 4 == 3",
                                      path="tests/test_calc.py", line=5),)),),
        test_executions=4,
    )


def test_diagnoses_round_trip_and_replace(store):
    run = records.run()
    store.begin_run(run)
    store.finish_run(records.finished(run, RunStatus.FAILED, records.stage("tests")))
    call = LLMCall(provider="anthropic", model="claude", outcome=CallOutcome.OK, attempt=1,
                   prompt_digest="0" * 64, started_at=datetime(2026, 1, 1, tzinfo=UTC),
                   input_tokens=10)
    store.save_diagnoses(run.run_id, [_diagnosis()], [call])
    assert store.get_diagnoses(run.run_id) == [_diagnosis()]
    assert store.llm_calls(run.run_id) == [call]
    store.save_diagnoses(run.run_id, [_diagnosis("lint")])
    assert [d.stage for d in store.get_diagnoses(run.run_id)] == ["lint"]
    assert len(store.llm_calls(run.run_id)) == 1  # calls are appended, never replaced


def test_last_passing_commit_before_a_run(store):
    t0 = records.T0
    good = records.run(started=t0)
    store.begin_run(good)
    store.finish_run(records.finished(good, RunStatus.PASSED,
                                      records.stage("tests", StageStatus.PASSED)))
    later = t0 + timedelta(hours=1)
    assert store.last_passing_commit("tests", later) == good.commit
    assert store.last_passing_commit("tests", t0) is None
    assert store.last_passing_commit("lint", later) is None
