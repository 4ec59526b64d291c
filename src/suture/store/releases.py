"""ReleaseStore: releases of `suture deploy`, their approvals and timed events, in the run database.

It shares the RunStore's engine, so a release and the runs it shipped live in one database
(SQLite by default, PostgreSQL in team mode) and one transaction model.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from suture.deploy.model import Release, ReleaseStatus
from suture.errors import StoreError, UsageError
from suture.store.liveness import this_host
from suture.store.runs import RunStore
from suture.store.tables import ApprovalRow, DeployEventRow, ReleaseRow

ACTIVE = (ReleaseStatus.RUNNING.value, ReleaseStatus.AWAITING_APPROVAL.value)


@dataclass(frozen=True)
class Holder:
    """Who is driving an unfinished release: the controller process and the person behind it."""

    release: Release
    host: str
    pid: int


@dataclass(frozen=True)
class ApprovalRecord:
    """One approval or rejection of a release."""

    release_id: str
    approver: str
    decision: str
    comment: str
    at: datetime


@dataclass(frozen=True)
class DeployEvent:
    """A timed step of a release, as stored for the DORA metrics."""

    release_id: str
    env: str
    kind: str
    at: datetime
    payload: dict[str, Any]


class EnvironmentBusy(UsageError):
    """Another release of the same environment is unfinished."""

    exit_code = 1


class ReleaseStore:
    """Reads and writes releases; at most one unfinished release per environment."""

    def __init__(self, runs: RunStore) -> None:
        self._runs = runs
        self._session = sessionmaker(runs.engine, expire_on_commit=False)

    # -- writes ---------------------------------------------------------------------------------

    def begin(self, release: Release, pid: int) -> None:
        """Record a new release; EnvironmentBusy names the holder when one is unfinished."""
        try:
            with self._write(f"record release {release.id} in") as session:
                session.add(_row(ReleaseRow(id=release.id), release, this_host(), pid))
        except StoreError as exc:
            if not isinstance(exc.__cause__, IntegrityError):
                raise
            holder = self.active(release.env)
            if holder is None:  # lost a race with a release that has since ended: try once more
                with self._write(f"record release {release.id} in") as session:
                    session.add(_row(ReleaseRow(id=release.id), release, this_host(), pid))
                return
            raise busy(holder) from None

    def save(self, release: Release) -> None:
        """Write the release's current state (status, steps, timings)."""
        with self._write(f"update release {release.id} in") as session:
            row = session.get(ReleaseRow, release.id, with_for_update=True)
            if row is None:
                raise StoreError(f"release {release.id} is not in the run database {self.url}")
            _row(row, release, row.host, row.pid)

    def claim(self, release_id: str, pid: int) -> None:
        """Make this process the controller of a release (after `suture deploy resume`)."""
        with self._write(f"claim release {release_id} in") as session:
            row = session.get(ReleaseRow, release_id, with_for_update=True)
            if row is None:
                raise StoreError(f"release {release_id} is not in the run database {self.url}")
            row.host, row.pid = this_host(), pid

    def add_event(self, release: Release, kind: str, payload: dict[str, Any],
                  at: datetime | None = None) -> None:
        """Append a timed event (deploy started, step, verdict, promoted, rolled back)."""
        with self._write(f"record a deploy event of {release.id} in") as session:
            session.add(DeployEventRow(release_id=release.id, env=release.env, kind=kind,
                                       at=at or datetime.now(UTC), payload=payload))

    def add_approval(self, release_id: str, approver: str, decision: str,
                     comment: str = "") -> ApprovalRecord:
        """Record who approved (or rejected) a release, and when."""
        record = ApprovalRecord(release_id, approver, decision, comment, datetime.now(UTC))
        with self._write(f"record an approval of {release_id} in") as session:
            session.add(ApprovalRow(release_id=release_id, approver=approver, decision=decision,
                                    comment=comment, at=record.at))
        return record

    # -- reads ----------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The database URL with the password masked."""
        return self._runs.url

    def get(self, ref: str) -> Release:
        """The release whose id is `ref` or starts with it."""
        ref = ref.strip().lower()
        if not ref:
            raise UsageError("an empty release id matches no release",
                             hint="`suture releases` lists release ids")
        with self._read() as session:
            row = session.get(ReleaseRow, ref)
            if row is not None:
                return _release(row)
            escaped = ref.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            rows = list(session.scalars(
                select(ReleaseRow).where(ReleaseRow.id.like(f"{escaped}%", escape="\\")).limit(2)))
        if not rows:
            raise UsageError(f"no release {ref!r} in the run database {self.url}",
                             hint="`suture releases` lists the releases and their ids")
        if len(rows) > 1:
            raise UsageError(f"release id prefix {ref!r} matches more than one release",
                             hint="give more characters of the release id")
        return _release(rows[0])

    def recent(self, env: str | None = None, limit: int = 20,
               status: ReleaseStatus | None = None, offset: int = 0) -> list[Release]:
        """Newest releases first."""
        query = (select(ReleaseRow).order_by(ReleaseRow.started_at.desc(), ReleaseRow.id.desc())
                 .limit(limit).offset(offset))
        with self._read() as session:
            return [_release(r) for r in session.scalars(_filtered(query, env, status))]

    def count(self, env: str | None = None, status: ReleaseStatus | None = None) -> int:
        """How many releases are recorded (of one environment and status, when given)."""
        query = _filtered(select(func.count()).select_from(ReleaseRow), env, status)
        with self._read() as session:
            return int(session.scalar(query) or 0)

    def environments(self) -> list[str]:
        """Every environment that has a release, by name."""
        with self._read() as session:
            return list(session.scalars(select(ReleaseRow.env).distinct().order_by(ReleaseRow.env)))

    def active(self, env: str | None = None) -> Holder | None:
        """The unfinished release of `env` (any environment when None) and its controller."""
        query = select(ReleaseRow).where(ReleaseRow.status.in_(ACTIVE))
        if env is not None:
            query = query.where(ReleaseRow.env == env)
        with self._read() as session:
            row = session.scalars(query.order_by(ReleaseRow.started_at.desc()).limit(1)).first()
            return None if row is None else Holder(_release(row), row.host, row.pid)

    def holder(self, release_id: str) -> Holder:
        """The release and the controller process recorded for it."""
        with self._read() as session:
            row = session.get(ReleaseRow, release_id)
            if row is None:
                raise UsageError(f"no release {release_id!r} in the run database {self.url}")
            return Holder(_release(row), row.host, row.pid)

    def last_promoted(self, env: str) -> Release | None:
        """The newest promoted release of `env`: what should be serving there."""
        found = self.recent(env=env, limit=1, status=ReleaseStatus.PROMOTED)
        return found[0] if found else None

    def last_failure_at(self, env: str) -> datetime | None:
        """When the newest rolled-back or failed release of `env` ended."""
        query = (select(ReleaseRow.ended_at)
                 .where(ReleaseRow.env == env,
                        ReleaseRow.status.in_((ReleaseStatus.ROLLED_BACK.value,
                                               ReleaseStatus.FAILED.value)))
                 .order_by(ReleaseRow.started_at.desc()).limit(1))
        with self._read() as session:
            return session.scalars(query).first()

    def approvals(self, release_id: str) -> list[ApprovalRecord]:
        """Every decision on a release, oldest first."""
        query = (select(ApprovalRow).where(ApprovalRow.release_id == release_id)
                 .order_by(ApprovalRow.id))
        with self._read() as session:
            return [ApprovalRecord(r.release_id, r.approver, r.decision, r.comment, r.at)
                    for r in session.scalars(query)]

    def events(self, release_id: str | None = None) -> list[DeployEvent]:
        """Deploy events, oldest first; of one release or of all."""
        query = select(DeployEventRow).order_by(DeployEventRow.at, DeployEventRow.id)
        if release_id is not None:
            query = query.where(DeployEventRow.release_id == release_id)
        with self._read() as session:
            return [DeployEvent(r.release_id, r.env, r.kind, r.at, dict(r.payload))
                    for r in session.scalars(query)]

    @contextmanager
    def _write(self, action: str) -> Iterator[Session]:
        with self._runs.translated(action), \
                self._session.begin() as session:
            yield session

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with self._runs.translated("read"), \
                self._session() as session:
            yield session


def _filtered(query: Select[Any], env: str | None, status: ReleaseStatus | None) -> Select[Any]:
    if env is not None:
        query = query.where(ReleaseRow.env == env)
    if status is not None:
        query = query.where(ReleaseRow.status == status.value)
    return query


def busy(holder: Holder) -> EnvironmentBusy:
    """The error for a second deploy to an environment whose release is unfinished."""
    r = holder.release
    return EnvironmentBusy(
        f"environment {r.env!r} is busy: release {r.id[:12]} ({r.status.value}) of "
        f"{r.commit[:10]} by {r.actor} is driven by pid {holder.pid} on {holder.host}",
        hint="wait for it to finish, `suture approve` it if it awaits approval, or "
        "`suture deploy resume` if that controller died",
    )


def _row(row: ReleaseRow, release: Release, host: str, pid: int) -> ReleaseRow:
    row.env, row.commit = release.env, release.commit
    row.strategy, row.status = release.strategy.value, release.status.value
    row.risk_score, row.risk_level = release.risk.score, release.risk.level.value
    row.started_at, row.ended_at, row.mttr_s = release.started_at, release.ended_at, release.mttr_s
    row.author, row.actor, row.run_id = release.author, release.actor, release.run_id
    row.host, row.pid = host, pid
    row.payload = release.model_dump(mode="json")
    return row


def _release(row: ReleaseRow) -> Release:
    return Release.model_validate(row.payload)
