"""The `secrets` gate: detect-secrets over the repository's files; the secret is never shown."""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from suture import proc
from suture.errors import ToolError
from suture.gates import files
from suture.gates.interface import Gate, GateConfig, GateContext, GateReport
from suture.model import Finding, Level

DEFAULT_BASELINE = ".secrets.baseline"
# Files per detect-secrets call: keeps the command line far below the OS argument limit.
BATCH = 400
FIX_HINT = (
    "remove it, rotate the credential, and load it from the environment or a secret manager; "
    "if it is not a secret, add `# pragma: allowlist secret` to the line or record it in the "
    "detect-secrets baseline"
)
# detect-secrets-hook: 0 nothing new, 1 new secrets (printed), 3 baseline copy was refreshed.
_OK_CODES = (0, 1, 3)


class SecretsConfig(GateConfig):
    """Settings of the `secrets` gate."""

    baseline: str | None = Field(
        None,
        description="detect-secrets baseline (repo-relative) whose recorded secrets are accepted; "
        "defaults to `.secrets.baseline` when it exists. Entries audited as real secrets "
        "(`is_secret: true`) are never accepted.",
    )


class SecretsGate(Gate):
    """Finds credentials committed to the repository with detect-secrets."""

    kind = "secrets"
    description = "detect-secrets: credentials committed to the repository (never shown)"
    Config = SecretsConfig
    # The pre-commit entry point: it compares against a baseline and prints only what is new.
    tool_name: ClassVar[str] = "detect-secrets-hook"

    config: SecretsConfig

    def tool_version(self, ctx: GateContext) -> str:
        """detect-secrets' version (the `bc-detect-secrets` fork reports its own numbering)."""
        version = proc.tool_version((self._tool(ctx), "--version")).splitlines()[0]
        return f"detect-secrets {version}"

    def input_files(self, ctx: GateContext) -> Iterable[Path]:
        """Every scanned file, plus the baseline."""
        baseline = self._baseline(ctx.root)
        return [*self._targets(ctx.root, baseline), *([baseline] if baseline else [])]

    def run(self, ctx: GateContext) -> GateReport:
        """Scan the repository's files and report each secret not accepted by the baseline."""
        tool = self._tool(ctx)
        baseline = self._baseline(ctx.root)
        targets = [p.relative_to(ctx.root).as_posix() for p in self._targets(ctx.root, baseline)]
        timeout = self.config.timeout or ctx.timeout
        accepted = 0
        raw: list[dict[str, Any]] = []
        stderr: list[str] = []
        with tempfile.TemporaryDirectory(prefix="suture-secrets-") as tmp:
            # The hook rewrites the baseline it is given, so it only ever sees a private copy.
            copy = Path(tmp) / "baseline.json"
            if baseline is not None:
                accepted = _write_accepted_baseline(baseline, copy)
            for start in range(0, len(targets), BATCH):
                cmd = [tool, "--json", "--no-verify"]
                if baseline is not None:
                    cmd += ["--baseline", str(copy)]
                batch = targets[start : start + BATCH]
                res = proc.run([*cmd, "--", *batch], cwd=ctx.root, timeout=timeout)
                raw += _parse(res)
                if res.stderr.strip():
                    stderr.append(res.stderr.strip())
        findings = tuple(sorted((_finding(r) for r in raw), key=_order))
        n_files = len({f.path for f in findings})
        if findings:
            summary = f"{len(findings)} possible secret(s) in {n_files} file(s)"
        else:
            summary = f"no secrets in {len(targets)} file(s)"
        # Built from counts only: detect-secrets' stdout is never stored, so nothing can leak.
        log = (
            f"{self.tool_name} scanned {len(targets)} file(s); baseline: "
            f"{baseline.relative_to(ctx.root).as_posix() if baseline else 'none'}"
            f" ({accepted} accepted entr{'y' if accepted == 1 else 'ies'}); "
            f"{len(findings)} new possible secret(s)"
        )
        if stderr:
            log += "\nstderr:\n" + proc.clip("\n".join(stderr))
        return GateReport(
            findings=findings,
            summary=summary,
            metrics={"files_scanned": float(len(targets)), "secrets": float(len(findings))},
            log=log,
        )

    def _tool(self, ctx: GateContext) -> str:
        return proc.require_tool(self.tool_name, ctx.python, package="detect-secrets")

    def _baseline(self, root: Path) -> Path | None:
        if self.config.baseline is None:
            default = root / DEFAULT_BASELINE
            return default if default.is_file() else None
        path = root / self.config.baseline
        if not path.is_file():
            raise ToolError(
                f"detect-secrets baseline {self.config.baseline} does not exist in {root}",
                hint="create it with `detect-secrets scan > .secrets.baseline`, or remove "
                "`baseline:` from the secrets gate in suture.yml",
            )
        return path

    def _targets(self, root: Path, baseline: Path | None) -> list[Path]:
        picked = files.select(root, exclude=self.config.exclude)
        # The baseline is full of hex hashes that the entropy detectors would flag.
        skip = {baseline.resolve()} if baseline else set()
        return [p for p in picked if p.resolve() not in skip]


def _write_accepted_baseline(baseline: Path, dest: Path) -> int:
    """Copy a baseline without the entries audited as real secrets; returns how many remain."""
    try:
        data = json.loads(baseline.read_text(encoding="utf-8"))
        results = data["results"]
        if not isinstance(results, dict):
            raise TypeError("results is not a mapping")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ToolError(
            f"detect-secrets baseline {baseline} is not a valid baseline ({exc})",
            hint="regenerate it with `detect-secrets scan > .secrets.baseline`",
        ) from exc
    kept = {
        name: [s for s in entries if isinstance(s, dict) and s.get("is_secret") is not True]
        for name, entries in results.items()
        if isinstance(entries, list)
    }
    data["results"] = {name: entries for name, entries in kept.items() if entries}
    dest.write_text(json.dumps(data), encoding="utf-8")
    return sum(len(e) for e in data["results"].values())


def _parse(res: proc.CmdResult) -> list[dict[str, Any]]:
    """The secrets in one detect-secrets-hook result; raises ToolError if it did not scan."""
    if res.returncode not in _OK_CODES:
        # stdout is left out on purpose: only stderr (tracebacks, usage) goes into the error.
        raise ToolError(
            f"detect-secrets exited with code {res.returncode} without a verdict",
            hint="run `detect-secrets-hook --json` on the files by hand to see why\n"
            + proc.clip(res.stderr),
        )
    if res.returncode != 1:
        return []
    try:
        data = json.loads(res.stdout)
        results = data["results"]
        return [s for entries in results.values() for s in entries]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ToolError(
            "detect-secrets reported secrets but its JSON output could not be read",
            hint=f"check the installed detect-secrets version ({exc})\n" + proc.clip(res.stderr),
        ) from exc


def _finding(secret: dict[str, Any]) -> Finding:
    kind = str(secret.get("type") or "Secret")
    path = str(secret.get("filename", "")).replace("\\", "/").removeprefix("./")
    hashed = str(secret.get("hashed_secret", ""))
    line = secret.get("line_number")
    return Finding(
        rule_id=f"secrets/{_slug(kind)}",
        level=Level.ERROR,
        message=f"Possible {kind} committed",
        tool="detect-secrets",
        path=path or None,
        line=line if isinstance(line, int) and line > 0 else None,
        cwe="CWE-798",
        fingerprint=_fingerprint(path, kind, hashed),
        fix_hint=FIX_HINT,
        # Set here so the executor does not quote the flagged line, which holds the secret.
        snippet=f"[line hidden: it may hold a {kind}]",
    )


def _fingerprint(path: str, kind: str, hashed_secret: str) -> str:
    """Stable across line moves, distinct per file and detector, and not reversible."""
    return hashlib.sha256(f"{path}\0{kind}\0{hashed_secret}".encode()).hexdigest()[:32]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "secret"


def _order(f: Finding) -> tuple[str, int, str]:
    return (f.path or "", f.line or 0, f.rule_id)
