"""Evaluate a pack over a period of runs and the audit log; render the result as JSON or HTML."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import jinja2
from pydantic import BaseModel, ConfigDict

from suture import __version__
from suture.compliance.evidence import REGISTRY, EvidenceContext, QueryResult, Status
from suture.compliance.packs import Control, Evidence, Pack
from suture.errors import SutureError

SCHEMA_VERSION = 1
_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,  # reasons quote tool output and audit payloads: always escape
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EvidenceResult(_Frozen):
    """One query's result inside a control."""

    query: str
    params: dict[str, object]
    result: QueryResult


class ControlResult(_Frozen):
    """A control's status, the reason, and each query's result behind it."""

    id: str
    title: str
    description: str
    status: Status
    reason: str
    evidence: tuple[EvidenceResult, ...]


class AuditSummary(_Frozen):
    """The audit chain verification that every report carries."""

    ok: bool
    events: int
    checkpoints: int
    problem: str | None


class Score(_Frozen):
    """Satisfied controls out of applicable ones (applicable: not n/a, not manual)."""

    satisfied: int
    applicable: int
    percent: float | None


class Report(_Frozen):
    """A compliance report: what was checked, over which period, and what it found."""

    schema_version: int
    pack_id: str
    pack_title: str
    pack_version: str
    pack_source: str
    period_start: datetime
    period_end: datetime
    generated_at: datetime
    suture_version: str
    root: str
    runs: int
    score: Score
    audit: AuditSummary
    controls: tuple[ControlResult, ...]

    @property
    def passed(self) -> bool:
        """True when at least one control applied and every applicable control is satisfied."""
        return self.score.applicable > 0 and self.score.satisfied == self.score.applicable


def run_query(ref: Evidence, ctx: EvidenceContext) -> QueryResult:
    """Run one query; any failure to read the data is an `error` result, never a pass."""
    query = REGISTRY[ref.query]
    try:
        return query.fn(query.params.model_validate(ref.params), ctx)
    except SutureError as exc:
        return QueryResult(status=Status.ERROR, reason=f"{ref.query} failed: {exc.message}")


def evaluate_control(control: Control, ctx: EvidenceContext) -> ControlResult:
    """A control is satisfied only when every query is (n/a queries aside) and one at least is."""
    base = {"id": control.id, "title": control.title, "description": control.description}
    if control.applies_if is not None:
        gate = run_query(control.applies_if, ctx)
        if gate.status != Status.SATISFIED:
            return ControlResult(**base, status=Status.NOT_APPLICABLE,
                                 reason=f"does not apply: {gate.reason}",
                                 evidence=(_wrap(control.applies_if, gate),))
    results = tuple(_wrap(ref, run_query(ref, ctx)) for ref in control.evidence)
    if not results:
        return ControlResult(**base, status=Status.MANUAL, reason=control.manual or "manual",
                             evidence=())
    statuses = [r.result.status for r in results]
    for worst in (Status.NOT_SATISFIED, Status.ERROR):
        if worst in statuses:
            reason = "; ".join(r.result.reason for r in results if r.result.status == worst)
            return ControlResult(**base, status=worst, reason=reason, evidence=results)
    if all(s == Status.NOT_APPLICABLE for s in statuses):
        reason = "; ".join(r.result.reason for r in results)
        return ControlResult(**base, status=Status.NOT_APPLICABLE, reason=reason,
                             evidence=results)
    reason = "; ".join(r.result.reason for r in results if r.result.status == Status.SATISFIED)
    if control.manual:
        reason += f" (also needs manual review: {control.manual})"
    return ControlResult(**base, status=Status.SATISFIED, reason=reason, evidence=results)


def _wrap(ref: Evidence, result: QueryResult) -> EvidenceResult:
    return EvidenceResult(query=ref.query, params=dict(ref.params), result=result)


def evaluate(pack: Pack, ctx: EvidenceContext, now: datetime) -> Report:
    """Evaluate every control of `pack` and verify the audit chain."""
    controls = tuple(evaluate_control(c, ctx) for c in pack.controls)
    try:
        v = ctx.verify()
        p = v.problem
        audit = AuditSummary(ok=v.ok, events=v.events, checkpoints=v.checkpoints,
                             problem=None if p is None else f"event {p.seq}: {p.kind.value}: "
                             f"{p.detail}")
    except SutureError as exc:
        audit = AuditSummary(ok=False, events=0, checkpoints=0, problem=exc.message)
    applicable = [c for c in controls
                  if c.status not in (Status.NOT_APPLICABLE, Status.MANUAL)]
    satisfied = sum(1 for c in applicable if c.status == Status.SATISFIED)
    percent = round(100 * satisfied / len(applicable), 1) if applicable else None
    return Report(
        schema_version=SCHEMA_VERSION, pack_id=pack.id, pack_title=pack.title,
        pack_version=pack.version, pack_source=pack.source, period_start=ctx.since,
        period_end=ctx.until, generated_at=now, suture_version=__version__,
        root=str(ctx.root), runs=len(ctx.runs()),
        score=Score(satisfied=satisfied, applicable=len(applicable), percent=percent),
        audit=audit, controls=controls,
    )


def render_json(report: Report) -> str:
    """The report as indented JSON (carries `schema_version`)."""
    return json.dumps(report.model_dump(mode="json"), indent=2) + "\n"


def render_html(report: Report) -> str:
    """The report as one self-contained HTML page (inline CSS, no scripts, no external links)."""
    return _ENV.get_template("report.html.j2").render(r=report, passed=report.passed)
