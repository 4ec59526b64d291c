"""The Markdown report of one `suture fix`: fixes with their commits, escalations with their why.

Made for a pull-request comment or a CI step summary: what was fixed and verified, what was
tried and rejected (with the check that refused it), and what a person must look at, with the
diagnosis that explains it.
"""

from __future__ import annotations

from collections.abc import Sequence

from suture.fix.engine import FixReport
from suture.model import AttemptStatus, Diagnosis
from suture.pipeline.reports.markdown import cell, code, text


def render_markdown(report: FixReport, diagnoses: Sequence[Diagnosis]) -> str:
    """The fix session as GitHub-flavoured Markdown."""
    accepted = [a for a in report.attempts if a.status == AttemptStatus.ACCEPTED]
    rejected = [a for a in report.attempts if a.status == AttemptStatus.REJECTED]
    escalated = [a for a in report.attempts if a.status == AttemptStatus.ESCALATED]
    mark = "✅" if not escalated else "⚠️"
    lines = [f"## {mark} suture fix: {len(report.fixed)} gate(s) fixed, "
             f"{len(report.escalated)} escalated", "",
             f"**Run** {code(report.run_id)} · **Branch** {code(report.branch)}"
             + (f" · **Tip** {code(report.head[:10])}" if report.head else ""), ""]
    if accepted:
        lines += ["### Fixed and verified", "", "| Gate | Remedy | Change | Commit | Checks |",
                  "| --- | --- | --- | --- | --- |"]
        for a in accepted:
            checks = ", ".join(c.name for c in a.checks if c.passed)
            lines.append(f"| {cell(text(a.stage))} | {code(a.remedy)} | "
                         f"{cell(text(a.summary))} | {code((a.commit or '')[:10])} | "
                         f"{cell(text(checks))} |")
        lines.append("")
    if escalated:
        by_stage = {d.stage: d for d in diagnoses}
        lines += ["### Needs a person", ""]
        for a in escalated:
            lines.append(f"- **{text(a.stage)}**: {text(a.reason)}")
            d = by_stage.get(a.stage)
            if d is not None:
                for i, why in enumerate(d.chain, 1):
                    lines.append(f"  {i}. {text(why.question)} {text(why.answer)}")
                lines += [f"  - 💡 {text(r)}" for r in d.remedies[:3]]
        lines.append("")
    if rejected:
        lines += ["<details><summary>Rejected candidates</summary>", "",
                  "| Gate | Remedy | Candidate | Why not |", "| --- | --- | --- | --- |"]
        lines += [f"| {cell(text(a.stage))} | {code(a.remedy)} | {cell(text(a.summary or '-'))} "
                  f"| {cell(text(a.reason))} |" for a in rejected]
        lines += ["", "</details>", ""]
    return "\n".join(lines)
