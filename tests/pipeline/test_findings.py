"""Fingerprints stay stable across unrelated edits; snippets show the flagged line."""

from __future__ import annotations

from suture.model import Finding, Level
from suture.pipeline.findings import finish


def _f(line: int, **kw) -> Finding:
    return Finding(rule_id="F401", level=Level.ERROR, message="unused import", tool="ruff",
                   path="m.py", line=line, **kw)


def test_fingerprint_survives_lines_added_above(tmp_path):
    (tmp_path / "m.py").write_text("import os\nx = 1\n")
    before = finish(tmp_path, [_f(1)])[0].fingerprint
    (tmp_path / "m.py").write_text("# header\n\n\nimport os\nx = 1\n")
    after = finish(tmp_path, [_f(4)])[0].fingerprint
    assert before == after


def test_fingerprint_changes_when_the_flagged_line_changes(tmp_path):
    (tmp_path / "m.py").write_text("import os\n")
    a = finish(tmp_path, [_f(1)])[0].fingerprint
    (tmp_path / "m.py").write_text("import sys\n")
    b = finish(tmp_path, [_f(1)])[0].fingerprint
    assert a != b


def test_identical_lines_get_distinct_fingerprints(tmp_path):
    (tmp_path / "m.py").write_text("import os\nimport os\n")
    a, b = finish(tmp_path, [_f(1), _f(2)])
    assert a.fingerprint != b.fingerprint


def test_no_location_ignores_numbers_in_message(tmp_path):
    def cov(pct: str) -> Finding:
        return Finding(rule_id="coverage/below-threshold", level=Level.ERROR, tool="coverage",
                       message=f"coverage {pct}% is below the threshold of 95%")

    assert finish(tmp_path, [cov("80.1")])[0].fingerprint == finish(
        tmp_path, [cov("70.4")])[0].fingerprint


def test_snippet_marks_the_line(tmp_path):
    (tmp_path / "m.py").write_text("a = 1\nb = 2\nimport os\nc = 3\nd = 4\ne = 5\n")
    snippet = finish(tmp_path, [_f(3)])[0].snippet
    assert snippet.splitlines() == ["  1 | a = 1", "  2 | b = 2", "> 3 | import os",
                                    "  4 | c = 3", "  5 | d = 4"]


def test_paths_outside_the_repo_are_not_read(tmp_path):
    secret = tmp_path.parent / "outside.txt"
    secret.write_text("top secret\n")
    f = Finding(rule_id="x", level=Level.NOTE, message="m", tool="t", path="../outside.txt", line=1)
    assert finish(tmp_path, [f])[0].snippet is None
