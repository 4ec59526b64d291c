"""`ruff-fix`: ruff's own safe autofixes for the lint gate's findings.

Only fixes ruff marks safe (no `--unsafe-fixes`), under the project's ruff configuration, on the
files that have findings; ruff's formatter is not run, so nothing else in the files moves.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from suture import proc
from suture.errors import ToolError
from suture.fix.remedies.interface import FixTarget, Proposal, RemedyContext
from suture.heal.worktree import git


class RuffFix:
    """Apply ruff's safe fixes to the files the lint gate flagged."""

    name = "ruff-fix"

    def applies(self, target: FixTarget) -> bool:
        """A lint gate with findings in files."""
        return target.stage.kind == "lint" and any(f.path for f in target.stage.new_findings)

    def propose(self, target: FixTarget, workdir: Path, ctx: RemedyContext) -> Iterator[Proposal]:
        """One candidate: every safe fix ruff has for the flagged files."""
        findings = [f for f in target.stage.new_findings if f.path]
        files = sorted({f.path for f in findings if f.path and (workdir / f.path).is_file()})
        if not files:
            return
        ruff = proc.require_tool("ruff", ctx.python)
        res = proc.run((ruff, "check", "--fix", "--exit-zero", "--no-cache", "--quiet",
                        "--force-exclude", *files), cwd=workdir, timeout=300)
        if res.returncode != 0:
            raise ToolError("ruff --fix failed", hint=res.describe())
        changed = git(workdir, "diff", "--name-only", "--relative").stdout.split()
        if not changed:
            return
        fixed = Counter(f.rule_id for f in findings if f.path in changed)
        rules = ", ".join(f"{rule} x{n}" if n > 1 else rule for rule, n in sorted(fixed.items()))
        yield Proposal(
            summary=f"Apply ruff's safe fixes ({rules})"[:72],
            rationale=f"The lint gate failed on {len(findings)} finding(s). ruff fixed what it "
            f"marks safe in {', '.join(changed)}: fixes that keep the code's behaviour "
            "(unsafe fixes were not applied). What remains needs a person.",
            addresses=tuple(f.fingerprint for f in findings if f.path in changed),
        )
