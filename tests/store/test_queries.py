"""Listing runs, finding one by id prefix, and the stage lookups the pipeline's cache relies on."""

from __future__ import annotations

from datetime import timedelta

import pytest

from suture.errors import StoreError, UsageError
from suture.model import RunStatus, StageStatus
from suture.store import RunStore

from .records import T0, finished, run, stage


def _record(store: RunStore, minutes: int, status: RunStatus, *stages, run_id=None):  # type: ignore[no-untyped-def]
    r = run(started=T0 + timedelta(minutes=minutes), run_id=run_id)
    store.begin_run(r)
    if status != RunStatus.RUNNING:
        store.finish_run(finished(r, status, *stages))
    return r


def test_list_runs_newest_first_with_limit_and_status(store: RunStore) -> None:
    ids = [
        _record(store, m, RunStatus.PASSED, stage("lint", StageStatus.PASSED)).run_id
        for m in range(5)
    ]
    failed = _record(store, 10, RunStatus.FAILED, stage()).run_id
    running = _record(store, 11, RunStatus.RUNNING).run_id

    listed = store.list_runs()
    assert [r.run_id for r in listed] == [running, failed, *reversed(ids)]
    assert [r.run_id for r in store.list_runs(limit=2)] == [running, failed]
    assert [r.run_id for r in store.list_runs(status=RunStatus.FAILED)] == [failed]
    assert [r.run_id for r in store.list_runs(status="running")] == [running]


def test_list_runs_carries_stage_summaries_but_not_findings_or_logs(store: RunStore) -> None:
    _record(store, 0, RunStatus.FAILED, stage("security", findings=3))
    (listed,) = store.list_runs()
    (s,) = listed.stages
    assert (s.name, s.status, s.summary, s.tool_version) == (
        "security",
        StageStatus.FAILED,
        "3 issue(s)",
        "1.7.9",
    )
    assert s.findings == () and s.log == ""


def test_get_run_by_unique_prefix(store: RunStore) -> None:
    a = _record(store, 0, RunStatus.PASSED, run_id="abc123" + "0" * 26)
    _record(store, 1, RunStatus.PASSED, run_id="abd456" + "0" * 26)
    assert store.get_run("abc").run_id == a.run_id
    assert store.get_run("ABC1").run_id == a.run_id  # ids are shown lowercase; accept either


def test_ambiguous_unknown_and_empty_prefixes_are_usage_errors(store: RunStore) -> None:
    _record(store, 0, RunStatus.PASSED, run_id="abc123" + "0" * 26)
    _record(store, 1, RunStatus.PASSED, run_id="abd456" + "0" * 26)
    with pytest.raises(UsageError, match="more than one run"):
        store.get_run("ab")
    with pytest.raises(UsageError, match="no run 'ffff'"):
        store.get_run("ffff")
    with pytest.raises(UsageError):
        store.get_run("  ")
    # LIKE wildcards in user input must not match everything
    with pytest.raises(UsageError, match="no run"):
        store.get_run("%")


def test_last_passing_stage_is_the_newest_pass(store: RunStore) -> None:
    assert store.last_passing_stage("security") is None
    _record(store, 0, RunStatus.PASSED, stage("security", StageStatus.PASSED, findings=1))
    _record(
        store,
        5,
        RunStatus.FAILED,
        stage("security", StageStatus.PASSED, findings=2),
        stage("tests", StageStatus.FAILED),
    )
    _record(store, 9, RunStatus.FAILED, stage("security", StageStatus.FAILED, findings=5))
    last = store.last_passing_stage("security")
    assert last is not None
    assert last.status == StageStatus.PASSED
    assert len(last.findings) == 2  # from the run at minute 5, findings included
    assert store.last_passing_stage("tests") is None


def test_cached_stage_matches_key_and_skips_errors(store: RunStore) -> None:
    assert store.find_cached_stage("security", "k1") is None
    _record(
        store,
        0,
        RunStatus.FAILED,
        stage("security", StageStatus.FAILED, cache_key="k1", findings=3),
    )
    _record(store, 1, RunStatus.ERROR, stage("security", StageStatus.ERROR, cache_key="k1"))
    _record(store, 2, RunStatus.PASSED, stage("security", StageStatus.PASSED, cache_key="k2"))

    hit = store.find_cached_stage("security", "k1")
    assert hit is not None
    assert hit.status == StageStatus.FAILED  # the newer `error` result is never reused
    assert len(hit.findings) == 3 and hit.log.startswith("bandit")
    assert store.find_cached_stage("security", "k2").status == StageStatus.PASSED  # type: ignore[union-attr]
    assert store.find_cached_stage("lint", "k1") is None
    assert store.find_cached_stage("security", "") is None


def test_bad_list_arguments_are_usage_errors(store: RunStore) -> None:
    with pytest.raises(UsageError, match="unknown run status 'green'") as err:
        store.list_runs(status="green")
    assert "passed" in (err.value.hint or "")
    with pytest.raises(UsageError):
        store.list_runs(limit=-1)
    assert store.list_runs(limit=0) == []


def test_beginning_the_same_run_twice_is_refused(store: RunStore) -> None:
    r = _record(store, 0, RunStatus.RUNNING)
    with pytest.raises(StoreError, match="already recorded"):
        store.begin_run(r)
    assert len(store.list_runs()) == 1
