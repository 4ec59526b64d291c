"""The evidence queries: named checks over the run store and the audit log, in one registry.

Each query takes validated params and an `EvidenceContext` and returns a `QueryResult`. A query
never reports `satisfied` for something it did not check: no data is `not_satisfied` (or
`not_applicable` where the absence itself means the control has nothing to cover), and a failure
to read the data is `error`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field

from suture.audit import AuditEvent, AuditLog, VerifyResult
from suture.deploy.approvals import same_person
from suture.deploy.model import Release, ReleaseStatus
from suture.errors import SutureError
from suture.model import AttemptStatus, Run, RunStatus, StageResult, StageStatus
from suture.store import RunStore
from suture.store.releases import ReleaseStore

MAX_RUNS = 10_000
MAX_REFS = 20  # references kept per result: enough to find the evidence, not a data dump
_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_P = TypeVar("_P", bound=BaseModel)


class Status(StrEnum):
    """What a query (or a control) concluded."""

    SATISFIED = "satisfied"
    NOT_SATISFIED = "not_satisfied"
    NOT_APPLICABLE = "not_applicable"
    ERROR = "error"
    MANUAL = "manual"  # controls only: suture cannot evidence it; a person must


class QueryResult(BaseModel):
    """A query's verdict, a one-line reason, and references to the evidence it looked at."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: Status
    reason: str
    runs: tuple[str, ...] = ()
    audit_seqs: tuple[int, ...] = ()
    counts: dict[str, int] = Field(default_factory=dict)


class NoParams(BaseModel):
    """A query that takes no params."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class GateParams(NoParams):
    """Which gates: every stage of `kind`, or only the one called `name`."""

    kind: str = Field(min_length=1)
    name: str | None = None


class CoverageParams(NoParams):
    """The least total coverage (percent) the tests gate must report."""

    min: float = Field(ge=0, le=100)


class TraceParams(NoParams):
    """Whether runs on a tree with uncommitted changes count as traceable."""

    allow_dirty: bool = False


@dataclass
class EvidenceContext:
    """The data a report is evaluated on: runs started in [since, until] and the audit log."""

    store: RunStore
    log: AuditLog
    root: Path
    since: datetime
    until: datetime
    _runs: list[Run] | None = field(default=None, repr=False)
    _verify: VerifyResult | SutureError | None = field(default=None, repr=False)

    def runs(self) -> list[Run]:
        """Finished runs in the period, oldest first, with findings (read once)."""
        if self._runs is None:
            self._runs = self.store.finished_between(self.since, self.until, limit=MAX_RUNS)
        return self._runs

    def use_verification(self, result: VerifyResult) -> None:
        """Take a verification done elsewhere (the dashboard's background check) as this one's."""
        self._verify = result

    def verify(self) -> VerifyResult:
        """The audit chain verification, done once per report (re-raises a key problem)."""
        if self._verify is None:
            try:
                self._verify = self.log.verify()
            except SutureError as exc:
                self._verify = exc
        if isinstance(self._verify, SutureError):
            raise self._verify
        return self._verify

    def events(self, *actions: str) -> list[AuditEvent]:
        """Audit events of these actions recorded in the period, oldest first."""
        return [e for e in self.log.events(since=self.since, actions=actions, newest_first=False)
                if e.timestamp <= self.until]


QueryFn = Callable[[BaseModel, EvidenceContext], QueryResult]


@dataclass(frozen=True)
class Query:
    """A registered query: its function, the params it accepts and what it checks."""

    name: str
    params: type[BaseModel]
    description: str
    fn: QueryFn


def _short(run: Run) -> str:
    return run.run_id[:12]


def _matching(run: Run, p: GateParams) -> list[StageResult]:
    return [s for s in run.stages if s.kind == p.kind and (p.name is None or s.name == p.name)]


def _gate_label(p: GateParams) -> str:
    return f"{p.kind} gate" + (f" {p.name!r}" if p.name else "")


def _no_runs(ctx: EvidenceContext) -> QueryResult:
    return QueryResult(status=Status.NOT_SATISFIED,
                       reason=f"no finished runs since {ctx.since:%Y-%m-%d %H:%M} UTC: "
                       "nothing to evidence it with")


def _ran(stages: list[StageResult]) -> list[StageResult]:
    return [s for s in stages if s.status != StageStatus.SKIPPED]


def gate_passed_in_every_run(params: BaseModel, ctx: EvidenceContext) -> QueryResult:
    """Every run in the period ran the gate, and the latest run's gate passed."""
    p = _as(params, GateParams)
    runs = ctx.runs()
    if not runs:
        return _no_runs(ctx)
    missing = [r for r in runs if not _ran(_matching(r, p))]
    last = runs[-1]
    failed = [s for s in _ran(_matching(last, p)) if s.status != StageStatus.PASSED]
    counts = {"runs": len(runs), "runs_without_gate": len(missing)}
    if missing:
        return QueryResult(status=Status.NOT_SATISFIED, counts=counts,
                           runs=tuple(_short(r) for r in missing[:MAX_REFS]),
                           reason=f"{len(missing)} of {len(runs)} runs did not run the "
                           f"{_gate_label(p)}")
    if failed:
        names = ", ".join(f"{s.name} {s.status}" for s in failed)
        return QueryResult(status=Status.NOT_SATISFIED, counts=counts, runs=(_short(last),),
                           reason=f"the latest run's {_gate_label(p)} did not pass ({names})")
    return QueryResult(status=Status.SATISFIED, counts=counts,
                       runs=(_short(runs[0]), _short(last)) if len(runs) > 1 else (_short(last),),
                       reason=f"all {len(runs)} runs ran the {_gate_label(p)}; "
                       "the latest passed")


def gate_ran(params: BaseModel, ctx: EvidenceContext) -> QueryResult:
    """Some run in the period ran the gate (used as `applies_if`)."""
    p = _as(params, GateParams)
    hits = [r for r in ctx.runs() if _ran(_matching(r, p))]
    if not hits:
        return QueryResult(status=Status.NOT_SATISFIED,
                           reason=f"no run in the period ran the {_gate_label(p)}")
    return QueryResult(status=Status.SATISFIED, runs=(_short(hits[-1]),),
                       counts={"runs": len(hits)},
                       reason=f"{len(hits)} runs ran the {_gate_label(p)}")


def no_open_findings(params: BaseModel, ctx: EvidenceContext) -> QueryResult:
    """The latest run that ran the gate left no new (unbaselined) findings."""
    p = _as(params, GateParams)
    runs = [r for r in ctx.runs() if _ran(_matching(r, p))]
    if not runs:
        return QueryResult(status=Status.NOT_SATISFIED,
                           reason=f"no run in the period ran the {_gate_label(p)}")
    last = runs[-1]
    stages = _ran(_matching(last, p))
    errored = [s for s in stages if s.status == StageStatus.ERROR]
    open_ = sum(len(s.new_findings) for s in stages)
    baselined = sum(len(s.findings) - len(s.new_findings) for s in stages)
    counts = {"open_findings": open_, "baselined_findings": baselined}
    if errored:
        return QueryResult(status=Status.NOT_SATISFIED, runs=(_short(last),), counts=counts,
                           reason=f"the {_gate_label(p)} ended in error in the latest run: its "
                           "findings are unknown")
    if open_:
        return QueryResult(status=Status.NOT_SATISFIED, runs=(_short(last),), counts=counts,
                           reason=f"{open_} open finding(s) from the {_gate_label(p)} in the "
                           "latest run")
    return QueryResult(status=Status.SATISFIED, runs=(_short(last),), counts=counts,
                       reason=f"no open findings from the {_gate_label(p)} in the latest run"
                       + (f" ({baselined} baselined)" if baselined else ""))


def deps_no_known_vulnerabilities(params: BaseModel, ctx: EvidenceContext) -> QueryResult:
    """The latest deps gate passed with no open vulnerable-dependency findings."""
    return no_open_findings(GateParams(kind="deps"), ctx)


def fhir_gate_passes(params: BaseModel, ctx: EvidenceContext) -> QueryResult:
    """The latest fhir gate passed with no open findings."""
    p = GateParams(kind="fhir")
    runs = [r for r in ctx.runs() if _ran(_matching(r, p))]
    if not runs:
        return QueryResult(status=Status.NOT_SATISFIED,
                           reason="no run in the period ran the fhir gate")
    result = no_open_findings(p, ctx)
    failed = [s for s in _ran(_matching(runs[-1], p)) if s.status != StageStatus.PASSED]
    if result.status == Status.SATISFIED and failed:
        return result.model_copy(update={"status": Status.NOT_SATISFIED,
                                         "reason": "the latest fhir gate did not pass"})
    return result


def phi_gate_enabled(params: BaseModel, ctx: EvidenceContext) -> QueryResult:
    """The latest run ran the phi gate (PHI in repository files is looked for)."""
    runs = ctx.runs()
    if not runs:
        return _no_runs(ctx)
    last = runs[-1]
    if not _ran(_matching(last, GateParams(kind="phi"))):
        return QueryResult(status=Status.NOT_SATISFIED, runs=(_short(last),),
                           reason="the latest run did not run a phi gate")
    return QueryResult(status=Status.SATISFIED, runs=(_short(last),),
                       reason="the latest run ran the phi gate")


def coverage_at_least(params: BaseModel, ctx: EvidenceContext) -> QueryResult:
    """The latest tests gate reported total coverage of at least `min` percent."""
    p = _as(params, CoverageParams)
    runs = [r for r in ctx.runs() if _ran(_matching(r, GateParams(kind="tests")))]
    if not runs:
        return QueryResult(status=Status.NOT_SATISFIED,
                           reason="no run in the period ran the tests gate")
    last = runs[-1]
    figures = [s.metrics["coverage"] for s in _matching(last, GateParams(kind="tests"))
               if "coverage" in s.metrics]
    if not figures:
        return QueryResult(status=Status.NOT_SATISFIED, runs=(_short(last),),
                           reason="the latest tests gate reported no coverage figure")
    low = min(figures)
    ok = low >= p.min
    return QueryResult(status=Status.SATISFIED if ok else Status.NOT_SATISFIED,
                       runs=(_short(last),), counts={"coverage_pct": int(low)},
                       reason=f"coverage {low:.1f}% {'>=' if ok else '<'} {p.min:g}% in the "
                       "latest run")


def changes_traceable(params: BaseModel, ctx: EvidenceContext) -> QueryResult:
    """Every run in the period names the commit it checked (and, by default, a clean tree)."""
    p = _as(params, TraceParams)
    runs = ctx.runs()
    if not runs:
        return _no_runs(ctx)
    bad = [r for r in runs if not r.commit or (r.dirty and not p.allow_dirty)]
    counts = {"runs": len(runs), "untraceable_runs": len(bad)}
    if bad:
        return QueryResult(status=Status.NOT_SATISFIED, counts=counts,
                           runs=tuple(_short(r) for r in bad[:MAX_REFS]),
                           reason=f"{len(bad)} of {len(runs)} runs have no commit or ran on "
                           "uncommitted changes")
    return QueryResult(status=Status.SATISFIED, counts=counts, runs=(_short(runs[-1]),),
                       reason=f"all {len(runs)} runs checked a named, clean commit")


def audit_chain_intact(params: BaseModel, ctx: EvidenceContext) -> QueryResult:
    """The whole audit chain verifies: hashes, links and signed checkpoints."""
    result = ctx.verify()
    counts = {"events": result.events, "checkpoints": result.checkpoints}
    if result.problem is not None:
        pr = result.problem
        return QueryResult(status=Status.NOT_SATISFIED, audit_seqs=(pr.seq,), counts=counts,
                           reason=f"audit log tampered at event {pr.seq} ({pr.kind.value}): "
                           f"{pr.detail}")
    if not result.events:
        return QueryResult(status=Status.NOT_SATISFIED, counts=counts,
                           reason="the audit log is empty: nothing is evidenced")
    seqs = tuple(s for s in (result.first_seq, result.last_seq) if s is not None)
    return QueryResult(status=Status.SATISFIED, audit_seqs=seqs, counts=counts,
                       reason=f"{result.events} events and {result.checkpoints} signed "
                       "checkpoints verified")


def every_run_checkpointed(params: BaseModel, ctx: EvidenceContext) -> QueryResult:
    """Every run in the period has a run.finished audit event covered by a signed checkpoint."""
    runs = ctx.runs()
    if not runs:
        return _no_runs(ctx)
    finished = {e.subject: e.seq for e in ctx.log.events(actions=["run.finished"])}
    signed = max((c.seq for c in ctx.log.checkpoints()), default=0)
    unrecorded = [r for r in runs if r.run_id not in finished]
    unsigned = [r for r in runs if finished.get(r.run_id, 0) > signed]
    counts = {"runs": len(runs), "unrecorded": len(unrecorded), "unsigned": len(unsigned)}
    if unrecorded or unsigned:
        bad = unrecorded + unsigned
        return QueryResult(status=Status.NOT_SATISFIED, counts=counts,
                           runs=tuple(_short(r) for r in bad[:MAX_REFS]),
                           reason=f"{len(unrecorded)} runs missing from the audit log, "
                           f"{len(unsigned)} after the last signed checkpoint")
    seqs = tuple(sorted(finished[r.run_id] for r in runs))[:MAX_REFS]
    return QueryResult(status=Status.SATISFIED, counts=counts, audit_seqs=seqs,
                       reason=f"all {len(runs)} runs are in the audit log under a signed "
                       f"checkpoint (latest at event {signed})")


def llm_calls_redacted(params: BaseModel, ctx: EvidenceContext) -> QueryResult:
    """Every llm.call event carries a prompt digest, never a prompt; stored calls have outcomes."""
    events = ctx.events("llm.call")
    stored = [c for r in ctx.runs() for c in ctx.store.llm_calls(r.run_id)]
    if not events and not stored:
        return QueryResult(status=Status.NOT_APPLICABLE, reason="no LLM calls in the period")
    bad_events = [e for e in events if not _digest_only(e)]
    bad_stored = [c for c in stored if not _DIGEST.match(c.prompt_digest) or not c.outcome]
    counts = {"llm_call_events": len(events), "stored_calls": len(stored),
              "bad_events": len(bad_events), "bad_stored_calls": len(bad_stored)}
    if bad_events or bad_stored:
        return QueryResult(status=Status.NOT_SATISFIED, counts=counts,
                           audit_seqs=tuple(e.seq for e in bad_events[:MAX_REFS]),
                           reason=f"{len(bad_events)} llm.call events without a prompt digest "
                           f"(or with prompt text), {len(bad_stored)} stored calls without "
                           "digest or outcome")
    return QueryResult(status=Status.SATISFIED, counts=counts,
                       audit_seqs=tuple(e.seq for e in events[:MAX_REFS]),
                       reason=f"{len(events)} LLM calls recorded by prompt digest only")


def _digest_only(event: AuditEvent) -> bool:
    data = event.data()
    if not isinstance(data, dict):
        return False
    has_text = any(k in data for k in ("prompt", "system", "user", "messages"))
    return bool(_DIGEST.match(str(data.get("prompt_digest", "")))) and not has_text


def fixes_verified(params: BaseModel, ctx: EvidenceContext) -> QueryResult:
    """Every fix.commit has an accepted attempt for that commit whose checks all passed."""
    commits = ctx.events("fix.commit")
    if not commits:
        return QueryResult(status=Status.NOT_APPLICABLE, reason="no fix commits in the period")
    bad: list[AuditEvent] = []
    for ev in commits:
        data = ev.data()
        run_id = data.get("run_id") if isinstance(data, dict) else None
        if not isinstance(run_id, str):
            bad.append(ev)
            continue
        attempts = ctx.store.fix_attempts(run_id)
        if not any(a.status == AttemptStatus.ACCEPTED and a.commit == ev.subject and a.checks
                   and all(c.passed for c in a.checks) for a in attempts):
            bad.append(ev)
    counts = {"fix_commits": len(commits), "unverified": len(bad)}
    if bad:
        return QueryResult(status=Status.NOT_SATISFIED, counts=counts,
                           audit_seqs=tuple(e.seq for e in bad[:MAX_REFS]),
                           reason=f"{len(bad)} of {len(commits)} fix commits lack an accepted "
                           "attempt with every check passed")
    return QueryResult(status=Status.SATISFIED, counts=counts,
                       audit_seqs=tuple(e.seq for e in commits[:MAX_REFS]),
                       reason=f"all {len(commits)} fix commits were verified before commit")


class ReleaseParams(NoParams):
    """Which releases: those of one environment (e.g. production), or of all."""

    env: str | None = None


def _releases(params: BaseModel, ctx: EvidenceContext) -> list[Release]:
    """Releases of the period that moved traffic (promoted or rolled back), oldest first."""
    p = _as(params, ReleaseParams)
    listed = ReleaseStore(ctx.store).recent(env=p.env, limit=MAX_RUNS)
    moved = (ReleaseStatus.PROMOTED, ReleaseStatus.ROLLED_BACK)
    return [r for r in reversed(listed)
            if ctx.since <= r.started_at <= ctx.until and r.status in moved]


def _had_earlier(ctx: EvidenceContext, release: Release) -> bool:
    """Whether the environment had a promoted release before this one (so a way back existed)."""
    return any(r.status is ReleaseStatus.PROMOTED and r.started_at < release.started_at
               for r in ReleaseStore(ctx.store).recent(env=release.env, limit=MAX_RUNS))


def releases_approved_by_non_author(params: BaseModel, ctx: EvidenceContext) -> QueryResult:
    """Every release in the period was approved by a person other than its commit's author."""
    releases = _releases(params, ctx)
    if not releases:
        return QueryResult(status=Status.NOT_APPLICABLE, reason="no releases in the period")
    bad = [r for r in releases if not r.approved_by or same_person(r.approved_by, r.author)]
    counts = {"releases": len(releases), "not_approved_by_non_author": len(bad)}
    runs = tuple(r.run_id for r in (bad or releases) if r.run_id)[:MAX_REFS]
    if bad:
        ids = ", ".join(r.id[:12] for r in bad[:5])
        return QueryResult(status=Status.NOT_SATISFIED, counts=counts, runs=runs,
                           reason=f"{len(bad)} of {len(releases)} releases lack an approval by "
                           f"a non-author (releases {ids})")
    return QueryResult(status=Status.SATISFIED, counts=counts, runs=runs,
                       reason=f"all {len(releases)} releases were approved by a non-author")


def releases_controlled(params: BaseModel, ctx: EvidenceContext) -> QueryResult:
    """Every release in the period shipped a commit whose suture run passed, with a way back."""
    releases = _releases(params, ctx)
    if not releases:
        return QueryResult(status=Status.NOT_APPLICABLE, reason="no releases in the period")
    problems: list[str] = []
    for r in releases:
        run_status = None
        if r.run_id:
            try:
                run_status = ctx.store.get_run(r.run_id).status
            except SutureError:
                run_status = None
        if run_status != RunStatus.PASSED:
            problems.append(f"{r.id[:12]} shipped {r.commit[:10]} without a passing run")
        elif r.stable_commit is None and _had_earlier(ctx, r):
            problems.append(f"{r.id[:12]} had no stable version to roll back to")
    counts = {"releases": len(releases), "problems": len(problems)}
    runs = tuple(r.run_id for r in releases if r.run_id)[:MAX_REFS]
    if problems:
        return QueryResult(status=Status.NOT_SATISFIED, counts=counts, runs=runs,
                           reason=f"{len(problems)} of {len(releases)} releases: "
                           + "; ".join(problems[:3]))
    return QueryResult(status=Status.SATISFIED, counts=counts, runs=runs,
                       reason=f"all {len(releases)} releases shipped a commit with a passing "
                       "run, behind a stable version they could roll back to")


def _as(params: BaseModel, kind: type[_P]) -> _P:
    if not isinstance(params, kind):
        raise TypeError(f"expected {kind.__name__}, got {type(params).__name__}")
    return params


def _q(name: str, params: type[BaseModel], fn: QueryFn) -> Query:
    return Query(name, params, (fn.__doc__ or "").strip().splitlines()[0], fn)


REGISTRY: dict[str, Query] = {q.name: q for q in (
    _q("gate_passed_in_every_run", GateParams, gate_passed_in_every_run),
    _q("gate_ran", GateParams, gate_ran),
    _q("no_open_findings", GateParams, no_open_findings),
    _q("deps_no_known_vulnerabilities", NoParams, deps_no_known_vulnerabilities),
    _q("fhir_gate_passes", NoParams, fhir_gate_passes),
    _q("phi_gate_enabled", NoParams, phi_gate_enabled),
    _q("coverage_at_least", CoverageParams, coverage_at_least),
    _q("changes_traceable", TraceParams, changes_traceable),
    _q("audit_chain_intact", NoParams, audit_chain_intact),
    _q("every_run_checkpointed", NoParams, every_run_checkpointed),
    _q("llm_calls_redacted", NoParams, llm_calls_redacted),
    _q("fixes_verified", NoParams, fixes_verified),
    _q("releases_approved_by_non_author", ReleaseParams, releases_approved_by_non_author),
    _q("releases_controlled", ReleaseParams, releases_controlled),
)}
