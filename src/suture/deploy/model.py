"""The records of a release: its risk, steps, the judge's verdicts, and the requests it saw."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import Field

from suture.model import Record

SCHEMA_VERSION = 1


class Strategy(StrEnum):
    """How a new version replaces the stable one; `auto` lets the release's risk decide."""

    AUTO = "auto"
    ROLLING = "rolling"
    CANARY = "canary"
    BLUE_GREEN = "blue-green"


class ReleaseStatus(StrEnum):
    """Where a release stands; `running` and `awaiting_approval` are the unfinished ones."""

    RUNNING = "running"
    AWAITING_APPROVAL = "awaiting_approval"
    PROMOTED = "promoted"
    ROLLED_BACK = "rolled_back"
    FAILED = "failed"


class Verdict(StrEnum):
    """The canary judge's answer for one look at the traffic."""

    PROMOTE = "promote"
    CONTINUE = "continue"
    ROLLBACK = "rollback"


class RiskLevel(StrEnum):
    """Risk bands that `strategy: auto` maps to rolling, canary and blue-green."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class RiskReason(Record):
    """One contribution to a release's risk score, in words a reviewer can check."""

    factor: str
    points: float
    detail: str


class Risk(Record):
    """A release's risk: score 0-100, its band, and every reason that added to it."""

    score: float = Field(ge=0, le=100)
    level: RiskLevel
    reasons: tuple[RiskReason, ...] = ()


@dataclass(frozen=True, slots=True)
class RequestSample:
    """One request the router forwarded: which version answered, when, how fast, what status.

    `status` 0 means the backend could not be reached or reset the connection (counted an error).
    `at` is seconds since the epoch, so samples from a router process line up with the controller.
    """

    version: str
    at: float
    latency_s: float
    status: int

    @property
    def is_error(self) -> bool:
        """5xx answers and failed connections are errors; 4xx are the client's doing."""
        return self.status == 0 or self.status >= 500


class Judgement(Record):
    """A verdict with the numbers that decided it and one sentence a person can read."""

    verdict: Verdict
    reason: str
    metrics: dict[str, float | int | str | None] = Field(default_factory=dict)


class Step(Record):
    """One step of a release: the new version's traffic weight and how the judge ruled on it."""

    index: int
    weight: int = Field(ge=0, le=100)
    verdict: Verdict | None = None
    reason: str = ""
    requests: int = 0
    metrics: dict[str, float | int | str | None] = Field(default_factory=dict)
    started_at: datetime | None = None
    ended_at: datetime | None = None


class Release(Record):
    """One deployment of a commit to an environment, from risk to promotion or rollback."""

    id: str
    env: str
    commit: str
    strategy: Strategy
    status: ReleaseStatus
    risk: Risk
    started_at: datetime
    ended_at: datetime | None = None
    mttr_s: float | None = None
    steps: tuple[Step, ...] = ()
    author: str | None = None
    actor: str = ""
    run_id: str | None = None
    stable_commit: str | None = None
    target: str = "local"
    approved_by: str | None = None
    approved_at: datetime | None = None
    first_bad_at: datetime | None = None
    decided_at: datetime | None = None
    restored_at: datetime | None = None
    error: str | None = None
