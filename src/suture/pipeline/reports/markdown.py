"""The Markdown report for GitHub step summaries and pull-request comments."""

from __future__ import annotations

import re

from suture.model import Finding, Run, StageResult, StageStatus
from suture.pipeline.reports.common import (
    duration,
    location,
    log_tail,
    needs_attention,
    one_line,
    ordered,
    run_status,
    short_commit,
)

# GitHub rejects a step summary over 1 MiB; stay clearly below it.
MAX_BYTES = 1_000_000
MAX_FINDINGS_PER_GATE = 20
EMOJI = {"passed": "✅", "failed": "❌", "error": "💥", "skipped": "⏭️"}
# Every ASCII punctuation mark that can start Markdown syntax inline; `\` escapes them all.
_SPECIAL = re.compile(r"([\\`*_\[\]{}<>#+|~&$])")
_TRUNCATED = ("\n> [!NOTE]\n> This summary was cut to stay under GitHub's size limit: the "
              "sections of {n} more failing gates are not shown. The JSON, SARIF and HTML "
              "reports list every finding.\n")


def render_markdown(run: Run, *, max_findings: int = MAX_FINDINGS_PER_GATE,
                    max_bytes: int = MAX_BYTES) -> str:
    """The run as GitHub-flavoured Markdown: status line, gate table, then failing gates.

    At most `max_findings` findings per gate are listed, and the whole text stays under
    `max_bytes` bytes (UTF-8), ending with a note when something was left out.
    """
    head = "\n".join([*_header(run), "", *_table(run)]) + "\n"
    out, used, dropped = [head], len(head.encode()), 0
    reserve = len(_TRUNCATED.format(n=10**9).encode())
    for stage in run.stages:
        if not needs_attention(stage):
            continue
        block = _stage_block(stage, max_findings)
        size = len(block.encode())
        if dropped or used + size + reserve > max_bytes:
            dropped += 1
            continue
        out.append(block)
        used += size
    if dropped:
        out.append(_TRUNCATED.format(n=dropped))
    return "\n".join(out)


def text(value: str) -> str:
    """Plain text safe to put in Markdown: one line, every syntax character escaped."""
    return _SPECIAL.sub(r"\\\1", one_line(value))


def code(value: str) -> str:
    """An inline code span holding `value` literally, whatever backticks it contains."""
    flat = one_line(value)
    longest = max((len(m) for m in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    if flat.startswith("`") or flat.endswith("`") or (flat[:1] == " " and flat[-1:] == " "):
        flat = f" {flat} "
    return f"{fence}{flat}{fence}"


def cell(value: str) -> str:
    """Markdown for a table cell: a `|` would end the cell, even inside a code span."""
    return value.replace("|", "\\|")


def _header(run: Run) -> list[str]:
    status = run_status(run)
    where = f"`{short_commit(run.commit)}`"
    if run.branch:
        where += f" on {code(run.branch)}"
    if run.dirty:
        where += " (uncommitted changes)"
    lines = [
        f"## {EMOJI[status]} suture: {status}",
        "",
        f"**Commit** {where} · **Duration** {duration(run.duration_s)} · "
        f"**Run** {code(run.run_id)}",
    ]
    if run.error:
        lines += ["", f"> **Error:** {text(run.error)}"]
    return lines


def _table(run: Run) -> list[str]:
    if not run.stages:
        return ["_No gates ran._"]
    rows = ["| Gate | Status | Findings (new / total) | Duration | Cached |",
            "| --- | --- | ---: | ---: | :---: |"]
    for s in run.stages:
        status = f"{EMOJI[s.status.value]} {s.status.value}"
        rows.append(
            f"| {cell(text(s.name))} | {status} | {len(s.new_findings)} / {len(s.findings)} "
            f"| {duration(s.duration_s)} | {'♻️ yes' if s.cached else 'no'} |"
        )
    return rows


def _stage_block(stage: StageResult, max_findings: int) -> str:
    """The section for one failing or errored gate."""
    new = ordered(stage.new_findings)
    if stage.status is StageStatus.ERROR:
        title = f"### {EMOJI['error']} {text(stage.name)}: the tool could not reach a verdict"
    else:
        title = f"### {EMOJI['failed']} {text(stage.name)}: {len(new)} new " + (
            "finding" if len(new) == 1 else "findings")
    lines = [title, ""]
    if stage.summary:
        lines += [f"**Summary:** {text(stage.summary)}", ""]
    lines += [_finding(f) for f in new[:max_findings]]
    if len(new) > max_findings:
        lines.append(f"- …and {len(new) - max_findings} more new findings in this gate.")
    if stage.status is StageStatus.ERROR and (tail := _clip_lines(log_tail(stage))):
        longest = max((len(m) for m in re.findall(r"`{3,}", tail)), default=0)
        fence = "`" * max(3, longest + 1)
        lines += ["", "<details><summary>Log tail</summary>", "", f"{fence}text", tail, fence, "",
                  "</details>"]
    return "\n".join(lines) + "\n"


def _clip_lines(text_: str, width: int = 400) -> str:
    """Each line cut at `width` characters; one minified line must not eat the size budget."""
    return "\n".join(line[:width] for line in text_.splitlines())


def _finding(f: Finding) -> str:
    where = code(location(f)) if f.path else "_no file_"
    rule = code(f.rule_id) + (f" ({text(f.cwe)})" if f.cwe else "")
    line = f"- **{f.level.value}** {where} {rule}: {text(one_line(f.message, 1000))}"
    if f.fix_hint:
        line += f"\n  - 💡 {text(one_line(f.fix_hint, 500))}"
    return line
