"""The JSON report: a stable contract other tools and later suture commands read back."""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from suture.errors import UsageError
from suture.model import SCHEMA_VERSION, Finding, Run, StageResult
from suture.pipeline.reports.common import run_status, utc_iso

# The keys of the contract, in the order they are written. Changing them is a schema change.
RUN_KEYS = ("schema_version", "run_id", "status", "commit", "branch", "dirty", "started_at",
            "duration_s", "suture_version", "stages")
STAGE_KEYS = ("name", "kind", "status", "duration_s", "cached", "summary", "metrics",
              "tool_version", "findings")
FINDING_KEYS = ("rule_id", "level", "message", "path", "line", "column", "tool", "cwe",
                "fingerprint", "fix_hint", "baselined")


def render_json(run: Run) -> str:
    """The run as indented JSON with exactly the contract's keys."""
    payload = {
        "schema_version": SCHEMA_VERSION,
        "run_id": run.run_id,
        "status": run_status(run),
        "commit": run.commit,
        "branch": run.branch,
        "dirty": run.dirty,
        "started_at": utc_iso(run.started_at),
        "duration_s": run.duration_s,
        "suture_version": run.suture_version,
        "stages": [_stage(s) for s in run.stages],
    }
    return json.dumps(payload, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _stage(stage: StageResult) -> dict[str, Any]:
    return {
        "name": stage.name,
        "kind": stage.kind,
        "status": stage.status.value,
        "duration_s": stage.duration_s,
        "cached": stage.cached,
        "summary": stage.summary,
        # JSON has no NaN or infinity; such a metric is written as null and dropped on reading.
        "metrics": {k: (v if math.isfinite(v) else None) for k, v in stage.metrics.items()},
        "tool_version": stage.tool_version,
        "findings": [_finding(f) for f in stage.findings],
    }


def _finding(f: Finding) -> dict[str, Any]:
    return {
        "rule_id": f.rule_id,
        "level": f.level.value,
        "message": f.message,
        "path": f.path,
        "line": f.line,
        "column": f.column,
        "tool": f.tool,
        "cwe": f.cwe,
        "fingerprint": f.fingerprint,
        "fix_hint": f.fix_hint,
        "baselined": f.baselined,
    }


def run_from_json(text: str, source: str = "<report>") -> Run:
    """Read a JSON report back into a Run; fields the contract does not carry get defaults.

    `root` comes back empty (reports are portable between machines). Raises UsageError when the
    text is not a suture JSON report of this schema version.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{source} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
            hint="pass a report written by `suture` with the json format",
        ) from exc
    if not isinstance(data, dict) or "schema_version" not in data:
        raise UsageError(f"{source} is not a suture JSON report (no schema_version)",
                         hint="pass a report written by `suture` with the json format")
    if data["schema_version"] != SCHEMA_VERSION:
        raise UsageError(
            f"{source} has report schema version {data['schema_version']!r}, "
            f"this suture reads version {SCHEMA_VERSION}",
            hint="write the report again with this version of suture",
        )
    try:
        return _run(data)
    except (KeyError, TypeError, ValueError, ValidationError) as exc:
        raise UsageError(f"{source} does not match the suture JSON report contract: {exc}",
                         hint="pass the file unmodified as `suture` wrote it") from exc


def _run(data: dict[str, Any]) -> Run:
    return Run(
        run_id=data["run_id"],
        status=data["status"],
        root="",
        commit=data["commit"],
        branch=data["branch"],
        dirty=data["dirty"],
        started_at=datetime.fromisoformat(data["started_at"]),
        duration_s=data["duration_s"],
        suture_version=data["suture_version"],
        stages=tuple(
            StageResult(
                **{k: s[k] for k in STAGE_KEYS if k not in ("metrics", "findings")},
                metrics={k: v for k, v in s["metrics"].items() if v is not None},
                findings=tuple(Finding(**{k: f[k] for k in FINDING_KEYS}) for f in s["findings"]),
            )
            for s in data["stages"]
        ),
    )
