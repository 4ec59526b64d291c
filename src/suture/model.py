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


class Category(StrEnum):
    """What kind of root cause a diagnosis found."""

    REGRESSION = "regression"
    FLAKY_TEST = "flaky-test"
    MISSING_DEPENDENCY = "missing-dependency"
    VULNERABLE_DEPENDENCY = "vulnerable-dependency"
    INSECURE_CODE = "insecure-code"
    LINT = "lint"
    CONFIG_ERROR = "config-error"
    ENVIRONMENT = "environment"
    TEST_BUG = "test-bug"
    TIMEOUT = "timeout"
    UNKNOWN = "unknown"


class EvidenceKind(StrEnum):
    """What a piece of evidence is."""

    LOG = "log"
    CODE = "code"
    COMMIT = "commit"
    FINDING = "finding"
    TEST = "test"
    NOTE = "note"


class Evidence(Record):
    """One fact a why rests on: a log line, code at file:line, a commit, a finding, a test run."""

    kind: EvidenceKind
    text: str
    path: str | None = None
    line: int | None = None
    commit: str | None = None
    ref: str | None = None  # finding fingerprint or test id


class Why(Record):
    """One step of the 5-whys chain: a question, its answer, and what the answer rests on."""

    question: str
    answer: str
    evidence: tuple[Evidence, ...] = ()
    confidence: float = Field(default=1.0, ge=0, le=1)


class Diagnosis(Record):
    """Why one gate failed, down to a root cause a person can act on (or an escalation)."""

    stage: str
    category: Category
    root_cause: str
    culprit_commit: str | None = None
    chain: tuple[Why, ...] = ()
    confidence: float = Field(default=0.0, ge=0, le=1)
    remedies: tuple[str, ...] = ()
    escalated: bool = False
    engine: str = "offline"
    test_executions: int = 0


class AttemptStatus(StrEnum):
    """How one repair attempt ended."""

    ACCEPTED = "accepted"  # verified and committed on the fix branch
    REJECTED = "rejected"  # a candidate that failed a check; rolled back
    ESCALATED = "escalated"  # nothing tried fixed the gate: a person must look


class Check(Record):
    """One verification check on a candidate: its name, verdict and a one-line detail."""

    name: str
    passed: bool
    detail: str = ""


class FixAttempt(Record):
    """One remedy's candidate for one failed gate, or the escalation of that gate."""

    stage: str
    remedy: str
    status: AttemptStatus
    reason: str
    summary: str = ""
    commit: str | None = None
    files: tuple[str, ...] = ()
    diff: str = ""
    checks: tuple[Check, ...] = ()
    duration_s: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
