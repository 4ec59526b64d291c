"""JUnit XML for CI test-report publishers: a test suite per stage, a test case per finding."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # noqa: S405 - builds XML, never parses untrusted input

from suture.model import Finding, Level, Run, StageResult, StageStatus
from suture.pipeline.reports.common import location, log_tail, one_line, utc_iso

# Characters XML 1.0 forbids even escaped; tool logs carry them (ANSI escapes, NULs).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def render_junit(run: Run) -> str:
    """The run as a JUnit XML document with a `<testsuites>` root."""
    root = ET.Element("testsuites", name=f"suture run {run.run_id}")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for stage in run.stages:
        suite = _suite(run, stage)
        root.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", _seconds(run.duration_s or sum(s.duration_s for s in run.stages)))
    root.set("timestamp", utc_iso(run.started_at))
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def _suite(run: Run, stage: StageResult) -> ET.Element:
    suite = ET.Element("testsuite", name=stage.name, timestamp=utc_iso(run.started_at),
                       time=_seconds(stage.duration_s))
    props = ET.SubElement(suite, "properties")
    for name, value in (("kind", stage.kind), ("status", stage.status.value),
                        ("cached", str(stage.cached).lower()),
                        ("tool_version", stage.tool_version), ("summary", stage.summary)):
        ET.SubElement(props, "property", name=name, value=_clean(value))
    cases = _cases(stage)
    for case in cases:
        suite.append(case)
    suite.set("tests", str(len(cases)))
    for tag, key in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
        suite.set(key, str(sum(1 for c in cases if c.find(tag) is not None)))
    return suite


def _cases(stage: StageResult) -> list[ET.Element]:
    cases: list[ET.Element] = []
    if stage.status is StageStatus.ERROR:
        case = _case(stage, f"{stage.name} (tool error)", stage.duration_s)
        text = "\n\n".join(p for p in (stage.summary, log_tail(stage, 40)) if p)
        _child(case, "error", message=stage.summary or "the tool could not reach a verdict",
               type="ToolError", text=text)
        cases.append(case)
    elif stage.status is StageStatus.SKIPPED:
        case = _case(stage, stage.name, 0.0)
        _child(case, "skipped", message=f"stage skipped: {stage.summary}".rstrip(": "))
        cases.append(case)
    failing = _failing_levels(stage)
    for f in stage.findings:
        cases.append(_finding_case(stage, f, failing))
    if stage.status is StageStatus.FAILED and not any(c.find("failure") is not None
                                                       for c in cases):
        # A stage can fail without a new finding to pin it on (e.g. a policy on metrics).
        case = _case(stage, stage.name, stage.duration_s)
        _child(case, "failure", message=stage.summary or "stage failed", type="suture/stage",
               text=stage.summary)
        cases.append(case)
    if not cases:
        case = _case(stage, stage.name, stage.duration_s)
        if stage.summary:
            ET.SubElement(case, "system-out").text = _clean(stage.summary)
        cases.append(case)
    return cases


def _failing_levels(stage: StageResult) -> set[Level]:
    """Levels whose new findings count as failures: errors, or every level if a stage failed
    on warnings alone (its `fail_on` was lower than error)."""
    if stage.status is not StageStatus.FAILED:
        return set()
    new = stage.new_findings
    if any(f.level is Level.ERROR for f in new):
        return {Level.ERROR}
    return {f.level for f in new}


def _finding_case(stage: StageResult, f: Finding, failing: set[Level]) -> ET.Element:
    where = location(f)
    case = _case(stage, f"{f.rule_id} {where}" if where else f.rule_id, 0.0)
    details = "\n".join(p for p in (
        f"{f.level.value}: {f.message}",
        f"location: {where}" if where else "",
        f"tool: {f.tool}" + (f" ({f.cwe})" if f.cwe else ""),
        f"fix: {f.fix_hint}" if f.fix_hint else "",
        f"help: {f.help_uri}" if f.help_uri else "",
    ) if p)
    if f.baselined:
        _child(case, "skipped", message=f"baselined: {one_line(f.message, 200)}")
    elif f.level in failing:
        _child(case, "failure", message=one_line(f.message, 500), type=f.rule_id, text=details)
    else:
        ET.SubElement(case, "system-out").text = _clean(details)
    if f.path:
        case.set("file", _clean(f.path))
        if f.line is not None:
            case.set("line", str(f.line))
    return case


def _case(stage: StageResult, name: str, seconds: float) -> ET.Element:
    return ET.Element("testcase", classname=_clean(stage.name), name=_clean(name),
                      time=_seconds(seconds))


def _child(parent: ET.Element, tag: str, *, text: str = "", **attrs: str) -> None:
    el = ET.SubElement(parent, tag, {k: _clean(v) for k, v in attrs.items()})
    if text:
        el.text = _clean(text)


def _clean(text: str) -> str:
    return _XML_INVALID.sub("", text)


def _seconds(value: float) -> str:
    return f"{max(value, 0.0):.3f}"
