"""The HTML report: one self-contained page (inline CSS, no scripts, no external resources)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import jinja2

from suture.model import Finding, Run, StageResult, StageStatus
from suture.pipeline.reports.common import (
    duration,
    location,
    log_tail,
    needs_attention,
    ordered,
    run_status,
    short_commit,
    utc_iso,
)

TEMPLATE = "report.html.j2"
_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    # Every message, path and log line comes from tools run on user code: always escape.
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class FindingView:
    """One finding as the template shows it."""

    level: str
    rule_id: str
    cwe: str | None
    tool: str
    location: str
    message: str
    fix_hint: str | None
    help_url: str | None
    snippet: str | None


@dataclass(frozen=True)
class StageView:
    """One gate as the template shows it."""

    anchor: str
    name: str
    kind: str
    status: str
    duration: str
    cached: bool
    summary: str
    tool_version: str
    new: list[FindingView]
    baselined: list[FindingView]
    total: int
    log_tail: str
    open: bool


@dataclass(frozen=True)
class PageView:
    """The whole page: run header, totals and gates."""

    run_id: str
    status: str
    commit: str
    commit_full: str
    branch: str | None
    dirty: bool
    started_at: str
    duration: str
    suture_version: str
    error: str | None
    stages: list[StageView]
    new_total: int
    baselined_total: int
    failing: int


def render_html(run: Run) -> str:
    """The run as a standalone HTML page a person opens in a browser."""
    return _ENV.get_template(TEMPLATE).render(page=page_view(run))


def page_view(run: Run) -> PageView:
    """What the template needs, computed once in Python rather than in template logic."""
    stages = [_stage(i, s) for i, s in enumerate(run.stages)]
    return PageView(
        run_id=run.run_id,
        status=run_status(run),
        commit=short_commit(run.commit),
        commit_full=run.commit or "",
        branch=run.branch,
        dirty=run.dirty,
        started_at=utc_iso(run.started_at).replace("T", " ").replace("Z", " UTC"),
        duration=duration(run.duration_s),
        suture_version=run.suture_version,
        error=run.error,
        stages=stages,
        new_total=sum(len(s.new) for s in stages),
        baselined_total=sum(len(s.baselined) for s in stages),
        failing=sum(1 for s in run.stages if needs_attention(s)),
    )


def _stage(index: int, stage: StageResult) -> StageView:
    findings = ordered(stage.findings)
    return StageView(
        anchor=f"gate-{index}",
        name=stage.name,
        kind=stage.kind,
        status=stage.status.value,
        duration=duration(stage.duration_s),
        cached=stage.cached,
        summary=stage.summary,
        tool_version=stage.tool_version,
        new=[_finding(f) for f in findings if not f.baselined],
        baselined=[_finding(f) for f in findings if f.baselined],
        total=len(findings),
        log_tail=log_tail(stage, 40) if stage.status is StageStatus.ERROR else "",
        open=needs_attention(stage),
    )


def _finding(f: Finding) -> FindingView:
    return FindingView(
        level=f.level.value,
        rule_id=f.rule_id,
        cwe=f.cwe,
        tool=f.tool,
        location=location(f),
        message=f.message,
        fix_hint=f.fix_hint,
        help_url=safe_url(f.help_uri),
        snippet=f.snippet.rstrip("\n") if f.snippet else None,
    )


def safe_url(url: str | None) -> str | None:
    """The URL if it is http(s); anything else (javascript:, data:) is not made a link."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None
