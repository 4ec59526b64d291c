"""Whys for gates that fail on findings: lint, sast, secrets, deps, iac."""

from __future__ import annotations

from suture.heal import evidence
from suture.heal.context import DiagnoseContext
from suture.model import Category, Diagnosis, Evidence, Finding, Level, StageResult, Why

CATEGORY = {
    "lint": Category.LINT,
    "sast": Category.INSECURE_CODE,
    "secrets": Category.INSECURE_CODE,
    "iac": Category.INSECURE_CODE,
    "deps": Category.VULNERABLE_DEPENDENCY,
}
_GENERIC_REMEDIES = {
    Category.LINT: ("ruff check --fix for the fixable rules, then fix the rest by hand",
                    "if a rule does not fit the project, disable it in the ruff configuration"),
    Category.INSECURE_CODE: ("fix the flagged code as the fix hint says",
                             "if it is a false positive, suppress that one line with a reason"),
    Category.VULNERABLE_DEPENDENCY: ("upgrade the pin to the fixed version and re-run the tests",),
}


def explain(ctx: DiagnoseContext, stage: StageResult) -> Diagnosis:
    """Chain: the gate failed -> because of these findings -> this one, here -> introduced by."""
    category = CATEGORY.get(stage.kind, Category.UNKNOWN)
    failing = [f for f in stage.new_findings if f.level == Level.ERROR] or list(stage.new_findings)
    if not failing:
        return Diagnosis(
            stage=stage.name, category=Category.UNKNOWN, escalated=True, confidence=0.1,
            root_cause=f"{stage.name} failed without a new finding; the log may tell",
            chain=(Why(question=f"Why did the {stage.name} gate fail?",
                       answer=stage.summary or "no finding explains it",
                       evidence=tuple(evidence.salient_log_lines(stage.log)), confidence=0.1),),
        )
    top = failing[0]
    rules = sorted({f.rule_id for f in failing})
    chain = [Why(
        question=f"Why did the {stage.name} gate fail?",
        answer=f"{len(failing)} new finding(s) at error level: {', '.join(rules[:8])}"
        + (" ..." if len(rules) > 8 else ""),
        evidence=tuple(evidence.finding_evidence(f) for f in failing[:5]),
    )]
    where = f"{top.path}:{top.line}" if top.path and top.line else (top.path or "the project")
    code = [e for e in (evidence.code_at(ctx.root, top.path, top.line),) if e]
    # Secrets: the flagged line is the secret; never quote it.
    if stage.kind == "secrets":
        code = []
    chain.append(Why(question=f"Why is {top.rule_id} reported at {where}?",
                     answer=top.message, evidence=(evidence.finding_evidence(top), *code)))
    origin = evidence.blame(ctx.root, top.path, top.line) if stage.kind != "deps" else None
    culprit = None
    if origin is not None:
        culprit = origin.commit
        chain.append(Why(question=f"Which change introduced it at {where}?",
                         answer=f"it was last changed by {origin.text}", evidence=(origin,)))
    if stage.kind == "deps":
        chain.append(_dependency_why(top))
    return Diagnosis(
        stage=stage.name, category=category, culprit_commit=culprit,
        root_cause=_root_cause(stage.kind, top, where, origin),
        chain=tuple(chain), confidence=0.95 if category != Category.UNKNOWN else 0.3,
        escalated=category == Category.UNKNOWN,
        remedies=_remedies(failing, category),
    )


def _remedies(failing: list[Finding], category: Category) -> tuple[str, ...]:
    hints = [f.fix_hint for f in failing[:5] if f.fix_hint]
    return tuple(dict.fromkeys([*hints, *_GENERIC_REMEDIES.get(category, ())]))


def _dependency_why(f: Finding) -> Why:
    return Why(
        question="Why is that version vulnerable?",
        answer=f"{f.message}. {f.fix_hint or ''}".strip(),
        evidence=(Evidence(kind=evidence.EvidenceKind.NOTE,
                           text=f"advisory {f.rule_id}: {f.help_uri or ''}".strip()),),
    )


def _root_cause(kind: str, f: Finding, where: str, origin: Evidence | None) -> str:
    since = f", introduced by {origin.text}" if origin and origin.commit else ""
    if kind == "deps":
        return f"{f.message} (pinned at {where})"
    if kind == "secrets":
        return f"a possible credential ({f.rule_id}) is committed at {where}{since}"
    cwe = f" ({f.cwe})" if f.cwe else ""
    return f"{f.rule_id}{cwe} at {where}: {f.message}{since}"
