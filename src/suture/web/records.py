"""The typed records the dashboard's pages and the REST API both render (schema_version 1)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from suture.deploy.model import Release
from suture.metrics import Bucket, Metrics
from suture.model import Diagnosis, FixAttempt, Run, RunStatus

SCHEMA_VERSION = 1
T = TypeVar("T")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Page(_Frozen, Generic[T]):
    """One page of a long list; `next_offset` is None on the last page."""

    schema_version: int = SCHEMA_VERSION
    items: list[T]
    total: int
    offset: int
    limit: int
    next_offset: int | None = None


class RunSummary(_Frozen):
    """A run in a list: enough to pick it out (status, commit, when, how long, what failed)."""

    run_id: str
    status: RunStatus
    commit: str | None
    branch: str | None
    started_at: datetime
    duration_s: float
    stages: int
    failed: list[str]
    error: str | None = None


class Context(_Frozen):
    """A finding's surrounding source lines, read from the run's commit."""

    path: str
    first_line: int
    lines: list[str]
    highlight: int
    source: str


class RunDetail(_Frozen):
    """A run with everything the detail page shows: gates, findings, whys and fixes."""

    schema_version: int = SCHEMA_VERSION
    run: Run
    diagnoses: list[Diagnosis]
    fixes: list[FixAttempt]


class ApprovalView(_Frozen):
    """One person's decision on a release."""

    approver: str
    decision: str
    comment: str
    at: datetime


class EventView(_Frozen):
    """A timed event of a release."""

    kind: str
    at: datetime
    payload: dict[str, Any]


class ReleaseDetail(_Frozen):
    """A release with its approvals and its timeline."""

    schema_version: int = SCHEMA_VERSION
    release: Release
    approvals: list[ApprovalView]
    events: list[EventView]


class Pending(_Frozen):
    """A release awaiting approval and the decisions taken so far (its deploy acts on them)."""

    release: Release
    approvals: list[ApprovalView]

    @property
    def decided(self) -> bool:
        """True once someone approved or rejected it; its deploy has yet to notice."""
        return bool(self.approvals)


class AuditEventView(_Frozen):
    """One audit event as shown and served."""

    seq: int
    time: str
    actor: str
    action: str
    subject: str
    payload: Any
    hash: str


class ChainView(_Frozen):
    """The last verification of the audit chain (verified in the background)."""

    ok: bool | None
    events: int
    checked_at: datetime | None
    problem: str | None


class AuditPage(_Frozen):
    """Recent audit events, newest first, and the chain's status."""

    schema_version: int = SCHEMA_VERSION
    events: list[AuditEventView]
    next_before: int | None
    chain: ChainView


class Overview(_Frozen):
    """What the overview page shows: the period's numbers and their trend."""

    schema_version: int = SCHEMA_VERSION
    metrics: Metrics
    trend: list[Bucket]
    environments: list[str]
    computed_at: datetime


class Decision(_Frozen):
    """The answer to an approve or reject."""

    schema_version: int = SCHEMA_VERSION
    release_id: str
    decision: str
    approver: str
    at: datetime


class Health(_Frozen):
    """`/healthz`: the process is up; `database` says whether the store answers."""

    status: str
    database: str
    detail: str | None = None


class Stamp(_Frozen):
    """What changed last: the newest run and release, approvals waiting, the audit head."""

    run: str | None
    release: str | None
    pending: int
    audit_seq: int
