"""`diagnose`: a 5-whys chain for every failed gate of a run, offline engine first."""

from __future__ import annotations

from collections.abc import Callable

from suture.heal import why_errors, why_findings, why_tests
from suture.heal.context import DiagnoseContext
from suture.model import Diagnosis, StageResult, StageStatus, Why

Explainer = Callable[[DiagnoseContext, StageResult], Diagnosis]

# One explainer per gate kind; gates not listed are explained from their findings.
EXPLAINERS: dict[str, Explainer] = {
    "tests": why_tests.explain,
    "lint": why_findings.explain,
    "sast": why_findings.explain,
    "secrets": why_findings.explain,
    "deps": why_findings.explain,
    "iac": why_findings.explain,
}


def diagnose(ctx: DiagnoseContext) -> list[Diagnosis]:
    """Explain each failed or errored stage of `ctx.run`, in stage order."""
    found = []
    for stage in ctx.run.stages:
        if stage.status == StageStatus.ERROR:
            explainer: Explainer = why_errors.explain
        elif stage.status == StageStatus.FAILED:
            explainer = EXPLAINERS.get(stage.kind, why_findings.explain)
        else:
            continue
        found.append(_bounded(explainer(ctx, stage), ctx.settings.max_depth))
    return found


def _bounded(d: Diagnosis, max_depth: int) -> Diagnosis:
    """Never more whys than max_depth; a chain cut short is escalated, never guessed."""
    if len(d.chain) <= max_depth:
        return d
    cut = d.chain[:max_depth]
    note = Why(question="Why stop here?", answer=f"max_depth ({max_depth}) reached", confidence=0)
    return d.model_copy(update={"chain": (*cut[:-1], note), "escalated": True})
