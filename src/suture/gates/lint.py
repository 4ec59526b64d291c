"""The `lint` gate: ruff, read from its JSON output."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from pydantic import Field

from suture import proc
from suture.errors import ToolError
from suture.gates import files
from suture.gates.interface import Gate, GateConfig, GateContext, GateReport
from suture.model import Finding, Level

CONFIG_FILES = ("pyproject.toml", "ruff.toml", ".ruff.toml")


class LintConfig(GateConfig):
    """Settings of the lint gate."""

    paths: list[str] = Field(default_factory=lambda: ["."], description="Folders ruff checks.")
    select: list[str] = Field(
        default_factory=list,
        description="Extra rule codes to enable on top of the project's ruff configuration.",
    )


class LintGate(Gate):
    """Runs ruff on the project's Python files; `# noqa` comments are honoured by ruff."""

    kind = "lint"
    description = "ruff: lint errors, style and bug-prone patterns"
    Config = LintConfig
    config: LintConfig

    def _ruff(self, ctx: GateContext) -> str:
        return proc.require_tool("ruff", ctx.python)

    def tool_version(self, ctx: GateContext) -> str:
        """ruff's version string."""
        return proc.tool_version((self._ruff(ctx), "--version")).splitlines()[0]

    def input_files(self, ctx: GateContext) -> Iterable[Path]:
        """Python sources under `paths` and ruff's configuration files."""
        return files.select(
            ctx.root, suffixes=(".py", ".pyi"), names=CONFIG_FILES, under=self.config.paths,
            exclude=self.config.exclude,
        )

    def run(self, ctx: GateContext) -> GateReport:
        """Run `ruff check --output-format json` and map each diagnostic to a finding."""
        cmd = [self._ruff(ctx), "check", "--output-format", "json", "--no-fix", "--exit-zero"]
        if self.config.select:
            cmd += ["--extend-select", ",".join(self.config.select)]
        for pattern in (*files.ALWAYS_EXCLUDED, *self.config.exclude):
            cmd += ["--extend-exclude", pattern]
        cmd += ["--force-exclude", *self.config.paths]
        res = proc.run(cmd, cwd=ctx.root, timeout=self.config.timeout or ctx.timeout)
        if res.returncode != 0:
            raise ToolError("ruff crashed", hint=res.describe())
        try:
            items = json.loads(res.stdout or "[]")
        except json.JSONDecodeError as exc:
            raise ToolError("ruff printed output that is not JSON", hint=res.describe()) from exc
        findings = tuple(_finding(ctx.root, item) for item in items)
        n = len(findings)
        return GateReport(
            findings=findings,
            summary=f"{n} lint problem{'s' * (n != 1)}" if n else "no lint problems",
            metrics={"problems": float(n)},
            log=proc.clip(res.stderr),
        )


def _finding(root: Path, item: dict) -> Finding:
    code = item.get("code") or "syntax-error"
    fix = item.get("fix") or {}
    hint = fix.get("message") or ("ruff check --fix can fix this" if fix else None)
    return Finding(
        rule_id=code,
        level=Level.ERROR,
        message=item.get("message", ""),
        tool="ruff",
        path=files.relative(root, item.get("filename")),
        line=(item.get("location") or {}).get("row"),
        column=(item.get("location") or {}).get("column"),
        end_line=(item.get("end_location") or {}).get("row"),
        fix_hint=hint,
        help_uri=item.get("url"),
    )
