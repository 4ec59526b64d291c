"""Helpers that turn records into what a page shows: charts, code context, readable numbers."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from jinja2 import Environment
from markupsafe import Markup

from suture import proc
from suture.deploy.model import Release
from suture.errors import ToolError
from suture.model import Run
from suture.web.charts import Series, line_chart
from suture.web.records import Context, Overview

CONTEXT_LINES = 3
MAX_CONTEXTS = 100
SENSITIVE_GATES = ("phi", "secrets")  # never show their source lines: they may hold the secret


def duration(seconds: float | None) -> str:
    """45s, 12.5m, 3.2h, 4.1d."""
    if seconds is None:
        return "-"
    for size, suffix in ((86400.0, "d"), (3600.0, "h"), (60.0, "m")):
        if seconds >= size:
            return f"{seconds / size:.1f}{suffix}"
    return f"{seconds:.1f}s" if seconds < 10 else f"{seconds:.0f}s"


def when(value: datetime | None) -> str:
    """UTC, to the second."""
    return "-" if value is None else value.strftime("%Y-%m-%d %H:%M:%S UTC")


def percent(value: float | int | str | None) -> str:
    """A rate (0..1) as a percentage."""
    return "-" if not isinstance(value, int | float) else f"{100 * value:.2f}%"


def millis(value: float | int | str | None) -> str:
    """Seconds as milliseconds."""
    return "-" if not isinstance(value, int | float) else f"{1000 * value:.0f} ms"


def install_filters(env: Environment) -> None:
    """Register the filters the templates use."""
    env.filters.update(duration=duration, when=when, percent=percent, millis=millis,
                       short=lambda v, n=12: (v or "-")[:n])


def trend_charts(o: Overview) -> list[Markup]:
    """Deployments per day, change failure rate and recovery time over the period's buckets."""
    label = [b.start.strftime("%m-%d") for b in o.trend]

    def series(name: str, key: str, none_is_zero: bool = False) -> Series:
        pts: list[tuple[str, float | None]] = []
        for lab, b in zip(label, o.trend, strict=True):
            v = getattr(b.dora, key).value
            pts.append((lab, 0.0 if v is None and none_is_zero else v))
        return Series(name, pts)

    # A day without a release deployed nothing (0); a day without a failure has no recovery
    # time at all (a gap), which is not the same as recovering in no time.
    return [
        line_chart("Deployments per day",
                   [series("promoted per day", "deployment_frequency", none_is_zero=True)]),
        line_chart("Change failure rate", [series("failed changes", "change_failure_rate")],
                   "%"),
        line_chart("Lead time for changes", [series("median lead time", "lead_time")], "s"),
        line_chart("Failed deployment recovery time",
                   [series("median recovery", "recovery_time")], "s"),
    ]


def step_charts(rel: Release) -> list[Markup]:
    """Error rate and p95 latency per version over a release's judged steps."""
    steps = [s for s in rel.steps if s.metrics]
    if not steps:
        return []
    label = [f"{s.weight}%" for s in steps]

    def series(name: str, key: str, scale: float) -> Series:
        pts = []
        for lab, s in zip(label, steps, strict=True):
            v = s.metrics.get(key)
            pts.append((lab, float(v) * scale if isinstance(v, int | float) else None))
        return Series(name, pts)

    return [
        line_chart("Error rate per version, by step",
                   [series("stable", "baseline_error_rate", 100),
                    series("canary", "canary_error_rate", 100)], "%"),
        line_chart("p95 latency per version, by step",
                   [series("stable", "baseline_p95_s", 1000),
                    series("canary", "canary_p95_s", 1000)], "ms"),
    ]


def contexts(root: Path, run: Run) -> dict[str, Context]:
    """Source lines around findings, read from the run's commit ("stage:index" -> context)."""
    out: dict[str, Context] = {}
    files: dict[str, list[str] | None] = {}
    for stage in run.stages:
        if stage.kind in SENSITIVE_GATES or stage.name in SENSITIVE_GATES:
            continue
        for i, f in enumerate(stage.findings):
            if len(out) >= MAX_CONTEXTS:
                return out
            if not f.path or not f.line or not run.commit:
                continue
            if f.path not in files:
                files[f.path] = _lines_at(root, run.commit, f.path)
            lines = files[f.path]
            if not lines or f.line > len(lines):
                continue
            first = max(1, f.line - CONTEXT_LINES)
            last = min(len(lines), f.line + CONTEXT_LINES)
            out[f"{stage.name}:{i}"] = Context(path=f.path, first_line=first,
                                               lines=lines[first - 1:last], highlight=f.line,
                                               source=f"{f.path} at {run.commit[:10]}")
    return out


def _lines_at(root: Path, commit: str, path: str) -> list[str] | None:
    if path.startswith(("/", "-")) or ".." in Path(path).parts:
        return None  # only files inside the repository, never an option to git
    try:
        res = proc.run(("git", "show", f"{commit}:{path}"), cwd=root, timeout=10)
    except ToolError:
        return None
    return res.stdout.splitlines() if res.returncode == 0 else None
