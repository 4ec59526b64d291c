"""The plain-text report: a summary table to paste into a bug report, then new findings."""

from __future__ import annotations

from suture.model import Run, StageResult, StageStatus
from suture.pipeline.reports.common import (
    duration,
    location,
    log_tail,
    one_line,
    ordered,
    run_status,
    short_commit,
    utc_iso,
)

_HEADERS = ("gate", "kind", "status", "new", "total", "time", "cached", "summary")
_RIGHT = {"new", "total", "time"}


def render_text(run: Run) -> str:
    """The run as plain text without colour or box-drawing characters."""
    lines = [*_header(run), "", *_table(run)]
    new = [s for s in run.stages if s.new_findings]
    if new:
        total = sum(len(s.new_findings) for s in new)
        lines += ["", f"New findings ({total})"]
        for stage in new:
            lines += ["", *_findings(stage)]
    errored = [s for s in run.stages if s.status is StageStatus.ERROR]
    if errored:
        lines += ["", "Gate errors"]
        for stage in errored:
            lines += ["", *_error(stage)]
    return "\n".join(lines) + "\n"


def _header(run: Run) -> list[str]:
    where = short_commit(run.commit)
    extras = [x for x in (run.branch, "uncommitted changes" if run.dirty else "") if x]
    if extras:
        where += f" ({', '.join(extras)})"
    lines = [
        f"suture run {run.run_id}: {run_status(run).upper()}",
        f"commit    {where}",
        f"started   {utc_iso(run.started_at)}   duration {duration(run.duration_s)}"
        + (f"   suture {run.suture_version}" if run.suture_version else ""),
    ]
    if run.error:
        lines.append(f"error     {one_line(run.error)}")
    return lines


def _table(run: Run) -> list[str]:
    rows = [
        (s.name, s.kind, s.status.value, str(len(s.new_findings)), str(len(s.findings)),
         duration(s.duration_s), "yes" if s.cached else "no", one_line(s.summary, 100))
        for s in run.stages
    ]
    if not rows:
        return ["(no gates ran)"]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(_HEADERS)]

    def fmt(cells: tuple[str, ...]) -> str:
        padded = zip(cells, widths, _HEADERS, strict=True)
        return "  ".join(c.rjust(w) if h in _RIGHT else c.ljust(w) for c, w, h in padded).rstrip()

    return [fmt(_HEADERS), fmt(tuple("-" * w for w in widths)), *(fmt(r) for r in rows)]


def _findings(stage: StageResult) -> list[str]:
    label = f"{stage.name}: {len(stage.new_findings)} new"
    if stage.tool_version:
        label += f" ({stage.tool_version})"
    lines = [label]
    pad = " " * 11
    for f in ordered(stage.new_findings):
        where = location(f) or "(no file)"
        lines.append(f"  {f.level.value:<8} {where}  {f.rule_id}"
                     + (f" [{f.cwe}]" if f.cwe else ""))
        lines += [pad + line for line in f.message.strip().splitlines() or [""]]
        if f.fix_hint:
            lines.append(pad + "fix: " + one_line(f.fix_hint))
    return lines


def _error(stage: StageResult) -> list[str]:
    lines = [f"{stage.name}: {one_line(stage.summary) or 'the tool could not reach a verdict'}"]
    tail = log_tail(stage)
    lines += ["  | " + line for line in tail.splitlines()]
    return lines
