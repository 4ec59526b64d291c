"""Plain text: a summary table a person pastes into a bug report, then new findings."""

from __future__ import annotations

from suture.model import RunStatus
from suture.pipeline.reports.text import render_text


def test_summary_table_lines_up(sample_run):
    lines = render_text(sample_run).splitlines()
    assert lines[0] == "suture run r-20260102-0930: FAILED"
    assert lines[1] == "commit    0123456789ab (feature/fhir-export, uncommitted changes)"
    header = next(i for i, line in enumerate(lines) if line.startswith("gate "))
    table = lines[header:header + 2 + len(sample_run.stages)]
    assert table[1].startswith("----")
    # Every row's status column starts at the same offset as the header's.
    col = table[0].index("status")
    assert [row[col:].split()[0] for row in table[2:]] == [
        "passed", "failed", "failed", "error", "failed", "skipped"]
    lint = next(row for row in table if row.startswith("lint "))
    assert lint.split()[3:5] == ["2", "3"]
    assert "yes" in table[2]


def test_new_findings_grouped_by_stage(sample_run):
    out = render_text(sample_run)
    assert "New findings (5)" in out
    lint = out.index("lint: 2 new (ruff 0.6.9)")
    sast = out.index("sast: 2 new (bandit 1.7.10)")
    assert lint < out.index("src/clinic/api.py:3:8  F401") < sast
    assert "src/clinic/db.py:21:12  B608 [CWE-89]" in out
    assert "(no file)  command/exit-code" in out
    assert "fix: Remove unused import" in out
    assert "Line too long" not in out and "hunter2" not in out  # baselined


def test_errors_show_log_tail_without_colour_codes(sample_run):
    out = render_text(sample_run)
    assert "deps: the OSV advisory API could not be reached" in out
    assert "  | ERROR: ConnectionError: advisory database unreachable" in out
    assert "\x1b" not in out


def test_interrupted_run_reads_error(sample_run):
    out = render_text(sample_run.model_copy(update={"status": RunStatus.RUNNING,
                                                    "error": "interrupted by SIGTERM"}))
    assert out.startswith("suture run r-20260102-0930: ERROR\n")
    assert "error     interrupted by SIGTERM" in out


def test_clean_run_has_no_findings_section(clean_run):
    out = render_text(clean_run)
    assert "PASSED" in out and "New findings" not in out and "Gate errors" not in out
