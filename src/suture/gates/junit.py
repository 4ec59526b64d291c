"""Reading JUnit XML as pytest writes it (xunit1 family, which keeps file and line)."""

from __future__ import annotations

from dataclasses import dataclass

import defusedxml.ElementTree as SafeET

from suture.errors import ToolError


@dataclass(frozen=True)
class Case:
    """One test case that did not pass."""

    test_id: str
    outcome: str  # "failed" or "error"
    message: str
    details: str
    file: str | None
    line: int | None


@dataclass(frozen=True)
class Suite:
    """The totals of a JUnit report and its failing cases."""

    total: int
    skipped: int
    failed: tuple[Case, ...]


def parse(xml_text: str) -> Suite:
    """Parse JUnit XML text; raise ToolError when it is not JUnit."""
    try:
        root = SafeET.fromstring(xml_text)
    except SafeET.ParseError as exc:
        raise ToolError(f"the JUnit report is not valid XML: {exc}") from exc
    total = skipped = 0
    failed: list[Case] = []
    for case in root.iter("testcase"):
        total += 1
        if case.find("skipped") is not None:
            skipped += 1
            continue
        bad = case.find("failure")
        outcome = "failed"
        if bad is None:
            bad = case.find("error")
            outcome = "error"
        if bad is None:
            continue
        details = bad.text or ""
        message = (bad.get("message") or "").strip()
        if message in ("", "collection failure"):
            # pytest's message is generic here; the raised exception is the last `E ` line.
            raised = [ln[1:].strip() for ln in details.splitlines() if ln.startswith("E ")]
            message = raised[-1] if raised else message
        failed.append(Case(
            test_id=_test_id(case.get("file"), case.get("classname", ""), case.get("name", "")),
            outcome=outcome,
            message=message.splitlines()[0][:500] if message else "",
            details=details,
            file=case.get("file"),
            line=int(case.get("line")) + 1 if case.get("line", "").isdigit() else None,
        ))
    return Suite(total=total, skipped=skipped, failed=tuple(failed))


def _test_id(file: str | None, classname: str, name: str) -> str:
    """A pytest node id (tests/test_x.py::TestY::test_z) from JUnit attributes."""
    if not file:
        return f"{classname}::{name}" if classname else name
    module = file[:-3].replace("/", ".") if file.endswith(".py") else file
    if not classname and name == module:  # a collection error: the module itself
        return file
    rest = classname[len(module):].lstrip(".") if classname.startswith(module) else ""
    parts = [file, *([p for p in rest.split(".") if p]), name]
    return "::".join(parts)
