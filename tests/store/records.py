"""Builders for realistic runs, stages and findings used across the store tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from suture.model import Finding, Level, Run, RunStatus, StageResult, StageStatus

T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


def finding(rule: str = "S105", path: str = "app/settings.py", line: int = 7) -> Finding:
    """A fully populated finding, every optional field set."""
    return Finding(
        rule_id=rule,
        level=Level.ERROR,
        message=f"Possible hardcoded password at {path}:{line}",
        tool="bandit",
        path=path,
        line=line,
        column=4,
        end_line=line + 1,
        cwe="CWE-259",
        fingerprint=f"{rule}:{path}:{line}",
        fix_hint="read the password from the environment",
        help_uri="https://bandit.readthedocs.io/en/latest/plugins/b105.html",
        snippet='PASSWORD = "hunter2"',
        baselined=line % 2 == 0,
    )


def stage(
    name: str = "security",
    status: StageStatus = StageStatus.FAILED,
    *,
    cache_key: str = "",
    findings: int = 2,
    log: str = "bandit -f json -r .\nran 12 files\n",
) -> StageResult:
    """A stage result with findings, metrics, a log and a tool version."""
    return StageResult(
        name=name,
        kind="bandit" if name == "security" else name,
        status=status,
        duration_s=1.25,
        cached=False,
        summary=f"{findings} issue(s)",
        findings=tuple(finding(line=i + 1) for i in range(findings)),
        metrics={"files": 12.0, "issues": float(findings)},
        tool_version="1.7.9",
        log=log,
        cache_key=cache_key,
    )


def run(
    *,
    started: datetime = T0,
    status: RunStatus = RunStatus.RUNNING,
    stages: tuple[StageResult, ...] = (),
    run_id: str | None = None,
) -> Run:
    """A run of /repo at a fixed commit; finished fields set when the status is final."""
    final = status != RunStatus.RUNNING
    return Run(
        run_id=run_id or uuid.uuid4().hex,
        status=status,
        root="/srv/repo",
        commit="3f2a9c1d4e5b6a7980112233445566778899aabb",
        branch="main",
        dirty=True,
        config_digest="sha256:" + "ab" * 32,
        started_at=started,
        finished_at=started + timedelta(seconds=42.5) if final else None,
        duration_s=42.5 if final else 0.0,
        suture_version="0.1.0",
        stages=stages,
        error=None,
    )


def finished(r: Run, status: RunStatus, *stages: StageResult) -> Run:
    """The same run, ended with `status` and these stages."""
    return r.model_copy(
        update={
            "status": status,
            "stages": stages,
            "finished_at": r.started_at + timedelta(seconds=42.5),
            "duration_s": 42.5,
        }
    )
