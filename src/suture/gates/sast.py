"""The `sast` gate: bandit, read from its JSON output, CWE ids kept."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import Field

from suture import proc
from suture.errors import ToolError
from suture.gates import files
from suture.gates.interface import Gate, GateConfig, GateContext, GateReport
from suture.model import Finding, Level

Rank = Literal["low", "medium", "high"]
# Medium and high severity issues (SQL injection, shell=True, weak crypto) fail the gate.
_LEVEL = {"HIGH": Level.ERROR, "MEDIUM": Level.ERROR, "LOW": Level.WARNING}


class SastConfig(GateConfig):
    """Settings of the sast gate."""

    paths: list[str] = Field(default_factory=lambda: ["."], description="Folders bandit scans.")
    exclude: list[str] = Field(
        default_factory=lambda: ["tests", "test", "*/tests/*"],
        description="Glob patterns bandit skips; tests by default (assert is fine there).",
    )
    severity: Rank = Field("low", description="Lowest bandit severity reported.")
    confidence: Rank = Field("low", description="Lowest bandit confidence reported.")
    skip: list[str] = Field(default_factory=list, description="Bandit test ids to skip (B101...).")


class SastGate(Gate):
    """Runs bandit on the project's Python code; `# nosec` comments are honoured by bandit."""

    kind = "sast"
    description = "bandit: insecure code patterns, with CWE ids"
    Config = SastConfig
    config: SastConfig

    def _bandit(self, ctx: GateContext) -> str:
        return proc.require_tool("bandit", ctx.python)

    def tool_version(self, ctx: GateContext) -> str:
        """bandit's version string."""
        return proc.tool_version((self._bandit(ctx), "--version")).splitlines()[0]

    def input_files(self, ctx: GateContext) -> Iterable[Path]:
        """Python sources bandit will read, and pyproject.toml for its configuration."""
        found = self._targets(ctx)
        if (ctx.root / "pyproject.toml").is_file():
            found.append(ctx.root / "pyproject.toml")
        return found

    def _targets(self, ctx: GateContext) -> list[Path]:
        return files.select(
            ctx.root, suffixes=(".py",), under=self.config.paths, exclude=self.config.exclude
        )

    def run(self, ctx: GateContext) -> GateReport:
        """Run bandit on the selected files and map each issue to a finding."""
        targets = self._targets(ctx)
        if not targets:
            return GateReport(summary="no Python files to scan")
        cmd = [self._bandit(ctx), "-f", "json", "-q",
               "--severity-level", self.config.severity, "--confidence-level",
               self.config.confidence]
        if _has_bandit_table(ctx.root / "pyproject.toml"):
            cmd += ["-c", "pyproject.toml"]
        if self.config.skip:
            cmd += ["--skip", ",".join(self.config.skip)]
        cmd += [str(p.relative_to(ctx.root)) for p in targets]
        res = proc.run(cmd, cwd=ctx.root, timeout=self.config.timeout or ctx.timeout)
        if res.returncode not in (0, 1):
            raise ToolError(f"bandit exited with {res.returncode}", hint=res.describe())
        try:
            data = json.loads(res.stdout)
        except json.JSONDecodeError as exc:
            raise ToolError("bandit printed output that is not JSON", hint=res.describe()) from exc
        findings = [_finding(ctx.root, r) for r in data.get("results", [])]
        findings += [
            Finding(rule_id="bandit/parse-error", level=Level.WARNING, tool="bandit",
                    message=f"bandit could not analyse this file: {e.get('reason', '')}",
                    path=files.relative(ctx.root, e.get("filename")))
            for e in data.get("errors", [])
        ]
        n = len(findings)
        return GateReport(
            findings=tuple(findings),
            summary=f"{n} security issue{'s' * (n != 1)} in {_files(len(targets))}"
            if n else f"no security issues in {_files(len(targets))}",
            metrics={"issues": float(n), "files": float(len(targets))},
            log=proc.clip(res.stderr),
        )


def _files(n: int) -> str:
    return f"{n} file{'s' * (n != 1)}"


def _has_bandit_table(pyproject: Path) -> bool:
    try:
        return "bandit" in tomllib.loads(pyproject.read_text()).get("tool", {})
    except (OSError, tomllib.TOMLDecodeError):
        return False


def _finding(root: Path, r: dict) -> Finding:
    cwe = (r.get("issue_cwe") or {}).get("id")
    sev = str(r.get("issue_severity", "LOW")).upper()
    conf = str(r.get("issue_confidence", "LOW")).upper()
    return Finding(
        rule_id=f"{r.get('test_id')}",
        level=_LEVEL.get(sev, Level.WARNING),
        message=f"{r.get('issue_text', '')} (severity {sev.lower()}, confidence {conf.lower()})",
        tool="bandit",
        path=files.relative(root, r.get("filename")),
        line=r.get("line_number"),
        column=(r.get("col_offset") or 0) + 1,
        cwe=f"CWE-{cwe}" if cwe else None,
        help_uri=r.get("more_info"),
        fix_hint=f"see {r.get('more_info')}; if this is a false positive, mark the line "
        f"`# nosec {r.get('test_id')}` with a reason" if r.get("more_info") else None,
    )
