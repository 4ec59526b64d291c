"""SARIF 2.1.0 for GitHub code scanning and SARIF viewers: one SARIF run per stage.

GitHub keys alerts by tool and category (`automationDetails.id`) and refuses files with two runs
of the same tool and category, so each stage is its own run with category `suture/<stage>/`.
A run is written even when the stage found nothing, so fixed alerts get closed. Skipped stages
analysed nothing and are left out, so their earlier alerts stay open.
"""

from __future__ import annotations

import json
import re
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from suture.model import Finding, Level, Run, StageResult, StageStatus
from suture.pipeline.reports.common import LEVEL_RANK, log_tail, one_line

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
# Where a finding without a file points: the configuration that defines the gate. GitHub rejects
# results without a location, and the gate's entry is where the user acts on such a result.
FALLBACK_URI = "suture.yml"
# The tool each built-in gate kind wraps. GitHub matches alerts by tool name and category, so the
# driver name must not change between runs (e.g. when the tool was missing and left no version).
KIND_TOOLS = {"tests": "pytest", "lint": "ruff", "sast": "bandit", "deps": "suture-osv"}
TOOL_URIS = {
    "pytest": "https://docs.pytest.org/",
    "coverage": "https://coverage.readthedocs.io/",
    "ruff": "https://docs.astral.sh/ruff/",
    "bandit": "https://bandit.readthedocs.io/",
    "detect-secrets": "https://github.com/Yelp/detect-secrets",  # pragma: allowlist secret
    "pip-audit": "https://github.com/pypa/pip-audit",
    "checkov": "https://www.checkov.io/",
    "suture-osv": "https://osv.dev/",
}
SECURITY_TOOLS = frozenset(
    {"bandit", "osv", "suture-osv", "detect-secrets", "pip-audit", "checkov"})
# GitHub's scale: 9.0+ critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low.
_SECURITY_SEVERITY = {Level.ERROR: "7.5", Level.WARNING: "5.0", Level.NOTE: "2.0"}
_VERSION = re.compile(r"\d+(?:\.\d+)+[\w.+-]*")
_CWE = re.compile(r"(\d+)")


def render_sarif(run: Run) -> str:
    """The run as a SARIF 2.1.0 log, indented JSON."""
    log = {
        "$schema": SARIF_SCHEMA_URI,
        "version": SARIF_VERSION,
        "runs": [_sarif_run(run, s) for s in run.stages if s.status is not StageStatus.SKIPPED],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def driver_name(stage: StageResult) -> str:
    """The tool a stage ran: known per built-in kind, else the first word of its version string
    (`detect-secrets 1.5.0`), else the stage's name."""
    if stage.kind in KIND_TOOLS:
        return KIND_TOOLS[stage.kind]
    first = stage.tool_version.split(maxsplit=1)[0] if stage.tool_version.strip() else ""
    if first[:1].isalpha() and first != "unknown":
        return first
    return stage.name


def _sarif_run(run: Run, stage: StageResult) -> dict[str, Any]:
    rules, index = _rules(stage)
    driver: dict[str, Any] = {"name": driver_name(stage)}
    version = _VERSION.search(stage.tool_version)
    if version:
        driver["version"] = version.group(0)
    if driver["name"] in TOOL_URIS:
        driver["informationUri"] = TOOL_URIS[driver["name"]]
    driver["rules"] = rules
    out: dict[str, Any] = {
        "tool": {"driver": driver},
        "automationDetails": {"id": f"suture/{stage.name}/"},
        "invocations": [_invocation(stage)],
        "columnKind": "unicodeCodePoints",
        "results": [_result(f, index[f.rule_id]) for f in stage.findings],
        "properties": {"stage": stage.name, "kind": stage.kind, "cached": stage.cached,
                       "durationSeconds": stage.duration_s, "suture/runId": run.run_id},
    }
    if run.root.startswith("/"):
        out["originalUriBaseIds"] = {
            "%SRCROOT%": {"uri": PurePosixPath(run.root).as_uri().rstrip("/") + "/"}
        }
    if run.commit:
        provenance: dict[str, Any] = {
            "repositoryUri": out.get("originalUriBaseIds", {}).get("%SRCROOT%", {}).get(
                "uri", "file:///"),
            "revisionId": run.commit,
        }
        if run.branch:
            provenance["branch"] = run.branch
        out["versionControlProvenance"] = [provenance]
    return out


def _invocation(stage: StageResult) -> dict[str, Any]:
    ok = stage.status is not StageStatus.ERROR
    inv: dict[str, Any] = {"executionSuccessful": ok}
    if not ok:
        text = stage.summary or "the tool could not reach a verdict"
        tail = log_tail(stage)
        inv["toolExecutionNotifications"] = [{
            "level": "error",
            "message": {"text": f"{text}\n\n{tail}" if tail else text},
            "descriptor": {"id": f"suture/{stage.kind}/error"},
        }]
    return inv


def _rules(stage: StageResult) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """One reportingDescriptor per rule id, in first-seen order, and rule id -> index."""
    by_rule: dict[str, list[Finding]] = {}
    for f in stage.findings:
        by_rule.setdefault(f.rule_id, []).append(f)
    rules = [_rule(rule_id, found) for rule_id, found in by_rule.items()]
    return rules, {rule_id: i for i, rule_id in enumerate(by_rule)}


def _rule(rule_id: str, found: list[Finding]) -> dict[str, Any]:
    first = found[0]
    worst = min((f.level for f in found), key=LEVEL_RANK.__getitem__)
    cwe = next((f.cwe for f in found if f.cwe), None)
    help_uri = next((f.help_uri for f in found if f.help_uri), None)
    hint = next((f.fix_hint for f in found if f.fix_hint), None)
    title = one_line(first.message, 120) or rule_id
    rule: dict[str, Any] = {
        "id": rule_id,
        "shortDescription": {"text": title},
        "fullDescription": {"text": f"{first.tool} {rule_id}: {one_line(first.message, 1000)}"},
        "defaultConfiguration": {"level": worst.value},
        "help": _help(rule_id, hint, help_uri),
    }
    if help_uri:
        rule["helpUri"] = help_uri
    tags: list[str] = []
    security = cwe is not None or any(f.tool in SECURITY_TOOLS for f in found)
    if security:
        tags.append("security")
    if cwe and (number := _CWE.search(cwe)):
        tags.append(f"external/cwe/cwe-{int(number.group(1))}")
    props: dict[str, Any] = {"tags": tags, "tool": first.tool}
    if security:
        props["security-severity"] = _SECURITY_SEVERITY[worst]
    rule["properties"] = props
    return rule


def _help(rule_id: str, hint: str | None, help_uri: str | None) -> dict[str, str]:
    text = hint or f"See the documentation of {rule_id}."
    markdown = hint or f"See the documentation of `{rule_id}`."
    if help_uri:
        text += f"\n\nMore: {help_uri}"
        markdown += f"\n\n[Documentation]({help_uri})"
    return {"text": text, "markdown": markdown}


def _result(f: Finding, rule_index: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": f.rule_id,
        "ruleIndex": rule_index,
        "level": f.level.value,
        "message": {"text": f.message or f.rule_id},
        "locations": [_location(f)],
        "baselineState": "unchanged" if f.baselined else "new",
        "properties": {"tool": f.tool},
    }
    if f.fingerprint:
        result["partialFingerprints"] = {"suture/v1": f.fingerprint}
    if f.fix_hint:
        result["properties"]["fixHint"] = f.fix_hint
    return result


def _location(f: Finding) -> dict[str, Any]:
    physical: dict[str, Any] = {
        "artifactLocation": {"uri": artifact_uri(f.path or FALLBACK_URI), "uriBaseId": "%SRCROOT%"}
    }
    if f.path and f.line is not None and f.line >= 1:
        region: dict[str, Any] = {"startLine": f.line}
        if f.column is not None and f.column >= 1:
            region["startColumn"] = f.column
        if f.end_line is not None and f.end_line >= f.line:
            region["endLine"] = f.end_line
        physical["region"] = region
    return {"physicalLocation": physical}


def artifact_uri(path: str) -> str:
    """A repository-relative path as a relative URI reference (spaces and `%` escaped)."""
    posix = path.replace("\\", "/").lstrip("/")
    if posix.startswith("./"):
        posix = posix[2:]
    return quote(posix, safe="/-._~")
