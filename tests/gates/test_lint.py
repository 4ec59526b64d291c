"""The lint gate drives the real ruff."""

from __future__ import annotations

import pytest

from suture.errors import ToolError
from suture.gates.lint import LintConfig, LintGate
from suture.model import Level


def test_reports_ruff_problems_with_location(git_repo, gate_ctx):
    git_repo.write("pkg/mod.py", "import os\n\n\ndef f():\n    return undefined_name\n")
    report = LintGate("lint", LintConfig()).run(gate_ctx(git_repo.path))
    rules = {(f.rule_id, f.path, f.line) for f in report.findings}
    assert ("F401", "pkg/mod.py", 1) in rules
    assert ("F821", "pkg/mod.py", 5) in rules
    assert all(f.level == Level.ERROR and f.tool == "ruff" for f in report.findings)
    unused = next(f for f in report.findings if f.rule_id == "F401")
    assert unused.fix_hint and unused.help_uri.startswith("https://")


def test_noqa_and_gitignore_are_respected(git_repo, gate_ctx):
    git_repo.write("ok.py", "import os  # noqa: F401\n")
    git_repo.write(".gitignore", "generated/\n")
    git_repo.write("generated/bad.py", "import sys\n")
    report = LintGate("lint", LintConfig()).run(gate_ctx(git_repo.path))
    assert report.findings == ()
    assert report.summary == "no lint problems"


def test_exclude_globs(git_repo, gate_ctx):
    git_repo.write("legacy/old.py", "import sys\n")
    git_repo.write("new.py", "import sys\n")
    report = LintGate("lint", LintConfig(exclude=["legacy"])).run(gate_ctx(git_repo.path))
    assert [f.path for f in report.findings] == ["new.py"]


def test_syntax_error_is_a_finding(git_repo, gate_ctx):
    git_repo.write("broken.py", "def f(:\n")
    report = LintGate("lint", LintConfig()).run(gate_ctx(git_repo.path))
    assert report.findings and report.findings[0].path == "broken.py"


def test_input_files_cover_sources_and_config(git_repo, gate_ctx):
    git_repo.write("a.py", "x = 1\n")
    git_repo.write("pyproject.toml", "[tool.ruff]\n")
    git_repo.write("notes.md", "hi\n")
    names = {p.name for p in LintGate("lint", LintConfig()).input_files(gate_ctx(git_repo.path))}
    assert names == {"a.py", "pyproject.toml"}


def test_missing_ruff_is_a_tool_error(git_repo, gate_ctx, monkeypatch):
    monkeypatch.setattr("suture.proc.find_tool", lambda name, python=None: None)  # no ruff anywhere
    with pytest.raises(ToolError, match="ruff is not installed"):
        LintGate("lint", LintConfig()).run(gate_ctx(git_repo.path))
