"""`suture fix`: for each failed gate, remedies in order until one is verified, else escalation.

Gates are taken most risky first (security before tests before style). For each, the remedies
that apply are tried cheapest and safest first, one candidate at a time: the remedy writes it
in a scratch worktree, the engine captures it as a patch and verifies it in a fresh worktree
(verify.py). An accepted candidate is committed onto `suture/fix/<run>`, and the gate's
remaining findings (from that verification) are what the next candidate works on.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from suture.config import SutureConfig
from suture.errors import SutureError, UsageError
from suture.fix import branch as branch_mod
from suture.fix import patch as patch_mod
from suture.fix.remedies import make_remedies
from suture.fix.remedies.interface import FixTarget, Proposal, Remedy, RemedyContext
from suture.fix.verify import Verifier
from suture.heal.testrun import TestOutcome, run_tests
from suture.heal.worktree import Worktree
from suture.llm.interface import LLMCall
from suture.model import (
    AttemptStatus,
    Check,
    Diagnosis,
    FixAttempt,
    Run,
    RunStatus,
    StageResult,
    StageStatus,
)

# Which failed gates go first: a leaked secret or an exploitable dependency outranks a test.
_RISK = {"secrets": 0, "sast": 1, "deps": 2, "iac": 3, "tests": 4, "lint": 6}
_MAX_DIFF_CHARS = 20_000


@dataclass(frozen=True)
class FixOptions:
    """Which remedies to use and how much they may spend."""

    remedies: tuple[str, ...] = ()  # only these (names); empty: all
    search_budget_s: float = 120.0
    max_llm_attempts: int = 3
    max_candidates: int = 12  # candidates verified per gate, all remedies together
    max_lines: int = 400


@dataclass(frozen=True)
class FixReport:
    """What one `suture fix` did: the branch with accepted commits, and every attempt."""

    run_id: str
    branch: str
    head: str | None  # the branch's tip; None when nothing was accepted
    attempts: tuple[FixAttempt, ...]
    fixed: tuple[str, ...]
    escalated: tuple[str, ...]
    llm_calls: tuple[LLMCall, ...] = field(default=())


class FixProgress(Protocol):
    """Live progress for the CLI."""

    def trying(self, stage: str, remedy: str) -> None:
        """A remedy started on a gate."""

    def verifying(self, stage: str, remedy: str, summary: str) -> None:
        """A candidate is being verified."""

    def finished(self, attempt: FixAttempt) -> None:
        """A candidate was accepted or rejected, or a gate escalated."""


class _Quiet:
    def trying(self, stage: str, remedy: str) -> None:
        pass

    def verifying(self, stage: str, remedy: str, summary: str) -> None:
        pass

    def finished(self, attempt: FixAttempt) -> None:
        pass


def check_run(root: Path, run: Run, branch: str) -> str:
    """Refuse runs suture cannot fix from a commit; the commit to start from."""
    if run.status == RunStatus.PASSED:
        raise UsageError(f"run {run.run_id[:12]} passed; nothing to fix")
    if run.commit is None:
        raise UsageError(f"run {run.run_id[:12]} has no commit to fix from",
                         hint="commit your work and run `suture run` again")
    if run.dirty:
        raise UsageError(f"run {run.run_id[:12]} was made on uncommitted changes; a fix starts "
                         "from a commit", hint="commit your work, then `suture run` and "
                         "`suture fix` again")
    if branch_mod.exists(root, branch):
        raise UsageError(f"branch {branch} already exists",
                         hint=f"delete it (git branch -D {branch}) to fix the run again")
    return run.commit


def fix(root: Path, run: Run, diagnoses: Sequence[Diagnosis], config: SutureConfig,
        python: str, options: FixOptions | None = None,
        progress: FixProgress | None = None,
        remedies: Sequence[Remedy] | None = None) -> FixReport:
    """Try the remedies on each failed gate of `run`; accepted fixes go on the fix branch.

    `remedies` replaces the standard table (tests use it to play a hostile remedy).
    """
    options = options or FixOptions()
    name = branch_mod.branch_name(run.run_id)
    session = _Session(root, run, {d.stage: d for d in diagnoses}, config, python, options,
                       progress or _Quiet(), name, check_run(root, run, name))
    if remedies is not None:
        session.remedies = list(remedies)
    failed = sorted((s for s in run.stages if s.status in (StageStatus.FAILED,
                                                           StageStatus.ERROR)),
                    key=lambda s: _RISK.get(s.kind, 5))
    for stage in failed:
        session.fix_stage(stage)
    return FixReport(run_id=run.run_id, branch=name, head=session.head,
                     attempts=tuple(session.attempts), fixed=tuple(session.fixed),
                     escalated=tuple(session.escalated), llm_calls=tuple(session.calls))


class _Session:
    """State across the gates of one `suture fix`: the branch tip and the attempts so far."""

    def __init__(self, root: Path, run: Run, diagnoses: dict[str, Diagnosis],
                 config: SutureConfig, python: str, options: FixOptions, progress: FixProgress,
                 branch: str, start: str) -> None:
        self.root, self.run, self.diagnoses = root, run, diagnoses
        self.options, self.progress, self.branch = options, progress, branch
        self.tip = start
        self.head: str | None = None
        self.attempts: list[FixAttempt] = []
        self.fixed: list[str] = []
        self.escalated: list[str] = []
        self.calls: list[LLMCall] = []
        self.verifier = Verifier(root, run, config, python, max_lines=options.max_lines)
        self.ctx = RemedyContext(root=root, python=python, config=config,
                                 run_tests=self._run_tests,
                                 time_budget_s=options.search_budget_s,
                                 max_attempts=options.max_llm_attempts)
        self.remedies: list[Remedy] = [r for r in make_remedies()
                                       if not options.remedies or r.name in options.remedies]

    def _run_tests(self, cwd: Path, test_ids: Sequence[str], *,
                   timeout: float | None = None) -> TestOutcome:
        return run_tests(cwd, self.ctx.python, test_ids, timeout=timeout or 300.0)

    def fix_stage(self, stage: StageResult) -> None:
        """Remedies in order on one gate until it passes, the budget ends, or none is left."""
        diagnosis = self.diagnoses.get(stage.name)
        target = FixTarget(run=self.run, stage=stage, diagnosis=diagnosis)
        tried: list[str] = []
        budget = self.options.max_candidates
        for remedy in self.remedies:
            if budget <= 0:
                break
            while budget > 0 and remedy.applies(target):
                self.progress.trying(stage.name, remedy.name)
                outcome, target, spent = self._try(remedy, target)
                budget -= spent
                tried.append(f"{remedy.name} ({outcome})")
                if outcome == "fixed":
                    self.fixed.append(stage.name)
                    return
                if outcome != "improved":
                    break  # nothing more from this remedy: the next one
        self._escalate(stage, diagnosis, tried)

    def _try(self, remedy: Remedy, target: FixTarget) -> tuple[str, FixTarget, int]:
        """One pass of a remedy: 'fixed', 'improved' (restart on the new tip), or 'failed'."""
        spent = 0
        with Worktree(self.root, self.tip, project_root=self.root) as scratch:
            proposals = remedy.propose(target, scratch, self.ctx)
            while spent < self.options.max_candidates:
                t0 = time.monotonic()
                try:
                    proposal = next(proposals, None)
                except SutureError as exc:
                    self._record(target.stage.name, remedy.name, AttemptStatus.REJECTED,
                                 exc.message + (f"; {exc.hint}" if exc.hint else ""),
                                 time.monotonic() - t0)
                    break
                if proposal is None:
                    break
                spent += 1
                patch = patch_mod.capture(scratch)
                patch_mod.reset(scratch)
                accepted, after = self._verify(remedy, target, proposal, patch, t0)
                if accepted:
                    _close(proposals)
                    self._collect_calls(remedy)
                    if after is None or after.status == StageStatus.PASSED:
                        return "fixed", target, spent
                    return "improved", FixTarget(run=target.run, stage=after,
                                                 diagnosis=target.diagnosis), spent
            self._collect_calls(remedy)
        return ("failed" if spent else "nothing"), target, spent

    def _collect_calls(self, remedy: Remedy) -> None:
        calls = getattr(remedy, "calls", None)
        if isinstance(calls, list):
            self.calls += [c for c in calls if c not in self.calls]

    def _verify(self, remedy: Remedy, target: FixTarget, proposal: Proposal,
                patch: patch_mod.Patch, t0: float) -> tuple[bool, StageResult | None]:
        stage = target.stage.name
        self.progress.verifying(stage, remedy.name, proposal.summary)
        text = branch_mod.message(proposal, self.run.run_id, stage, remedy.name,
                                  target.diagnosis)
        verdict, sha = self.verifier.verify(self.tip, patch, proposal, stage,
                                            lambda tree: branch_mod.commit(tree, text))
        if verdict.accepted and sha:
            branch_mod.move(self.root, self.branch, sha, None if self.head is None else self.tip)
            self.tip = self.head = sha
        self._record(stage, remedy.name,
                     AttemptStatus.ACCEPTED if verdict.accepted else AttemptStatus.REJECTED,
                     verdict.reason, time.monotonic() - t0, proposal=proposal, patch=patch,
                     commit=sha if verdict.accepted else None, checks=verdict.checks)
        return verdict.accepted, verdict.stage_after

    def _escalate(self, stage: StageResult, diagnosis: Diagnosis | None,
                  tried: list[str]) -> None:
        self.escalated.append(stage.name)
        cause = (f"{diagnosis.category.value}: {diagnosis.root_cause}" if diagnosis
                 else f"{stage.summary or stage.status.value} (not diagnosed)")
        how = "tried " + ", ".join(tried) if tried else "no remedy applies"
        self._record(stage.name, "-", AttemptStatus.ESCALATED, f"{cause}; {how}", 0.0)

    def _record(self, stage: str, remedy: str, status: AttemptStatus, reason: str,
                duration: float, *, proposal: Proposal | None = None,
                patch: patch_mod.Patch | None = None, commit: str | None = None,
                checks: tuple[Check, ...] = ()) -> None:
        attempt = FixAttempt(
            stage=stage, remedy=remedy, status=status, reason=reason,
            summary=proposal.summary if proposal else "", commit=commit,
            files=patch.files if patch else (),
            diff=(patch.diff[:_MAX_DIFF_CHARS] if patch else ""), checks=checks,
            duration_s=round(duration, 3),
            input_tokens=proposal.input_tokens if proposal else 0,
            output_tokens=proposal.output_tokens if proposal else 0,
        )
        self.attempts.append(attempt)
        self.progress.finished(attempt)


def _close(proposals: Iterator[Proposal]) -> None:
    """Stop a remedy's generator early so its `finally` blocks run now."""
    close = getattr(proposals, "close", None)
    if callable(close):
        close()
