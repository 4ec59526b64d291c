"""What each command puts in the audit log: runs and gate results, diagnoses and LLM calls, fixes.

One function per command, called once the command's records are stored, so the audit log and
the store agree. Payloads carry digests and counts, never findings' text or prompts: the log is
evidence that something happened and what it was, not a second copy of the data (which may hold
PHI from a failing test's output).

A run's events go in as one group, recorded at most once per run id (the `run.finished` event is
the guard), so the process that ran it and a later one that finds it dead never both record it:

- `config.changed` {run_id, previous_run_id, old_digest, new_digest} comes first when the run's
  config digest differs from that of the run started just before it on the same root. The first
  run of a root records none: its `run.started` payload carries the digest it began with.
- `run.started`, a `gate.result` per stage, `run.finished`, then a signed checkpoint.
- A run interrupted (Ctrl-C, SIGTERM, a crash: the store marks it `error`, "interrupted: ...")
  or abandoned (its process died; the store's liveness check marks it later) gets
  `run.started` and `run.finished` {status: error, reason: interrupted|abandoned, error} from
  `interrupted_recorded`, which `suture run` calls when interrupted and after every run.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from suture.audit.events import AuditAction, PendingEvent
from suture.audit.recorder import audit_log
from suture.llm.interface import LLMCall
from suture.model import AttemptStatus, Diagnosis, FixAttempt, Run, RunStatus
from suture.store import RunStore
from suture.store.convert import row_to_run
from suture.store.db import SQLITE_BEGIN, translated_errors
from suture.store.tables import AuditEventRow, RunRow

# How the store words the error of a run it marked as ended without its process finishing it.
_ENDED_BY_STORE = {"interrupted": "interrupted:", "abandoned": "abandoned:"}


def run_recorded(store: RunStore, root: Path, run: Run) -> None:
    """A finished run: its start, each gate's result, its end; then a signed checkpoint.

    Runs found interrupted or dead meanwhile (e.g. by this run's start) are recorded first.
    """
    interrupted_recorded(store, root, checkpoint=False)
    log = audit_log(store, root=root)
    stages = [PendingEvent(AuditAction.GATE_RESULT, f"{run.run_id}/{stage.name}", {
        "kind": stage.kind, "status": stage.status, "cached": stage.cached,
        "tool_version": stage.tool_version, "findings": len(stage.findings),
        "new_findings": len(stage.new_findings),
        "fingerprints_digest": _digest(sorted(f.fingerprint for f in stage.new_findings)),
        "metrics": stage.metrics,
    }) for stage in run.stages]
    finished = PendingEvent(AuditAction.RUN_FINISHED, run.run_id, {
        "status": run.status, "duration_s": run.duration_s, "error": run.error,
    })
    log.append_group([*_started(store, run), *stages, finished],
                     unless=(AuditAction.RUN_FINISHED, run.run_id))
    log.checkpoint()


def interrupted_recorded(store: RunStore, root: Path, *, checkpoint: bool = True,
                         actor: str | None = None) -> list[str]:
    """Record each run the store ended as interrupted or abandoned and the log lacks; their ids.

    Each gets `run.started` and `run.finished` with status error, the reason and the store's
    error text. Called by the interrupted process itself and after every run, so a run whose
    process was killed outright is recorded by the next `suture run`. Pass `actor` when
    interrupted: no tool may start then, git (which names the default actor) included.
    """
    log = audit_log(store, root=root)
    recorded = []
    for run in _unrecorded_ends(store):
        reason = next((r for r, prefix in _ENDED_BY_STORE.items()
                       if (run.error or "").startswith(prefix)), "interrupted")
        finished = PendingEvent(AuditAction.RUN_FINISHED, run.run_id, {
            "status": RunStatus.ERROR, "duration_s": run.duration_s, "error": run.error,
            "reason": reason, "finished_at": run.finished_at,
        }, actor)
        started = [replace(e, actor=actor) for e in _started(store, run)]
        if log.append_group([*started, finished],
                            unless=(AuditAction.RUN_FINISHED, run.run_id)):
            recorded.append(run.run_id)
    if recorded and checkpoint:
        log.checkpoint()
    return recorded


def _started(store: RunStore, run: Run) -> list[PendingEvent]:
    """`run.started`, after `config.changed` when the configuration differs from last time."""
    events = []
    previous = _previous_run(store, run)
    if previous is not None and previous[1] and previous[1] != run.config_digest:
        events.append(PendingEvent(AuditAction.CONFIG_CHANGED, run.run_id, {
            "run_id": run.run_id, "previous_run_id": previous[0], "old_digest": previous[1],
            "new_digest": run.config_digest,
        }))
    events.append(PendingEvent(AuditAction.RUN_STARTED, run.run_id, {
        "commit": run.commit, "branch": run.branch, "dirty": run.dirty,
        "config_digest": run.config_digest, "started_at": run.started_at,
        "suture_version": run.suture_version,
    }))
    return events


def _previous_run(store: RunStore, run: Run) -> tuple[str, str] | None:
    """(id, config digest) of the run started last before `run` on the same root."""
    query = (select(RunRow.id, RunRow.config_digest)
             .where(RunRow.root == run.root, RunRow.id != run.run_id,
                    RunRow.started_at < run.started_at)
             .order_by(RunRow.started_at.desc(), RunRow.id.desc()).limit(1))
    with _reading(store) as session:
        row = session.execute(query).first()
    return None if row is None else (str(row[0]), str(row[1] or ""))


def _unrecorded_ends(store: RunStore) -> list[Run]:
    """Runs the store ended as interrupted or abandoned that have no `run.finished` event."""
    finished = (select(AuditEventRow.seq)
                .where(AuditEventRow.action == AuditAction.RUN_FINISHED.value,
                       AuditEventRow.subject == RunRow.id).exists())
    query = (select(RunRow)
             .where(RunRow.status == RunStatus.ERROR.value,
                    or_(*(RunRow.error.startswith(p, autoescape=True)
                          for p in _ENDED_BY_STORE.values())),
                    ~finished)
             .order_by(RunRow.started_at, RunRow.id))
    with _reading(store) as session:
        return [row_to_run(row, ()) for row in session.scalars(query)]


@contextmanager
def _reading(store: RunStore) -> Iterator[Session]:
    """A read-only session on the store's database, with its errors translated."""
    url = store.engine.url.render_as_string(hide_password=False)
    reader = store.engine.execution_options(**{SQLITE_BEGIN: "DEFERRED"})
    with translated_errors(url, "read", store.busy_timeout_s), Session(reader) as session:
        yield session


def diagnoses_recorded(store: RunStore, root: Path, run_id: str,
                       diagnoses: Sequence[Diagnosis], calls: Sequence[LLMCall]) -> None:
    """Each diagnosis of a run and each LLM call made for it (prompt digests, never prompts)."""
    log = audit_log(store, root=root)
    for d in diagnoses:
        log.append(AuditAction.DIAGNOSIS_RECORDED, f"{run_id}/{d.stage}", {
            "category": d.category, "escalated": d.escalated, "engine": d.engine,
            "culprit_commit": d.culprit_commit, "confidence": d.confidence,
            "whys": len(d.chain), "digest": _digest(d.model_dump(mode="json")),
        })
    _calls(store, root, run_id, calls)
    log.checkpoint()


def fix_recorded(store: RunStore, root: Path, run_id: str, branch: str,
                 attempts: Sequence[FixAttempt], calls: Sequence[LLMCall]) -> None:
    """Every repair attempt and, for accepted ones, the commit made on the fix branch."""
    log = audit_log(store, root=root)
    for a in attempts:
        log.append(AuditAction.FIX_ATTEMPT, f"{run_id}/{a.stage}", {
            "remedy": a.remedy, "status": a.status, "reason": a.reason[:500],
            "files": list(a.files), "diff_digest": _digest(a.diff),
            "checks": {c.name: c.passed for c in a.checks}, "duration_s": a.duration_s,
            "input_tokens": a.input_tokens, "output_tokens": a.output_tokens,
        })
        if a.status == AttemptStatus.ACCEPTED and a.commit:
            log.append(AuditAction.FIX_COMMIT, a.commit, {
                "run_id": run_id, "branch": branch, "stage": a.stage, "remedy": a.remedy,
                "summary": a.summary,
            })
    _calls(store, root, run_id, calls)
    log.checkpoint()


def _calls(store: RunStore, root: Path, run_id: str, calls: Sequence[LLMCall]) -> None:
    log = audit_log(store, root=root)
    for c in calls:
        log.append(AuditAction.LLM_CALL, run_id, {
            "provider": c.provider, "model": c.model, "prompt_digest": c.prompt_digest,
            "input_tokens": c.input_tokens, "output_tokens": c.output_tokens,
            "cost_usd": c.cost_usd, "latency_s": c.latency_s, "outcome": c.outcome,
            "attempt": c.attempt,
        })


def _digest(data: object) -> str:
    """sha256 of the data as canonical JSON."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
