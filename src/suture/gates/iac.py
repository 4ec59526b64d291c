"""The `iac` gate: checkov on Terraform, Dockerfiles and Kubernetes manifests, fully offline."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field

from suture import proc
from suture.errors import ToolError
from suture.gates import files
from suture.gates.iac_severity import PARSE_ERROR_RULE, level_for
from suture.gates.interface import Gate, GateConfig, GateContext, GateReport
from suture.model import Finding, Level

# checkov's own Dockerfile name rule (checkov/common/util/dockerfile.py), so we pass what it scans.
_DOCKERFILE = re.compile(r"^(?:.+\.)?[Dd]ockerfile(?:\..+)?$")
# Manifests bigger than this are not parsed to decide whether they are Kubernetes objects.
_MAX_YAML_BYTES = 5_000_000
# Keeps checkov away from the network: no platform download, no PyPI update check, no upload.
_OFFLINE_ENV = {
    "BC_SKIP_MAPPING": "TRUE",
    "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true",
    "BC_API_KEY": "",
    "LOG_LEVEL": "WARNING",
}
# checkov takes seconds to start, so its version is asked once per process and program.
_SKIP_SYNTAX = {
    "terraform": "a `#checkov:skip={id}:<reason>` comment inside the resource block",
    "dockerfile": "a `#checkov:skip={id}:<reason>` comment in the Dockerfile",
    "kubernetes": "the annotation `checkov.io/skip1: {id}=<reason>` in the object's metadata",
}


class IacFramework(StrEnum):
    """Infrastructure formats the gate finds and hands to checkov."""

    TERRAFORM = "terraform"
    DOCKERFILE = "dockerfile"
    KUBERNETES = "kubernetes"


class IacConfig(GateConfig):
    """Settings of the `iac` gate."""

    frameworks: list[IacFramework] = Field(
        default_factory=lambda: list(IacFramework),
        min_length=1,
        description="Which infrastructure formats to check: terraform, dockerfile, kubernetes.",
    )
    severity: dict[str, Level] = Field(
        default_factory=dict,
        description="Per-check level overrides of suture's severity table, e.g. "
        "{CKV_AWS_20: error}; unknown checks default to warning.",
    )
    executable: str | None = Field(
        None,
        description="Path to the checkov program; defaults to the project's environment, "
        "then suture's, then PATH.",
    )


class IacGate(Gate):
    """Runs checkov offline on the repository's Terraform, Dockerfiles and Kubernetes YAML."""

    kind = "iac"
    description = "checkov: Terraform, Dockerfile and Kubernetes misconfigurations (offline)"
    Config = IacConfig
    config: IacConfig

    def tool_version(self, ctx: GateContext) -> str:
        """checkov's version."""
        text = proc.tool_version((self._checkov(ctx), "--version"), env=_OFFLINE_ENV)
        # checkov may print warnings before the version; the version is the last line.
        return f"checkov {text.splitlines()[-1].strip()}"

    def input_files(self, ctx: GateContext) -> Iterable[Path]:
        """The infrastructure files, plus checkov's config file when the project has one."""
        found = self._targets(ctx.root)
        configs = (ctx.root / ".checkov.yaml", ctx.root / ".checkov.yml")
        found += [p for p in configs if p.is_file()]
        return found

    def extra_cache_inputs(self, ctx: GateContext) -> str:
        """The severity table decides levels, so a change to it must invalidate cached results."""
        return json.dumps(sorted(self.config.severity.items()))

    def run(self, ctx: GateContext) -> GateReport:
        """Run checkov on the selected files and rank each failed check with the severity table."""
        targets = self._targets(ctx.root)
        if not targets:
            return GateReport(summary="no infrastructure files", metrics={"iac_files": 0.0})
        rel = [p.relative_to(ctx.root).as_posix() for p in targets]
        cmd = [
            self._checkov(ctx),
            "--output",
            "json",
            "--compact",
            "--skip-download",
            "--framework",
            *self.config.frameworks,
            "--file",
            *rel,
        ]
        res = proc.run(
            cmd, cwd=ctx.root, timeout=self.config.timeout or ctx.timeout, env=_OFFLINE_ENV
        )
        reports = _parse(res)
        findings = _dedupe([f for r in reports for f in self._findings(ctx.root, r)])
        skipped = sum(len(r.get("results", {}).get("skipped_checks") or []) for r in reports)
        summary = _summary(findings, len(targets))
        log = f"command: {' '.join(cmd)}\nreturn code: {res.returncode}\n{summary}"
        if skipped:
            log += f"\n{skipped} check(s) skipped by inline suppressions"
        if res.stderr.strip():
            log += "\nstderr:\n" + proc.clip(res.stderr.strip())
        return GateReport(
            findings=findings,
            summary=summary,
            metrics={
                "iac_files": float(len(targets)),
                "failed_checks": float(sum(f.rule_id != PARSE_ERROR_RULE for f in findings)),
                "skipped_checks": float(skipped),
                "parsing_errors": float(sum(f.rule_id == PARSE_ERROR_RULE for f in findings)),
            },
            log=log,
        )

    def _checkov(self, ctx: GateContext) -> str:
        wanted = self.config.executable
        if wanted and "/" in wanted:
            # A path: relative ones are relative to the repository, like every path in suture.yml.
            path = ctx.root / wanted
            exe = str(path) if path.is_file() and os.access(path, os.X_OK) else None
        else:
            exe = proc.find_tool(wanted or "checkov", ctx.python)
        if exe is None:
            raise ToolError(
                f"checkov is not installed (looked for {wanted or 'checkov'})",
                hint="pip install checkov, or set `executable:` of the iac gate in suture.yml",
            )
        return exe

    def _targets(self, root: Path) -> list[Path]:
        wanted = set(self.config.frameworks)
        picked = []
        for path in files.select(root, exclude=self.config.exclude):
            kind = detect(path)
            if kind is not None and kind in wanted:
                picked.append(path)
        return picked

    def _findings(self, root: Path, report: Mapping[str, Any]) -> list[Finding]:
        framework = str(report.get("check_type", ""))
        results = report.get("results") or {}
        out = [
            self._finding(root, framework, check) for check in results.get("failed_checks") or []
        ]
        for path in results.get("parsing_errors") or []:
            out.append(
                Finding(
                    rule_id=PARSE_ERROR_RULE,
                    level=level_for(PARSE_ERROR_RULE, self.config.severity),
                    message=f"checkov could not parse this {framework or 'file'}, "
                    "so none of its resources were checked",
                    tool="checkov",
                    path=files.relative(root, str(path)),
                    fix_hint="fix the syntax (`terraform validate` helps) so it can be checked",
                )
            )
        return out

    def _finding(self, root: Path, framework: str, check: Mapping[str, Any]) -> Finding:
        check_id = str(check.get("check_id") or "checkov")
        name = str(check.get("check_name") or check_id).rstrip(".")
        # Dockerfile-wide checks name the resource "Dockerfile." (file plus empty instruction).
        resource = str(check.get("resource") or "").rstrip(".")
        lines = check.get("file_line_range") or []
        start = lines[0] if len(lines) > 0 and isinstance(lines[0], int) and lines[0] > 0 else None
        end = lines[1] if len(lines) > 1 and isinstance(lines[1], int) and start else None
        path = files.relative(root, check.get("file_abs_path")) or str(
            check.get("file_path") or ""
        ).lstrip("/")
        guideline = check.get("guideline") or None
        skip = _SKIP_SYNTAX.get(framework, _SKIP_SYNTAX["terraform"]).format(id=check_id)
        hint = (
            f'fix {resource or "the flagged resource"} (checkov: "{name}"); if the risk '
            f"is accepted, record why with {skip}"
        )
        if guideline:
            hint += f"; see {guideline}"
        return Finding(
            rule_id=check_id,
            level=level_for(check_id, self.config.severity),
            message=f"{name} (resource {resource})" if resource else name,
            tool="checkov",
            path=path or None,
            line=start,
            end_line=end,
            fix_hint=hint,
            help_uri=str(guideline) if guideline else None,
        )


def detect(path: Path) -> IacFramework | None:
    """Which checkov framework a file belongs to, or None if it is not infrastructure code."""
    name = path.name
    if name.endswith(".tf"):
        return IacFramework.TERRAFORM
    if _DOCKERFILE.fullmatch(name) and not name.endswith(".dockerignore"):
        return IacFramework.DOCKERFILE
    if name.endswith((".yaml", ".yml")) and _is_kubernetes(path):
        return IacFramework.KUBERNETES
    return None


def _is_kubernetes(path: Path) -> bool:
    """True when any YAML document in the file is an object with `apiVersion` and `kind`."""
    try:
        if path.stat().st_size > _MAX_YAML_BYTES:
            return False
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    if "apiVersion" not in text or "kind" not in text:
        return False
    try:
        docs = list(yaml.safe_load_all(text))
    except yaml.YAMLError:
        # Helm templates and other non-YAML: checkov's kubernetes runner could not read them either.
        return False
    return any(isinstance(d, dict) and "apiVersion" in d and "kind" in d for d in docs)


def _parse(res: proc.CmdResult) -> list[dict[str, Any]]:
    """checkov's JSON: one report object, a list of them, or a bare summary when nothing ran."""
    # 0: all checks passed, 1: some failed; anything else is checkov failing to run.
    if res.returncode not in (0, 1):
        raise ToolError(
            f"checkov exited with code {res.returncode} without a verdict",
            hint="run the command by hand to see why\n" + res.describe(),
        )
    try:
        data = json.loads(res.stdout)
    except ValueError as exc:
        raise ToolError(
            "checkov's output is not the JSON report it was asked for",
            hint=f"check the checkov installation ({exc})\n" + res.describe(),
        ) from exc
    reports = data if isinstance(data, list) else [data]
    if not all(isinstance(r, dict) for r in reports) or not all(
        "results" in r or "passed" in r for r in reports
    ):
        raise ToolError(
            "checkov's JSON report has an unexpected shape",
            hint="check that the installed checkov is version 3 or newer\n" + res.describe(),
        )
    return [r for r in reports if "results" in r]


def _dedupe(findings: list[Finding]) -> tuple[Finding, ...]:
    seen: dict[tuple[Any, ...], Finding] = {}
    for f in findings:
        seen.setdefault((f.rule_id, f.path, f.line, f.message), f)
    return tuple(sorted(seen.values(), key=lambda f: (f.path or "", f.line or 0, f.rule_id)))


def _summary(findings: tuple[Finding, ...], n_files: int) -> str:
    if not findings:
        return f"no failed checks in {n_files} infrastructure file(s)"
    counts = {lvl: sum(f.level == lvl for f in findings) for lvl in Level}
    parts = ", ".join(f"{n} {lvl.value}" for lvl, n in counts.items() if n)
    paths = len({f.path for f in findings})
    return f"{len(findings)} failed check(s) ({parts}) in {paths} of {n_files} file(s)"
