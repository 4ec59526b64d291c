"""RunStore: record runs, look them up, and clean up after runs whose process died."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import Engine, Select, delete, func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, defer, selectinload, sessionmaker

from suture.errors import StoreError, SutureError, UsageError
from suture.llm.interface import LLMCall
from suture.model import Diagnosis, FixAttempt, Run, RunStatus, StageResult, StageStatus
from suture.store import convert, migrate
from suture.store.db import (
    DB_ERRORS,
    DEFAULT_BUSY_TIMEOUT_S,
    SQLITE_BEGIN,
    create_store_engine,
    mask_url,
    resolve_url,
    store_error,
    translated_errors,
)
from suture.store.liveness import pid_alive, this_host
from suture.store.tables import DiagnosisRow, FixAttemptRow, LLMCallRow, RunRow, StageRow

DEFAULT_STALE_AFTER_S = 24 * 3600.0
_FULL_STAGES = selectinload(RunRow.stages).selectinload(StageRow.findings)


def open_store(
    root: Path | str,
    url: str | None = None,
    *,
    busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
) -> RunStore:
    """Open (and migrate to the newest schema) the run database for the repository at `root`.

    `url` wins over $SUTURE_DATABASE_URL, which wins over SQLite at `<root>/.suture/suture.db`.
    """
    resolved = resolve_url(root, url)
    engine = create_store_engine(resolved, busy_timeout_s)
    try:
        migrate.upgrade(engine)
    except SutureError:
        engine.dispose()
        raise
    except (*DB_ERRORS, _alembic_error()) as exc:
        engine.dispose()
        raise store_error(exc, resolved, "open", busy_timeout_s) from exc
    return RunStore(engine, resolved, busy_timeout_s)


class RunStore:
    """Reads and writes runs; every write is one transaction, so no run is ever half-recorded."""

    def __init__(self, engine: Engine, url: str, busy_timeout_s: float) -> None:
        self._engine = engine
        self._url = url
        self._busy_timeout_s = busy_timeout_s
        self._writer = sessionmaker(engine, expire_on_commit=False)
        self._reader = sessionmaker(
            engine.execution_options(**{SQLITE_BEGIN: "DEFERRED"}), expire_on_commit=False
        )

    @property
    def url(self) -> str:
        """The database URL with the password masked."""
        return mask_url(self._url)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine; other records of the same database (the audit log) share it."""
        return self._engine

    @property
    def busy_timeout_s(self) -> float:
        """How long a write waits for a busy SQLite database."""
        return self._busy_timeout_s

    @property
    def backend(self) -> str:
        """`sqlite` or `postgresql`."""
        return self._engine.dialect.name

    def close(self) -> None:
        """Release every pooled connection."""
        self._engine.dispose()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- writes ---------------------------------------------------------------------------------

    def begin_run(self, run: Run) -> None:
        """Record that a run started; it stays `running` until finish_run or mark_interrupted."""
        row = RunRow(id=run.run_id, host=this_host(), pid=os.getpid())
        convert.fill_run_row(row, run)
        row.status = RunStatus.RUNNING.value
        row.finished_at = None
        try:
            with self._write(f"record run {run.run_id} in") as session:
                session.add(row)
        except StoreError as exc:
            if isinstance(exc.__cause__, IntegrityError):
                raise StoreError(
                    f"run {run.run_id} is already recorded in the run database {self.url}",
                    hint="give every run a fresh run_id (uuid4().hex)",
                ) from exc
            raise

    def finish_run(self, run: Run) -> None:
        """Write the final status, stages and findings of a run in one transaction."""
        with self._write(f"record run {run.run_id} in") as session:
            row = session.get(RunRow, run.run_id, with_for_update=True)
            if row is None:  # finish without begin: still record it whole
                row = RunRow(id=run.run_id, host=this_host(), pid=os.getpid())
                session.add(row)
            convert.fill_run_row(row, run)
            row.stages = [convert.stage_to_row(s, i) for i, s in enumerate(run.stages)]

    def mark_interrupted(self, run_id: str, reason: str) -> bool:
        """Mark a still-running run as `error` with `reason`; False if it had already ended."""
        with self._write(f"update run {run_id} in") as session:
            row = session.get(RunRow, run_id, with_for_update=True)
            if row is None or row.status != RunStatus.RUNNING.value:
                return False
            _mark_error(row, reason)
            return True

    def mark_stale_running(self, older_than_s: float = DEFAULT_STALE_AFTER_S) -> list[str]:
        """Mark `running` runs whose writer is gone as `error`; returns their ids.

        On this host a run is stale when its writer pid is dead. Runs begun on another host
        cannot be checked, so they count as stale once older than `older_than_s`.
        """
        host = this_host()
        cutoff = datetime.now(UTC) - timedelta(seconds=older_than_s)
        marked: list[str] = []
        with self._write("clean up") as session:
            query = select(RunRow).where(RunRow.status == RunStatus.RUNNING.value)
            for row in session.scalars(query.with_for_update()):
                if row.host == host:
                    if pid_alive(row.pid):
                        continue
                    reason = f"interrupted: suture process {row.pid} on {host} ended mid-run"
                elif row.started_at < cutoff:
                    reason = (
                        f"abandoned: still running after {older_than_s:g}s "
                        f"(writer {row.pid} on {row.host})"
                    )
                else:
                    continue
                _mark_error(row, reason)
                marked.append(row.id)
        return marked

    # -- reads ----------------------------------------------------------------------------------

    def get_run(self, ref: str) -> Run:
        """The run whose id is `ref` or starts with it, with stages, findings and logs."""
        ref = ref.strip()
        if not ref:
            raise UsageError("an empty run id matches no run", hint="`suture runs` lists run ids")
        with self._read("read") as session:
            row = session.get(RunRow, ref, options=[_FULL_STAGES])
            if row is None:  # ids are hex: accept a prefix typed in either case
                row = self._by_prefix(session, ref.lower())
            return convert.row_to_run(row, (convert.row_to_stage(s) for s in row.stages))

    def list_runs(self, limit: int = 20, status: RunStatus | str | None = None,
                  offset: int = 0) -> list[Run]:
        """Newest runs first, with stage summaries but without findings or logs."""
        if limit < 0 or offset < 0:
            raise UsageError(f"cannot list {limit} runs from {offset}",
                             hint="give a limit and an offset of 0 or more")
        query = (
            select(RunRow)
            .order_by(RunRow.started_at.desc(), RunRow.id.desc())
            .limit(limit)
            .offset(offset)
            .options(selectinload(RunRow.stages).options(defer(StageRow.log)))
        )
        if status is not None:
            query = query.where(RunRow.status == _run_status(status).value)
        with self._read("read") as session:
            rows = session.scalars(query)
            return [
                convert.row_to_run(r, (convert.row_to_stage(s, details=False) for s in r.stages))
                for r in rows
            ]

    def finished_between(self, since: datetime, until: datetime,
                         limit: int = 10_000) -> list[Run]:
        """Finished runs started in [since, until], oldest first, with findings but no logs.

        One query per table however many runs: compliance evidence reads a period's runs.
        """
        query = (
            select(RunRow)
            .where(RunRow.started_at >= since, RunRow.started_at <= until,
                   RunRow.status != RunStatus.RUNNING.value)
            .order_by(RunRow.started_at.desc(), RunRow.id.desc())
            .limit(limit)
            .options(selectinload(RunRow.stages).options(
                defer(StageRow.log), selectinload(StageRow.findings)))
        )
        with self._read("read") as session:
            rows = list(session.scalars(query))
            return [convert.row_to_run(r, (convert.row_to_stage(s, log=False) for s in r.stages))
                    for r in reversed(rows)]

    def count_runs(self, status: RunStatus | str | None = None) -> int:
        """How many runs are recorded (of one status, when given)."""
        query = select(func.count()).select_from(RunRow)
        if status is not None:
            query = query.where(RunRow.status == _run_status(status).value)
        with self._read("read") as session:
            return int(session.scalar(query) or 0)

    def last_passing_stage(self, name: str) -> StageResult | None:
        """The most recent stage called `name` that passed, from any run."""
        query = _newest_stage(name).where(StageRow.status == StageStatus.PASSED.value)
        return self._one_stage(query)

    def find_cached_stage(self, name: str, cache_key: str) -> StageResult | None:
        """The newest passed-or-failed stage `name` with this cache key (errors never cache)."""
        if not cache_key:
            return None
        query = _newest_stage(name).where(
            StageRow.cache_key == cache_key,
            StageRow.status.in_([StageStatus.PASSED.value, StageStatus.FAILED.value]),
        )
        return self._one_stage(query)

    # -- plumbing -------------------------------------------------------------------------------

    def last_passing_commit(self, stage: str, before: datetime) -> str | None:
        """The commit of the newest run before `before` in which `stage` passed."""
        query = (
            select(RunRow.commit)
            .join(StageRow, StageRow.run_id == RunRow.id)
            .where(StageRow.name == stage, StageRow.status == StageStatus.PASSED.value,
                   RunRow.started_at < before, RunRow.commit.is_not(None))
            .order_by(RunRow.started_at.desc())
            .limit(1)
        )
        with self._read("read") as session:
            return session.execute(query).scalar_one_or_none()

    def save_diagnoses(self, run_id: str, diagnoses: Sequence[Diagnosis],
                       calls: Sequence[LLMCall] = ()) -> None:
        """Replace a run's diagnoses and append the LLM calls made for them, in one transaction."""
        now = datetime.now(UTC)
        with self._write(f"record the diagnosis of run {run_id} in") as session:
            session.execute(delete(DiagnosisRow).where(DiagnosisRow.run_id == run_id))
            for i, d in enumerate(diagnoses):
                session.add(DiagnosisRow(
                    run_id=run_id, position=i, stage=d.stage, category=d.category.value,
                    engine=d.engine, created_at=now, payload=d.model_dump(mode="json"),
                ))
            for call in calls:
                session.add(LLMCallRow(
                    run_id=run_id, provider=call.provider, model=call.model,
                    outcome=call.outcome.value, started_at=call.started_at,
                    payload=call.model_dump(mode="json"),
                ))

    def get_diagnoses(self, run_id: str) -> list[Diagnosis]:
        """The stored diagnoses of a run, in stage order (empty when it was never diagnosed)."""
        query = (select(DiagnosisRow.payload).where(DiagnosisRow.run_id == run_id)
                 .order_by(DiagnosisRow.position))
        with self._read("read") as session:
            return [Diagnosis.model_validate(p) for p in session.execute(query).scalars()]

    def llm_calls(self, run_id: str) -> list[LLMCall]:
        """The recorded LLM calls of a run, oldest first."""
        query = (select(LLMCallRow.payload).where(LLMCallRow.run_id == run_id)
                 .order_by(LLMCallRow.id))
        with self._read("read") as session:
            return [LLMCall.model_validate(p) for p in session.execute(query).scalars()]

    def save_llm_calls(self, run_id: str, calls: Sequence[LLMCall]) -> None:
        """Append LLM calls made for a run outside a diagnosis (e.g. by `suture fix`)."""
        with self._write(f"record the LLM calls of run {run_id} in") as session:
            for call in calls:
                session.add(LLMCallRow(
                    run_id=run_id, provider=call.provider, model=call.model,
                    outcome=call.outcome.value, started_at=call.started_at,
                    payload=call.model_dump(mode="json"),
                ))

    def save_fix_attempts(self, run_id: str, attempts: Sequence[FixAttempt],
                          branch: str | None) -> None:
        """Append one `suture fix` session's attempts for a run, in one transaction."""
        now = datetime.now(UTC)
        with self._write(f"record the repair attempts of run {run_id} in") as session:
            for a in attempts:
                session.add(FixAttemptRow(
                    run_id=run_id, stage=a.stage, remedy=a.remedy, status=a.status.value,
                    branch=branch if a.commit else None, commit=a.commit, created_at=now,
                    payload=a.model_dump(mode="json"),
                ))

    def fix_attempts(self, run_id: str) -> list[FixAttempt]:
        """Every recorded repair attempt of a run, oldest first."""
        query = (select(FixAttemptRow.payload).where(FixAttemptRow.run_id == run_id)
                 .order_by(FixAttemptRow.id))
        with self._read("read") as session:
            return [FixAttempt.model_validate(p) for p in session.execute(query).scalars()]

    def _one_stage(self, query: Select[Any]) -> StageResult | None:
        with self._read("read") as session:
            row = session.scalars(query.options(selectinload(StageRow.findings))).first()
            return None if row is None else convert.row_to_stage(row)

    def _by_prefix(self, session: Session, prefix: str) -> RunRow:
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = (
            select(RunRow)
            .where(RunRow.id.like(f"{escaped}%", escape="\\"))
            .order_by(RunRow.started_at.desc())
            .limit(2)
            .options(_FULL_STAGES)
        )
        rows = list(session.scalars(query))
        if not rows:
            raise UsageError(
                f"no run {prefix!r} in the run database {self.url}",
                hint="`suture runs` lists the recorded runs and their ids",
            )
        if len(rows) > 1:
            raise UsageError(
                f"run id prefix {prefix!r} matches more than one run ({rows[0].id}, {rows[1].id})",
                hint="give more characters of the run id",
            )
        return rows[0]

    @contextmanager
    def _write(self, action: str) -> Iterator[Session]:
        with self._translate(action), self._writer.begin() as session:
            yield session

    @contextmanager
    def _read(self, action: str) -> Iterator[Session]:
        with self._translate(action), self._reader() as session:
            yield session

    def _translate(self, action: str) -> AbstractContextManager[None]:
        return self.translated(action)

    def translated(self, action: str) -> AbstractContextManager[None]:
        """Database failures inside the block become a StoreError naming `action` and the URL."""
        return translated_errors(self._url, action, self._busy_timeout_s)


def _run_status(value: RunStatus | str) -> RunStatus:
    try:
        return RunStatus(value)
    except ValueError:
        choices = ", ".join(s.value for s in RunStatus)
        raise UsageError(f"unknown run status {value!r}", hint=f"use one of: {choices}") from None


def _newest_stage(name: str) -> Select[Any]:
    return (
        select(StageRow)
        .join(RunRow, StageRow.run_id == RunRow.id)
        .where(StageRow.name == name)
        .order_by(RunRow.started_at.desc(), StageRow.id.desc())
        .limit(1)
    )


def _mark_error(row: RunRow, reason: str) -> None:
    now = datetime.now(UTC)
    row.status = RunStatus.ERROR.value
    row.error = convert.clean(reason)
    row.finished_at = now
    row.duration_s = max(0.0, (now - row.started_at).total_seconds())


def _alembic_error() -> type[Exception]:
    """Alembic's CommandError, imported only when a migration actually ran."""
    import sys

    module = sys.modules.get("alembic.util")
    return getattr(module, "CommandError", SQLAlchemyError) if module else SQLAlchemyError
