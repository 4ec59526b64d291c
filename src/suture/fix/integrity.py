"""No fix may pass by weakening the tests: none removed, no assertion dropped, no skip added.

Test files before and after a candidate are compared by their syntax trees: each test
function's assertions (assert statements, `pytest.raises` / `pytest.warns`, unittest's
`self.assert*` calls), and any marker or call that lets a failure pass (skip, skipif, xfail,
importorskip). Tests a quarantine proposal names may gain an xfail marker, nothing else.
pytest's and coverage's own configuration may not change either.
"""

from __future__ import annotations

import ast
import configparser
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

_ESCAPES = {"skip", "skipif", "xfail", "importorskip"}
_ASSERT_CALLS = {"raises", "warns", "deprecated_call", "approx"}
_RUNNER_FILES = ("pytest.ini", ".coveragerc", "tox.ini", "setup.cfg", "pyproject.toml")


def is_test_file(path: str) -> bool:
    """Whether pytest would collect or load this path as test code (tests, conftest)."""
    p = PurePosixPath(path)
    if p.suffix != ".py":
        return False
    return (p.name == "conftest.py" or p.name.startswith("test_") or p.stem.endswith("_test")
            or any(part in ("tests", "test", "testing") for part in p.parts[:-1]))


@dataclass(frozen=True)
class TestShape:
    """What one test function checks: its assertion count and whether it may fail quietly."""

    __test__ = False

    asserts: int
    escapes: frozenset[str]  # skip / xfail markers or calls on it


def shapes(source: str) -> dict[str, TestShape] | None:
    """Each test function of a module by `Class::name`, or None when it does not parse."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    module_escapes = _module_escapes(tree)
    found: dict[str, TestShape] = {}

    def visit(body: Iterable[ast.stmt], prefix: str, inherited: frozenset[str]) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                visit(node.body, f"{prefix}{node.name}::",
                      inherited | _decorator_escapes(node.decorator_list))
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and \
                    node.name.startswith("test"):
                escapes = inherited | _decorator_escapes(node.decorator_list) | _call_escapes(node)
                found[prefix + node.name] = TestShape(_count_asserts(node), escapes)

    visit(tree.body, "", module_escapes)
    return found


def weakened(path: str, before: str | None, after: str | None,
             quarantined: Iterable[str] = ()) -> list[str]:
    """How the test file at `path` was weakened by the change (empty: it was not)."""
    if before is None:
        return []  # a new test file adds checks
    if after is None:
        return [f"{path}: test file deleted"]
    old, new = shapes(before), shapes(after)
    if old is None:
        return []
    if new is None:
        return [f"{path}: no longer valid Python"]
    allowed = {_function_of(t) for t in quarantined if t.split("::", 1)[0] == path}
    problems: list[str] = []
    for name, was in old.items():
        now = new.get(name)
        if now is None:
            problems.append(f"{path}::{name}: test removed")
            continue
        if now.asserts < was.asserts:
            problems.append(f"{path}::{name}: {was.asserts - now.asserts} assertion(s) removed")
        added = now.escapes - was.escapes
        if added and not (name in allowed and added <= {"xfail"}):
            problems.append(f"{path}::{name}: {', '.join(sorted(added))} added")
    return problems


def runner_config_changed(path: str, before: str | None, after: str | None) -> list[str]:
    """Whether a change to `path` alters pytest's or coverage's configuration."""
    if PurePosixPath(path).name not in _RUNNER_FILES or before == after:
        return []
    if _runner_sections(path, before) != _runner_sections(path, after):
        return [f"{path}: pytest or coverage configuration changed"]
    return []


def _runner_sections(path: str, text: str | None) -> object:
    if text is None:
        return None
    name = PurePosixPath(path).name
    try:
        if name == "pyproject.toml":
            tool = tomllib.loads(text).get("tool", {})
            return {k: tool.get(k) for k in ("pytest", "coverage")}
        parser = configparser.ConfigParser(interpolation=None)
        parser.read_string(text)
        return {s: dict(parser[s]) for s in parser.sections()
                if "pytest" in s or "coverage" in s or name in ("pytest.ini", ".coveragerc")}
    except (tomllib.TOMLDecodeError, configparser.Error):
        return text  # unreadable: any change counts


def changed_test_files(root: Path, paths: Iterable[str]) -> list[str]:
    """The paths among `paths` that are test code or test-runner configuration."""
    return [p for p in paths if is_test_file(p) or PurePosixPath(p).name in _RUNNER_FILES]


def _function_of(test_id: str) -> str:
    """`path::Class::test[param]` -> `Class::test`."""
    return test_id.split("::", 1)[-1].split("[", 1)[0]


def _count_asserts(fn: ast.AST) -> int:
    count = 0
    for node in ast.walk(fn):
        if isinstance(node, ast.Assert):
            count += 1
        elif isinstance(node, ast.Call):
            name = _call_name(node.func)
            if name in _ASSERT_CALLS or name.startswith(("assert", "fail")):
                count += 1
    return count


def _call_name(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def _marker(expr: ast.expr) -> str:
    """`pytest.mark.skipif(...)` / `unittest.skip` / `skip` -> `skipif` / `skip` / ``."""
    target = expr.func if isinstance(expr, ast.Call) else expr
    name = _call_name(target)
    return name if name in _ESCAPES or name in ("expectedFailure", "skipUnless") else ""


def _decorator_escapes(decorators: list[ast.expr]) -> frozenset[str]:
    return frozenset(m.replace("expectedFailure", "xfail").replace("skipUnless", "skipif")
                     for m in map(_marker, decorators) if m)


def _call_escapes(fn: ast.AST) -> frozenset[str]:
    found = set()
    for node in ast.walk(fn):
        if isinstance(node, ast.Call) and _call_name(node.func) in _ESCAPES:
            found.add(_call_name(node.func))
        elif isinstance(node, ast.Call) and _call_name(node.func) == "skipTest":
            found.add("skip")
    return frozenset(found)


def _module_escapes(tree: ast.Module) -> frozenset[str]:
    """`pytestmark = pytest.mark.skip` and module-level skip calls apply to every test."""
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets):
            values = node.value.elts if isinstance(node.value, ast.List | ast.Tuple) \
                else [node.value]
            found |= {m for m in map(_marker, values) if m}
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and \
                _call_name(node.value.func) in _ESCAPES:
            found.add(_call_name(node.value.func))
    return frozenset(found)
