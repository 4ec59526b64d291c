"""The shared records that cross boundaries: findings, stage results and runs."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1


class Level(StrEnum):
    """Severity of a finding, the SARIF `level` vocabulary."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


class StageStatus(StrEnum):
    """How one gate ended."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"


class RunStatus(StrEnum):
    """How a whole run ended; `running` only while it is in progress (or was interrupted)."""

    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"


class Record(BaseModel):
    """Base of every record: immutable, strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Finding(Record):
    """One problem a gate found, shaped like a SARIF result."""

    rule_id: str
    level: Level
    message: str
    tool: str
    path: str | None = None
    line: int | None = None
    column: int | None = None
    end_line: int | None = None
    cwe: str | None = None
    fingerprint: str = ""
    fix_hint: str | None = None
    help_uri: str | None = None
    snippet: str | None = None
    baselined: bool = False


class StageResult(Record):
    """The outcome of one gate in one run."""

    name: str
    kind: str
    status: StageStatus
    duration_s: float = 0.0
    cached: bool = False
    summary: str = ""
    findings: tuple[Finding, ...] = ()
    metrics: dict[str, float] = Field(default_factory=dict)
    tool_version: str = ""
    log: str = ""
    cache_key: str = ""

    @property
    def new_findings(self) -> tuple[Finding, ...]:
        """Findings not accepted by the baseline."""
        return tuple(f for f in self.findings if not f.baselined)


class Run(Record):
    """One execution of the gate pipeline on one repository state."""

    run_id: str
    status: RunStatus
    root: str
    commit: str | None = None
    branch: str | None = None
    dirty: bool = False
    config_digest: str = ""
    started_at: datetime
    finished_at: datetime | None = None
    duration_s: float = 0.0
    suture_version: str = ""
    stages: tuple[StageResult, ...] = ()
    error: str | None = None

    @property
    def tool_versions(self) -> dict[str, str]:
        """Stage name -> tool version for every stage that reported one."""
        return {s.name: s.tool_version for s in self.stages if s.tool_version}
