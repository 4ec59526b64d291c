"""Markdown: renders as GitHub would (tables intact, text escaped) and stays under the limit."""

from __future__ import annotations

import re
from html import escape

from markdown_it import MarkdownIt

from suture.model import Finding, Level, StageResult, StageStatus
from suture.pipeline.reports.markdown import code, render_markdown, text
from tests.fixtures.runs import NASTY_MESSAGE


def _html(markdown: str) -> str:
    """CommonMark plus GFM tables and strikethrough, the parts of GitHub's dialect used here."""
    return MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(markdown)


def test_status_line_and_gate_table(sample_run):
    md = render_markdown(sample_run)
    assert md.startswith("## ❌ suture: failed\n")
    html = _html(md)
    rows = re.findall(r"<tr>(.*?)</tr>", html, re.S)
    assert len(rows) == 1 + len(sample_run.stages)
    assert all(len(re.findall(r"<t[hd]", row)) == 5 for row in rows)
    assert '<td style="text-align:right">2 / 3</td>' in html  # lint: new / total
    assert "♻️ yes" in md


def test_failing_gates_list_their_new_findings(sample_run):
    md = render_markdown(sample_run)
    assert "### ❌ lint: 2 new findings" in md
    assert "- **error** `src/clinic/api.py:3:8` `F401`" in md
    assert "💡 Remove unused import" in md
    assert "Line too long" not in md  # baselined
    assert "### 💥 deps: the tool could not reach a verdict" in md
    assert "ERROR: ConnectionError" in md and "\x1b" not in md
    assert "_no file_ `command/exit-code`" in md
    assert "tests:" not in md and "### ✅" not in md


def test_user_text_is_escaped(sample_run):
    html = _html(render_markdown(sample_run))
    assert "<script>" not in html
    assert "&lt;script&gt;alert('x')&lt;/script&gt;" in html
    assert "*stars*" in html and "<em>stars</em>" not in html


def test_table_cells_survive_pipes_and_backticks(sample_run):
    nasty = sample_run.stages[0].model_copy(update={"name": "a|b `c`"})
    html = _html(render_markdown(sample_run.model_copy(update={"stages": (nasty,)})))
    rows = re.findall(r"<tr>(.*?)</tr>", html, re.S)
    assert all(len(re.findall(r"<t[hd]", row)) == 5 for row in rows)
    assert "<td>a|b `c`</td>" in html


def test_code_spans_hold_any_backticks():
    for value in ("plain", "`tick`", "a ``double`` b", "x|y <b>"):
        rendered = _html(code(value))
        assert rendered == f"<p><code>{escape(value, quote=False)}</code></p>\n"


def test_escaped_text_renders_literally():
    assert _html(text(NASTY_MESSAGE)) == (
        "<p>bad | pipe `tick` &lt;script&gt;alert('x')&lt;/script&gt; &amp; *stars*</p>\n")


def test_findings_per_gate_are_capped(sample_run):
    md = render_markdown(sample_run, max_findings=1)
    assert "…and 1 more new findings in this gate." in md


def test_long_runs_are_truncated_under_the_limit(sample_run):
    many = tuple(
        Finding(rule_id=f"R{i}", level=Level.ERROR, tool="ruff", message="x" * 400,
                path=f"src/m{i}.py", line=i)
        for i in range(30)
    )
    stages = tuple(
        StageResult(name=f"gate{i}", kind="lint", status=StageStatus.FAILED, findings=many)
        for i in range(10)
    )
    run = sample_run.model_copy(update={"stages": stages})
    md = render_markdown(run, max_findings=50, max_bytes=40_000)
    assert len(md.encode()) <= 40_000
    assert "This summary was cut to stay under GitHub's size limit" in md
    assert "### ❌ gate0:" in md and "### ❌ gate9:" not in md
    full = render_markdown(run, max_findings=50)
    assert "cut to stay under" not in full and "### ❌ gate9:" in full


def test_a_clean_run_is_a_status_line_and_a_table(clean_run):
    md = render_markdown(clean_run)
    assert md.startswith("## ✅ suture: passed\n")
    assert "###" not in md
