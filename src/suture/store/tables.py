"""The run database schema: SQLAlchemy 2 typed declarative tables for runs, stages and findings."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Alembic's bookkeeping table; prefixed so suture can share a database with another app's Alembic.
VERSION_TABLE = "suture_alembic_version"


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every backend (SQLite stores naive text, so we re-attach UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Normalise to UTC; naive values are taken to be UTC already, as the design mandates."""
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        # SQLite has no time zones; stored naive UTC text also sorts correctly.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return aware UTC whatever the server's session time zone is."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONDoc = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    """Declarative base for the store's tables."""


class RunRow(Base):
    """One pipeline run; `host`/`pid` name the writer so dead `running` runs can be found."""

    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    root: Mapped[str] = mapped_column(Text)
    commit: Mapped[str | None] = mapped_column(String(64))
    branch: Mapped[str | None] = mapped_column(Text)
    dirty: Mapped[bool] = mapped_column(Boolean, default=False)
    config_digest: Mapped[str] = mapped_column(String(128), default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    suture_version: Mapped[str] = mapped_column(String(64), default="")
    error: Mapped[str | None] = mapped_column(Text)
    host: Mapped[str] = mapped_column(String(255), default="")
    pid: Mapped[int] = mapped_column(Integer, default=0)

    stages: Mapped[list[StageRow]] = relationship(
        back_populates="run",
        cascade="all, delete-orphan",
        order_by="StageRow.position",
        passive_deletes=True,
    )

    __table_args__ = (
        Index("ix_runs_started_at", "started_at"),
        Index("ix_runs_status_started_at", "status", "started_at"),
        Index("ix_runs_status_duration", "status", "duration_s"),
    )


class StageRow(Base):
    """The result of one gate within one run."""

    __tablename__ = "stages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    cached: Mapped[bool] = mapped_column(Boolean, default=False)
    summary: Mapped[str] = mapped_column(Text, default="")
    metrics: Mapped[dict[str, float]] = mapped_column(JSONDoc, default=dict)
    tool_version: Mapped[str] = mapped_column(String(128), default="")
    log: Mapped[str] = mapped_column(Text, default="")
    cache_key: Mapped[str] = mapped_column(String(128), default="")

    run: Mapped[RunRow] = relationship(back_populates="stages")
    findings: Mapped[list[FindingRow]] = relationship(
        back_populates="stage",
        cascade="all, delete-orphan",
        order_by="FindingRow.position",
        passive_deletes=True,
    )

    __table_args__ = (
        Index("ix_stages_run_id", "run_id"),
        Index("ix_stages_name_status", "name", "status"),
        Index("ix_stages_name_cache_key", "name", "cache_key"),
        # Covering: the exporter sums durations per gate without reading rows (and their logs).
        Index("ix_stages_name_status_duration", "name", "status", "duration_s"),
    )


class FindingRow(Base):
    """One finding of one stage; every field of `suture.model.Finding`."""

    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    rule_id: Mapped[str] = mapped_column(String(255))
    level: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    tool: Mapped[str] = mapped_column(String(128))
    path: Mapped[str | None] = mapped_column(Text)
    line: Mapped[int | None] = mapped_column(Integer)
    column: Mapped[int | None] = mapped_column(Integer)
    end_line: Mapped[int | None] = mapped_column(Integer)
    cwe: Mapped[str | None] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(255), default="")
    fix_hint: Mapped[str | None] = mapped_column(Text)
    help_uri: Mapped[str | None] = mapped_column(Text)
    snippet: Mapped[str | None] = mapped_column(Text)
    baselined: Mapped[bool] = mapped_column(Boolean, default=False)

    stage: Mapped[StageRow] = relationship(back_populates="findings")

    __table_args__ = (
        Index("ix_findings_stage_id", "stage_id"),
        Index("ix_findings_fingerprint", "fingerprint"),
    )


class DiagnosisRow(Base):
    """One diagnosis of one failed stage of a run; the typed record is kept whole as JSON."""

    __tablename__ = "diagnoses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    stage: Mapped[str] = mapped_column(String(255))
    category: Mapped[str] = mapped_column(String(64))
    engine: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    payload: Mapped[dict] = mapped_column(JSONDoc)

    __table_args__ = (Index("ix_diagnoses_run_id", "run_id"),)


class LLMCallRow(Base):
    """One request to an LLM provider: who, which model, the redacted prompt's digest, cost."""

    __tablename__ = "llm_calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(255))
    outcome: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    payload: Mapped[dict] = mapped_column(JSONDoc)

    __table_args__ = (Index("ix_llm_calls_run_id", "run_id"),)


class FixAttemptRow(Base):
    """One repair candidate of `suture fix` (accepted, rejected) or a gate's escalation."""

    __tablename__ = "fix_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(255))
    remedy: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32))
    branch: Mapped[str | None] = mapped_column(String(255), nullable=True)
    commit: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    payload: Mapped[dict] = mapped_column(JSONDoc)

    __table_args__ = (Index("ix_fix_attempts_run_id", "run_id"),
                      Index("ix_fix_attempts_created_at", "created_at"))


# 64-bit everywhere; spelled INTEGER on SQLite so seq is the rowid and seq order is a table scan.
AuditSeq = BigInteger().with_variant(Integer(), "sqlite")


class AuditEventRow(Base):
    """One event of the hash-chained audit log (see suture.audit); rows are never changed.

    `payload` is the canonical JSON text itself, byte for byte what `payload_digest` covers.
    """

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(AuditSeq, primary_key=True, autoincrement=False)
    time: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)
    payload_digest: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_audit_events_time", "time"),
        Index("ix_audit_events_action", "action"),
        Index("ix_audit_events_subject", "subject"),
    )


class AuditCheckpointRow(Base):
    """An Ed25519 signature over the audit chain's head hash at `seq`."""

    __tablename__ = "audit_checkpoints"

    seq: Mapped[int] = mapped_column(AuditSeq, primary_key=True, autoincrement=False)
    head_hash: Mapped[str] = mapped_column(String(64))
    time: Mapped[str] = mapped_column(String(32))
    key_id: Mapped[str] = mapped_column(String(16))
    signature: Mapped[str] = mapped_column(String(128))


# A partial unique index: at most one unfinished release per environment, on both backends, so
# two `suture deploy` processes racing for one environment cannot both win.
_ACTIVE_CLAUSE = text("status IN ('running', 'awaiting_approval')")


class ReleaseRow(Base):
    """One release of `suture deploy`; the full record (steps, risk reasons) is in `payload`."""

    __tablename__ = "releases"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    env: Mapped[str] = mapped_column(String(128))
    commit: Mapped[str] = mapped_column(String(64))
    strategy: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32))
    risk_score: Mapped[float] = mapped_column(Float)
    risk_level: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    mttr_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    author: Mapped[str | None] = mapped_column(Text, nullable=True)
    actor: Mapped[str] = mapped_column(Text)
    run_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    payload: Mapped[dict] = mapped_column(JSONDoc)

    __table_args__ = (
        Index("ix_releases_env_started", "env", "started_at"),
        Index("ix_releases_started", "started_at"),
        Index("ux_releases_active_env", "env", unique=True,
              sqlite_where=_ACTIVE_CLAUSE, postgresql_where=_ACTIVE_CLAUSE),
    )


class ApprovalRow(Base):
    """A person's decision on a release that policy holds for approval."""

    __tablename__ = "approvals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    release_id: Mapped[str] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"))
    approver: Mapped[str] = mapped_column(Text)
    decision: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_approvals_release_id", "release_id"),)


class DeployEventRow(Base):
    """A timed event of a release (started, step, promoted, rolled back): the raw data of DORA."""

    __tablename__ = "deploy_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    release_id: Mapped[str] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"))
    env: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    payload: Mapped[dict] = mapped_column(JSONDoc)

    __table_args__ = (
        Index("ix_deploy_events_release_id", "release_id"),
        Index("ix_deploy_events_at", "at"),
    )


# Names are unique among tokens that were never revoked; an expired token's name is freed by
# `TokenStore.create`, which retires it first (see suture.store.tokens).
_LIVE_TOKEN_CLAUSE = text("revoked_at IS NULL")


class TokenRow(Base):
    """An API token of `suture serve`: its role and the SHA-256 of its secret, never the secret."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_by: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        Index("ux_api_tokens_live_name", "name", unique=True,
              sqlite_where=_LIVE_TOKEN_CLAUSE, postgresql_where=_LIVE_TOKEN_CLAUSE),
    )
