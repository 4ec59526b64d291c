"""The one place that turns records (`suture.model`) into table rows and back."""

from __future__ import annotations

import math
from collections.abc import Iterable

from suture.model import Finding, Level, Run, RunStatus, StageResult, StageStatus
from suture.proc import MAX_LOG_CHARS, clip
from suture.store.tables import FindingRow, RunRow, StageRow


def clean(text: str) -> str:
    """Text any backend takes: PostgreSQL rejects the NUL characters tools sometimes print."""
    return text.replace("\x00", "\ufffd")


def _clean_opt(text: str | None) -> str | None:
    return None if text is None else clean(text)


def fill_run_row(row: RunRow, run: Run) -> None:
    """Copy a run's own fields (not its stages) onto a row."""
    row.status = run.status.value
    row.root = run.root
    row.commit = run.commit
    row.branch = run.branch
    row.dirty = run.dirty
    row.config_digest = run.config_digest
    row.started_at = run.started_at
    row.finished_at = run.finished_at
    row.duration_s = run.duration_s
    row.suture_version = run.suture_version
    row.error = _clean_opt(run.error)


def stage_to_row(stage: StageResult, position: int) -> StageRow:
    """A stage and its findings as new rows; the log is clipped so a chatty tool stays bounded."""
    return StageRow(
        position=position,
        name=stage.name,
        kind=stage.kind,
        status=stage.status.value,
        duration_s=stage.duration_s,
        cached=stage.cached,
        summary=clean(stage.summary),
        metrics={k: _encode_number(v) for k, v in stage.metrics.items()},
        tool_version=stage.tool_version,
        log=clean(clip(stage.log, MAX_LOG_CHARS)),
        cache_key=stage.cache_key,
        findings=[finding_to_row(f, i) for i, f in enumerate(stage.findings)],
    )


def finding_to_row(finding: Finding, position: int) -> FindingRow:
    """One finding as a new row."""
    return FindingRow(
        position=position,
        rule_id=finding.rule_id,
        level=finding.level.value,
        message=clean(finding.message),
        tool=finding.tool,
        path=_clean_opt(finding.path),
        line=finding.line,
        column=finding.column,
        end_line=finding.end_line,
        cwe=finding.cwe,
        fingerprint=finding.fingerprint,
        fix_hint=_clean_opt(finding.fix_hint),
        help_uri=finding.help_uri,
        snippet=_clean_opt(finding.snippet),
        baselined=finding.baselined,
    )


def row_to_run(row: RunRow, stages: Iterable[StageResult]) -> Run:
    """A run record from its row and already-converted stages."""
    return Run(
        run_id=row.id,
        status=RunStatus(row.status),
        root=row.root,
        commit=row.commit,
        branch=row.branch,
        dirty=row.dirty,
        config_digest=row.config_digest,
        started_at=row.started_at,
        finished_at=row.finished_at,
        duration_s=row.duration_s,
        suture_version=row.suture_version,
        stages=tuple(stages),
        error=row.error,
    )


def row_to_stage(row: StageRow, *, details: bool = True, log: bool = True) -> StageResult:
    """A stage record; without `details` its findings and log are left empty (and not loaded),
    without `log` only the log is."""
    return StageResult(
        name=row.name,
        kind=row.kind,
        status=StageStatus(row.status),
        duration_s=row.duration_s,
        cached=row.cached,
        summary=row.summary,
        findings=tuple(row_to_finding(f) for f in row.findings) if details else (),
        metrics={k: _decode_number(v) for k, v in (row.metrics or {}).items()},
        tool_version=row.tool_version,
        log=row.log if details and log else "",
        cache_key=row.cache_key,
    )


def row_to_finding(row: FindingRow) -> Finding:
    """A finding record from its row."""
    return Finding(
        rule_id=row.rule_id,
        level=Level(row.level),
        message=row.message,
        tool=row.tool,
        path=row.path,
        line=row.line,
        column=row.column,
        end_line=row.end_line,
        cwe=row.cwe,
        fingerprint=row.fingerprint,
        fix_hint=row.fix_hint,
        help_uri=row.help_uri,
        snippet=row.snippet,
        baselined=row.baselined,
    )


def _encode_number(value: float) -> float | str:
    # JSON (and PostgreSQL's jsonb) has no NaN/Infinity; keep them as their float() spelling.
    return value if math.isfinite(value) else repr(float(value))


def _decode_number(value: float | str) -> float:
    return float(value)
