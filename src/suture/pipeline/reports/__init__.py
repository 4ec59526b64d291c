"""Run reports: every format renders a `Run` to a string, looked up in one registry table."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from suture.errors import UsageError
from suture.model import Run
from suture.pipeline.reports.html import render_html
from suture.pipeline.reports.json_report import render_json, run_from_json
from suture.pipeline.reports.junit import render_junit
from suture.pipeline.reports.markdown import render_markdown
from suture.pipeline.reports.sarif import render_sarif
from suture.pipeline.reports.text import render_text


class Format(StrEnum):
    """A report format a user can ask for."""

    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"
    JUNIT = "junit"
    MARKDOWN = "markdown"
    HTML = "html"


RENDERERS: dict[Format, Callable[[Run], str]] = {
    Format.TEXT: render_text,
    Format.JSON: render_json,
    Format.SARIF: render_sarif,
    Format.JUNIT: render_junit,
    Format.MARKDOWN: render_markdown,
    Format.HTML: render_html,
}

# File name suffix for each format, for writing reports to disk (e.g. .suture/reports/).
SUFFIXES: dict[Format, str] = {
    Format.TEXT: ".txt",
    Format.JSON: ".json",
    Format.SARIF: ".sarif",
    Format.JUNIT: ".junit.xml",
    Format.MARKDOWN: ".md",
    Format.HTML: ".html",
}


def parse_format(name: str) -> Format:
    """The Format called `name` (case-insensitive); UsageError naming the valid ones if none."""
    try:
        return Format(name.strip().lower())
    except ValueError:
        raise UsageError(
            f"unknown report format {name!r}",
            hint="choose one of: " + ", ".join(f.value for f in Format),
        ) from None


def render(run: Run, fmt: Format | str) -> str:
    """The run rendered in format `fmt`."""
    return RENDERERS[fmt if isinstance(fmt, Format) else parse_format(fmt)](run)


__all__ = ["RENDERERS", "SUFFIXES", "Format", "parse_format", "render", "run_from_json"]
