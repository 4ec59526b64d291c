"""What each command puts in the audit log: runs and gate results, diagnoses and LLM calls, fixes.

One function per command, called once the command's records are stored, so the audit log and
the store agree. Payloads carry digests and counts, never findings' text or prompts: the log is
evidence that something happened and what it was, not a second copy of the data (which may hold
PHI from a failing test's output).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

from suture.audit.events import AuditAction
from suture.audit.recorder import audit_log
from suture.llm.interface import LLMCall
from suture.model import AttemptStatus, Diagnosis, FixAttempt, Run
from suture.store import RunStore


def run_recorded(store: RunStore, root: Path, run: Run) -> None:
    """A finished run: its start, each gate's result, its end; then a signed checkpoint."""
    log = audit_log(store, root=root)
    log.append(AuditAction.RUN_STARTED, run.run_id, {
        "commit": run.commit, "branch": run.branch, "dirty": run.dirty,
        "config_digest": run.config_digest, "started_at": run.started_at,
        "suture_version": run.suture_version,
    })
    for stage in run.stages:
        log.append(AuditAction.GATE_RESULT, f"{run.run_id}/{stage.name}", {
            "kind": stage.kind, "status": stage.status, "cached": stage.cached,
            "tool_version": stage.tool_version, "findings": len(stage.findings),
            "new_findings": len(stage.new_findings),
            "fingerprints_digest": _digest(sorted(f.fingerprint for f in stage.new_findings)),
            "metrics": stage.metrics,
        })
    log.append(AuditAction.RUN_FINISHED, run.run_id, {
        "status": run.status, "duration_s": run.duration_s, "error": run.error,
    })
    log.checkpoint()


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
