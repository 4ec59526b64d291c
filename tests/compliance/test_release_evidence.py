"""CC8.1's release queries over real releases in a real store: approvals and passing runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from suture.audit import AuditLog
from suture.compliance.evidence import (
    EvidenceContext,
    ReleaseParams,
    Status,
    releases_approved_by_non_author,
    releases_controlled,
)
from suture.deploy.model import Release, ReleaseStatus, Risk, RiskLevel, Strategy
from suture.store import open_store
from suture.store.releases import ReleaseStore
from tests.fixtures.runs import make_failed_run, make_passed_run

AUTHOR = "Test Author <author@example.test>"
T0 = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)


def _release(n: int, *, approved_by: str | None, run_id: str | None, stable: str | None,
             env: str = "production") -> Release:
    return Release(
        id=f"{n:032x}", env=env, commit=f"{n:040x}", strategy=Strategy.CANARY,
        status=ReleaseStatus.PROMOTED, risk=Risk(score=10, level=RiskLevel.LOW),
        started_at=T0 + timedelta(minutes=n), ended_at=T0 + timedelta(minutes=n, seconds=30),
        author=AUTHOR, actor=AUTHOR, run_id=run_id, stable_commit=stable,
        approved_by=approved_by)


def _ctx(tmp_path: Path, releases: list[Release]) -> EvidenceContext:
    store = open_store(tmp_path)
    for run in (make_passed_run(), make_failed_run()):
        store.finish_run(run)
    rs = ReleaseStore(store)
    for r in releases:
        rs.begin(r.model_copy(update={"status": ReleaseStatus.RUNNING}), pid=1)
        rs.save(r)
    return EvidenceContext(store=store, log=AuditLog.for_store(store, root=tmp_path),
                           root=tmp_path, since=T0 - timedelta(days=1),
                           until=T0 + timedelta(days=1))


def test_no_releases_is_not_applicable(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, [])
    assert releases_approved_by_non_author(ReleaseParams(), ctx).status is Status.NOT_APPLICABLE
    assert releases_controlled(ReleaseParams(), ctx).status is Status.NOT_APPLICABLE


def test_approval_by_the_author_or_nobody_is_not_satisfied(tmp_path: Path) -> None:
    ok = _release(1, approved_by="Ada Reviewer <ada@example.test>", run_id="r-clean", stable=None)
    own = _release(2, approved_by="TEST AUTHOR <Author@Example.test>", run_id="r-clean",
                   stable=ok.commit)
    none = _release(3, approved_by=None, run_id="r-clean", stable=own.commit)
    ctx = _ctx(tmp_path, [ok, own, none])
    res = releases_approved_by_non_author(ReleaseParams(), ctx)
    assert res.status is Status.NOT_SATISFIED
    assert res.counts == {"releases": 3, "not_approved_by_non_author": 2}
    assert own.id[:12] in res.reason and none.id[:12] in res.reason
    staging_only = releases_approved_by_non_author(ReleaseParams(env="staging"), ctx)
    assert staging_only.status is Status.NOT_APPLICABLE


def test_releases_need_a_passing_run_and_a_way_back(tmp_path: Path) -> None:
    first = _release(1, approved_by="Ada <ada@example.test>", run_id="r-clean", stable=None)
    good = _release(2, approved_by="Ada <ada@example.test>", run_id="r-clean",
                    stable=first.commit)
    ctx = _ctx(tmp_path, [first, good])
    res = releases_controlled(ReleaseParams(), ctx)
    assert res.status is Status.SATISFIED, res.reason
    assert "r-clean" in res.runs

    failed_run = _release(3, approved_by="Ada <ada@example.test>", run_id="r-20260102-0930",
                          stable=good.commit)
    no_way_back = _release(4, approved_by="Ada <ada@example.test>", run_id="r-clean", stable=None)
    ctx = _ctx(tmp_path / "second", [first, good, failed_run, no_way_back])
    res = releases_controlled(ReleaseParams(), ctx)
    assert res.status is Status.NOT_SATISFIED
    assert "without a passing run" in res.reason and "no stable version" in res.reason
