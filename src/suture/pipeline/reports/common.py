"""Small helpers every report format shares: status words, locations, durations, log tails."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from suture.model import Finding, Level, Run, RunStatus, StageResult, StageStatus

# Most severe first; reports list findings in this order.
LEVEL_RANK = {Level.ERROR: 0, Level.WARNING: 1, Level.NOTE: 2}
# Terminal colour and cursor sequences that tools leave in their logs.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")


def run_status(run: Run) -> str:
    """The run's verdict for reports: a run still marked `running` was interrupted, so `error`."""
    return RunStatus.ERROR.value if run.status is RunStatus.RUNNING else run.status.value


def utc_iso(moment: datetime) -> str:
    """ISO 8601 in UTC with a `Z` suffix; a naive datetime is taken to be UTC already."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def location(finding: Finding) -> str:
    """`path:line:column` with the parts that are known; empty when there is no path."""
    if not finding.path:
        return ""
    text = finding.path
    if finding.line is not None:
        text += f":{finding.line}"
        if finding.column is not None:
            text += f":{finding.column}"
    return text


def ordered(findings: tuple[Finding, ...] | list[Finding]) -> list[Finding]:
    """Findings most severe first, then by file and line, for people to read."""
    return sorted(
        findings, key=lambda f: (LEVEL_RANK[f.level], f.path or "\uffff", f.line or 0, f.rule_id)
    )


def duration(seconds: float) -> str:
    """A short human duration: `0.42s`, `12.3s`, `2m 05s`, `1h 02m`."""
    if seconds < 10:
        return f"{seconds:.2f}s"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def strip_ansi(text: str) -> str:
    """Text without terminal escape sequences, so logs read cleanly outside a terminal."""
    return _ANSI.sub("", text)


def log_tail(stage: StageResult, lines: int = 20) -> str:
    """The last `lines` lines of a stage's log, escape sequences removed."""
    kept = strip_ansi(stage.log).rstrip().splitlines()[-lines:]
    return "\n".join(kept)


def one_line(text: str, limit: int = 0) -> str:
    """Text folded onto one line (whitespace runs become one space), cut at `limit` if set."""
    flat = " ".join(text.split())
    if limit and len(flat) > limit:
        return flat[: max(limit - 1, 0)] + "…"
    return flat


def short_commit(commit: str | None) -> str:
    """The first 12 characters of a commit id, or `unknown`."""
    return commit[:12] if commit else "unknown"


def needs_attention(stage: StageResult) -> bool:
    """True for stages a reader must look at: failed or errored."""
    return stage.status in (StageStatus.FAILED, StageStatus.ERROR)
