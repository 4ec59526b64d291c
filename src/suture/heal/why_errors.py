"""Whys for gates that could not run: a missing tool, a timeout, a broken configuration."""

from __future__ import annotations

import re

from suture.heal import evidence
from suture.heal.context import DiagnoseContext
from suture.model import Category, Diagnosis, Evidence, EvidenceKind, StageResult, Why

# (pattern on summary + log, category, root cause template, remedies)
_RULES: tuple[tuple[re.Pattern[str], Category, str, tuple[str, ...]], ...] = (
    (re.compile(r"timed out after", re.I), Category.TIMEOUT,
     "the {stage} gate ran past its timeout",
     ("raise `timeout:` for the gate in suture.yml", "find the slow or hanging step in the log")),
    (re.compile(r"not installed|not on PATH|not importable|No module named", re.I),
     Category.ENVIRONMENT, "a tool the {stage} gate needs is missing: {detail}",
     ("install the tool into the project's environment (pip install 'suture[gates]')",)),
    (re.compile(r"advisory source reachable|could not reach|Connection refused|Name or service",
                re.I), Category.ENVIRONMENT, "a service the {stage} gate needs is unreachable: "
     "{detail}", ("point the gate at a local copy (deps.advisories / SUTURE_ADVISORY_DB)",)),
    (re.compile(r"suture\.yml|configuration|config", re.I), Category.CONFIG_ERROR,
     "the {stage} gate is misconfigured: {detail}", ("fix the setting named in the message",)),
    (re.compile(r"No space left|disk quota|Permission denied|Read-only file system", re.I),
     Category.ENVIRONMENT, "the machine refused the {stage} gate: {detail}",
     ("free disk space or fix the permissions named in the log",)),
)


def explain(ctx: DiagnoseContext, stage: StageResult) -> Diagnosis:
    """The stage ended in `error`: classify why from its message and log."""
    text = f"{stage.summary}\n{stage.log}"
    chain = [Why(
        question=f"Why did the {stage.name} gate not reach a verdict?",
        answer=stage.summary,
        evidence=(Evidence(kind=EvidenceKind.LOG, text=stage.summary[:500]),
                  *evidence.salient_log_lines(stage.log)),
    )]
    for pattern, category, cause, remedies in _RULES:
        match = pattern.search(text)
        if match:
            line = next((ln for ln in text.splitlines() if pattern.search(ln)), match.group(0))
            chain.append(Why(question="What does that error mean?",
                             answer=f"{category.value}: {line.strip()[:300]}",
                             evidence=(Evidence(kind=EvidenceKind.LOG, text=line.strip()[:500]),)))
            return Diagnosis(
                stage=stage.name, category=category, chain=tuple(chain), confidence=0.85,
                root_cause=cause.format(stage=stage.name, detail=stage.summary[:300]),
                remedies=remedies,
            )
    return Diagnosis(
        stage=stage.name, category=Category.UNKNOWN, chain=tuple(chain), confidence=0.2,
        escalated=True, root_cause=f"the {stage.name} gate failed to run: {stage.summary[:300]}",
        remedies=("read the gate's log (suture runs show RUN --verbose)",),
    )
