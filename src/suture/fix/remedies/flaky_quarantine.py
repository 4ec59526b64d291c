"""The flaky-quarantine remedy: a flaky test keeps running but stops breaking the build, a while.

A test the diagnosis found flaky (it failed some, not all, of its isolated re-runs) gets
`@pytest.mark.xfail(strict=False, reason=...)`: it still runs and reports, a failure no longer
fails the gate. The reason names the expiry date, and `suture-quarantine.json` at the project
root keeps the record (evidence, run, dates), so the quarantine is visible and temporary.
Nothing is ever deleted or skipped. The decorator is added with libcst, so the rest of the file
keeps its formatting.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Literal

import libcst as cst
from pydantic import BaseModel, ConfigDict, ValidationError

from suture.errors import ConfigError
from suture.fix.remedies.interface import FixTarget, Proposal, RemedyContext
from suture.model import Category, Diagnosis, EvidenceKind

RECORD_NAME = "suture-quarantine.json"
DEFAULT_DAYS = 14
MARKER_TAG = "quarantined by suture"
_RUNS = re.compile(r"^(\d+)/(\d+) isolated runs failed")
_SUBJECT_MAX = 72


class QuarantineEntry(BaseModel):
    """One quarantined test: why, on what evidence, since when and until when."""

    model_config = ConfigDict(frozen=True, extra="allow")  # keep fields a person added

    test_id: str
    reason: str
    evidence: list[str]
    run_id: str
    quarantined_on: date
    expires_on: date


class QuarantineRecord(BaseModel):
    """The content of suture-quarantine.json."""

    model_config = ConfigDict(frozen=True, extra="allow")

    schema_version: Literal[1] = 1
    tests: list[QuarantineEntry] = []


@dataclass(frozen=True)
class FlakyTest:
    """A test the diagnosis found flaky, with its isolated re-run counts when known."""

    test_id: str
    failures: int | None = None
    runs: int | None = None


class FlakyQuarantine:
    """Marks the diagnosed flaky tests xfail(strict=False) and records the quarantine."""

    name = "flaky-quarantine"

    def __init__(self, *, today: date | None = None, days: int = DEFAULT_DAYS) -> None:
        self.today = today
        self.days = days

    def applies(self, target: FixTarget) -> bool:
        """Only for a diagnosis that found a flaky test."""
        return target.diagnosis is not None and target.diagnosis.category == Category.FLAKY_TEST

    def propose(self, target: FixTarget, workdir: Path, ctx: RemedyContext) -> Iterator[Proposal]:
        """One candidate quarantining every flaky test of the stage; none if none can be found."""
        if target.diagnosis is None:
            return
        today = self.today or datetime.now(UTC).date()
        until = today + timedelta(days=self.days)
        flaky = flaky_tests(target.diagnosis)
        by_file: dict[str, list[FlakyTest]] = {}
        for test in flaky:
            by_file.setdefault(test.test_id.split("::", 1)[0], []).append(test)
        record = _load_record(workdir)  # a broken record stops us before any file is touched
        done: list[FlakyTest] = []
        for rel, tests in by_file.items():
            done += _quarantine_file(workdir, rel, tests, until)
        if not done:
            return
        _write_record(workdir, record, target, done, today, until)
        ids = tuple(t.test_id for t in done)
        fingerprints = {f"test:{i}" for i in ids}
        addresses = tuple(f.fingerprint for f in target.stage.new_findings
                          if f.fingerprint in fingerprints) or ids
        yield Proposal(summary=_summary(ids, until), rationale=_rationale(target.diagnosis, done,
                                                                          until),
                       addresses=addresses, quarantined=ids)


def flaky_tests(diagnosis: Diagnosis) -> list[FlakyTest]:
    """The tests that failed some but not all isolated re-runs, from the diagnosis evidence.

    Falls back to the ids in the root cause ("<ids> fails intermittently") without counts.
    """
    found: dict[str, FlakyTest] = {}
    for why in diagnosis.chain:
        for ev in why.evidence:
            match = _RUNS.match(ev.text)
            if ev.kind == EvidenceKind.TEST and ev.ref and match:
                failures, runs = int(match.group(1)), int(match.group(2))
                if 0 < failures < runs:
                    found[ev.ref] = FlakyTest(ev.ref, failures, runs)
    if found:
        return list(found.values())
    head = diagnosis.root_cause.split(" fails intermittently", 1)
    if len(head) != 2:
        return []
    return [FlakyTest(i.strip()) for i in head[0].split(",") if "::" in i]


def marker_reason(until: date, tests: Sequence[FlakyTest]) -> str:
    """The xfail reason: the expiry date and the evidence, pointing at the record file."""
    counted = [t for t in tests if t.failures is not None and t.runs is not None]
    if counted:
        failures = sum(t.failures or 0 for t in counted)
        runs = sum(t.runs or 0 for t in counted)
        why = f"flaky ({failures} of {runs} isolated runs failed)"
    else:
        why = "flaky (fails intermittently)"
    return f"{MARKER_TAG} until {until.isoformat()}: {why}; see {RECORD_NAME}"


def _quarantine_file(workdir: Path, rel: str, tests: list[FlakyTest],
                     until: date) -> list[FlakyTest]:
    """Decorate the flaky tests' functions in one test file; the tests it could mark."""
    base = workdir.resolve()
    path = (base / rel).resolve()
    if base not in path.parents or path.suffix != ".py" or not path.is_file():
        return []
    source = path.read_text(encoding="utf-8")
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError:
        return []
    groups: dict[tuple[str, ...], list[FlakyTest]] = {}
    for test in tests:
        groups.setdefault(_function_path(test.test_id), []).append(test)
    alias = _pytest_alias(module)
    marker = _Marker(
        {key: _decorator(alias or "pytest", marker_reason(until, group))
         for key, group in groups.items()})
    changed = module.visit(marker)
    if not marker.marked:
        return []
    if alias is None:
        changed = _add_pytest_import(changed, workdir)
    path.write_text(changed.code, encoding="utf-8")
    return [t for key in marker.marked for t in groups[key]]


def _function_path(test_id: str) -> tuple[str, ...]:
    """path::Class::test[param] -> ("Class", "test"): where the function is in its module."""
    parts = test_id.split("::")[1:]
    if parts:
        parts[-1] = parts[-1].split("[", 1)[0]
    return tuple(parts)


def _decorator(alias: str, reason: str) -> cst.Decorator:
    # Split over lines so the marker fits an 88-column limit (black's) even in a class body.
    until, rest = reason.split(": ", 1)
    why, see = rest.split("; ", 1)
    parts = [json.dumps(p) for p in (f"{until}: ", f"{why}; ", see)]
    source = (f"@{alias}.mark.xfail(\n    strict=False,\n    reason={parts[0]}\n"
              f"    {parts[1]}\n    {parts[2]},\n)\ndef f():\n    pass\n")
    statement = cst.parse_statement(source)
    assert isinstance(statement, cst.FunctionDef)  # noqa: S101 - built just above
    return statement.decorators[0]


class _Marker(cst.CSTTransformer):
    """Adds the quarantine decorator to the test functions at the given class/function paths."""

    def __init__(self, decorators: dict[tuple[str, ...], cst.Decorator]) -> None:
        super().__init__()
        self.decorators = decorators
        self.marked: list[tuple[str, ...]] = []
        self._scope: list[tuple[str, bool]] = []  # (name, is a class)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:  # noqa: N802 - libcst's naming
        self._scope.append((node.name.value, True))

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef  # noqa: N802
                       ) -> cst.ClassDef:
        self._scope.pop()
        return updated

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:  # noqa: N802
        self._scope.append((node.name.value, False))

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef  # noqa: N802
                          ) -> cst.FunctionDef:
        scope = self._scope.pop()
        outer = self._scope
        if not all(is_class for _, is_class in outer):
            return updated  # a function nested in a function is no test
        key = (*(name for name, _ in outer), scope[0])
        decorator = self.decorators.get(key)
        if decorator is None or key in self.marked:
            return updated
        kept = []
        for existing in updated.decorators:
            code = cst.Module([]).code_for_node(existing.decorator)
            if MARKER_TAG in code:
                continue  # an earlier quarantine of ours: renew it
            if re.search(r"\bmark\s*\.\s*xfail\b", code):
                return updated  # someone marked it already; leave their decision alone
            kept.append(existing)
        self.marked.append(key)
        return updated.with_changes(decorators=[decorator, *kept])


def _pytest_alias(module: cst.Module) -> str | None:
    """The name `import pytest [as x]` binds at the top level, if the module has one."""
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if not isinstance(small, cst.Import):
                continue
            for alias in small.names:
                if isinstance(alias.name, cst.Name) and alias.name.value == "pytest":
                    if alias.asname is None:
                        return "pytest"
                    if isinstance(alias.asname.name, cst.Name):
                        return alias.asname.name.value
    return None


def _import_kind(small: cst.BaseSmallStatement, workdir: Path) -> str | None:
    """future, std, first or third for an import statement; None for anything else."""
    if isinstance(small, cst.Import):
        name = cst.Module([]).code_for_node(small.names[0].name)
    elif isinstance(small, cst.ImportFrom):
        if small.relative or small.module is None:
            return "first"
        name = cst.Module([]).code_for_node(small.module)
    else:
        return None
    top = name.split(".", 1)[0]
    if top == "__future__":
        return "future"
    if top in sys.stdlib_module_names:
        return "std"
    for folder in (workdir, workdir / "src"):
        if (folder / top).is_dir() or (folder / f"{top}.py").is_file():
            return "first"
    return "third"


def _add_pytest_import(module: cst.Module, workdir: Path) -> cst.Module:
    """`import pytest` where isort would put it: among third-party imports, or a new section."""
    body = list(module.body)
    start = 1 if body and _is_docstring(body[0]) else 0
    block: list[tuple[int, str, bool]] = []  # (index, kind, plain `import`)
    for index in range(start, len(body)):
        statement = body[index]
        if not isinstance(statement, cst.SimpleStatementLine) or not statement.body:
            break
        kind = _import_kind(statement.body[0], workdir)
        if kind is None:
            break
        block.append((index, kind, isinstance(statement.body[0], cst.Import)))
    new = cst.parse_statement("import pytest\n")
    assert isinstance(new, cst.SimpleStatementLine)  # noqa: S101 - parsed just above
    third = [(i, plain) for i, kind, plain in block if kind == "third"]
    blank = cst.EmptyLine()
    if third:
        first_index = third[0][0]
        at = next((i for i, plain in third if not plain or _module_name(body[i]) > "pytest"),
                  third[-1][0] + 1)
        if at == first_index:  # the new line opens the section: it takes the blank line
            new = new.with_changes(leading_lines=body[at].leading_lines)
            body[at] = _with_leading(body[at], ())
        body.insert(at, new)
    elif any(kind in ("future", "std") for _, kind, _ in block):
        last = max(i for i, kind, _ in block if kind in ("future", "std"))
        body.insert(last + 1, new.with_changes(leading_lines=(blank,)))
        after = last + 2
        if after < len(body) and not body[after].leading_lines and _is_import(body[after]):
            body[after] = _with_leading(body[after], (blank,))
    elif block:  # only first-party imports: a section of its own before them
        new = new.with_changes(leading_lines=body[start].leading_lines)
        body[start] = _with_leading(body[start], (blank,))
        body.insert(start, new)
    else:  # no imports: after the docstring, two blank lines before a def or class
        at = start
        if at < len(body):
            compound = isinstance(body[at], (cst.FunctionDef, cst.ClassDef))
            wanted = max(2 if compound else 1, len(body[at].leading_lines))
            body[at] = _with_leading(body[at], (blank,) * wanted)
        body.insert(at, new.with_changes(leading_lines=(blank,) if start else ()))
    return module.with_changes(body=body)


_Statement = cst.SimpleStatementLine | cst.BaseCompoundStatement


def _with_leading(statement: _Statement, lines: Sequence[cst.EmptyLine]) -> _Statement:
    return statement.with_changes(leading_lines=list(lines))


def _is_docstring(statement: cst.BaseStatement) -> bool:
    return (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1
            and isinstance(statement.body[0], cst.Expr)
            and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString)))


def _is_import(statement: cst.BaseStatement) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and bool(statement.body) and \
        isinstance(statement.body[0], (cst.Import, cst.ImportFrom))


def _module_name(statement: cst.BaseStatement) -> str:
    assert isinstance(statement, cst.SimpleStatementLine)  # noqa: S101 - an import line
    small = statement.body[0]
    assert isinstance(small, cst.Import)  # noqa: S101
    return cst.Module([]).code_for_node(small.names[0].name).lower()


def _load_record(workdir: Path) -> QuarantineRecord:
    """The current suture-quarantine.json, empty when absent; ConfigError when unreadable."""
    path = workdir / RECORD_NAME
    if path.is_symlink():
        raise ConfigError(f"{RECORD_NAME} is a symlink; suture writes only a regular file there",
                          hint="replace the link by the file it points to, or delete it")
    if not path.is_file():
        return QuarantineRecord()
    try:
        return QuarantineRecord.model_validate_json(path.read_text(encoding="utf-8"))
    except ValidationError as exc:
        raise ConfigError(
            f"{RECORD_NAME}: not a quarantine record suture can update "
            f"({exc.error_count()} problem(s), first: {exc.errors()[0]['msg']})",
            hint="fix the file by hand (schema_version 1, a `tests` list) or delete it",
        ) from exc


def _write_record(workdir: Path, record: QuarantineRecord, target: FixTarget,
                  tests: list[FlakyTest], today: date, until: date) -> None:
    """Add one entry per test to `record` (renewing any earlier one) and write it."""
    root_cause = target.diagnosis.root_cause if target.diagnosis else ""
    fresh = {t.test_id: QuarantineEntry(
        test_id=t.test_id,
        reason=marker_reason(until, [t]),
        evidence=[e for e in (
            f"{t.failures}/{t.runs} isolated runs failed" if t.runs else None,
            f"diagnosis of run {target.run.run_id[:12]}: {root_cause}" if root_cause else None,
        ) if e],
        run_id=target.run.run_id, quarantined_on=today, expires_on=until,
    ) for t in tests}
    entries = [fresh.pop(e.test_id, e) for e in record.tests] + list(fresh.values())
    record = record.model_copy(update={"tests": entries})
    (workdir / RECORD_NAME).write_text(json.dumps(record.model_dump(mode="json"), indent=2)
                                       + "\n", encoding="utf-8")


def _summary(ids: tuple[str, ...], until: date) -> str:
    tail = f" until {until.isoformat()}"
    if len(ids) > 1:
        return f"Quarantine {len(ids)} flaky tests{tail}"
    test_id = ids[0]
    for name in (test_id, test_id.split("::", 1)[-1], test_id.rsplit("::", 1)[-1]):
        subject = f"Quarantine flaky test {name}{tail}"
        if len(subject) <= _SUBJECT_MAX:
            return subject
    return f"Quarantine 1 flaky test{tail}"


def _rationale(diagnosis: Diagnosis, tests: list[FlakyTest], until: date) -> str:
    lines = [f"Diagnosis: {diagnosis.root_cause}.", ""]
    for t in tests:
        runs = f"failed {t.failures} of {t.runs} isolated runs" if t.runs else "flaky"
        lines.append(f"- {t.test_id}: {runs} at the same commit")
    lines += [
        "",
        f"The test is marked xfail(strict=False) until {until.isoformat()}: it still runs and "
        "reports, but an intermittent failure no longer fails the build. Nothing is deleted or "
        f"skipped. The quarantine is recorded in {RECORD_NAME}; find the nondeterminism (time, "
        "randomness, ordering, shared state, network), then remove the marker and the record.",
    ]
    return "\n".join(lines)
