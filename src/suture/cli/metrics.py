"""`suture metrics`: DORA's four keys and the project's KPIs over a period, in the terminal."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from suture.cli.common import ROOT_OPTION, out_console, resolve_root
from suture.errors import UsageError
from suture.metrics import DEFAULT_PACK, Key, Kpi, Metrics, Period, collect, parse_when
from suture.metrics.kpi import Goal
from suture.store import open_store

_BAND_STYLE = {"elite": "bold green", "high": "green", "medium": "yellow", "low": "red"}


def register(app: typer.Typer) -> None:
    """Add the `metrics` command."""
    app.command(
        "metrics",
        help="DORA's four keys (with their performance band) and the KPIs against their "
        "targets, over a period.\n\nExamples:\n\n  suture metrics\n\n"
        "  suture metrics --since 7d --env staging\n\n  suture metrics --since 2026-01-01 --json",
    )(metrics_command)


def metrics_command(
    since: str = typer.Option("30d", "--since", help="Start: a span back from now (30d, 12h, "
                              "2w) or an ISO date/time."),
    until: str | None = typer.Option(None, "--until", help="End (default: now), same forms."),
    env: str | None = typer.Option(None, "--env", help="Environment (default: production if it "
                                   "has releases, else every environment)."),
    pack: str = typer.Option(DEFAULT_PACK, "--pack", help="Compliance pack whose score is "
                             "the compliance KPI (see `suture compliance packs`)."),
    as_json: bool = typer.Option(False, "--json", help="Print the machine-readable numbers."),
    root: Path | None = ROOT_OPTION,
) -> None:
    """DORA's four keys and the KPIs over a period."""
    now = datetime.now(UTC)
    end = parse_when(until, now, "--until") if until else now
    start = parse_when(since, end)
    if end < start:
        raise UsageError(f"--until {until} is before --since {since}",
                         hint="give an end after the start")
    path = resolve_root(root)
    with open_store(path) as store:
        report = collect(store, path, Period(start, end), env, pack=pack)
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
    else:
        print_metrics(report)


def print_metrics(report: Metrics) -> None:
    """Two Rich tables: the four keys, then the KPIs."""
    d = report.dora
    scope = d.env or "all environments"
    title = (f"DORA four keys: {escape(scope)}, {d.since:%Y-%m-%d %H:%M} to "
             f"{d.until:%Y-%m-%d %H:%M} UTC")
    keys = Table(title=title, title_justify="left")
    for col in ("metric", "value", "band", "basis"):
        keys.add_column(col)
    for k in d.keys:
        band = f"[{_BAND_STYLE[k.band.value]}]{k.band.value}[/]" if k.band else "-"
        keys.add_row(k.title, _key_value(k), band, escape(k.reason or k.detail))
    out_console.print(keys)
    kpis = Table(title="KPIs", title_justify="left")
    for col in ("kpi", "value", "target", "met", "basis"):
        kpis.add_column(col)
    for p in report.kpis:
        met = "-" if p.met is None else "[green]yes[/]" if p.met else "[red]no[/]"
        sign = ">=" if p.goal == Goal.AT_LEAST else "<="
        kpis.add_row(p.title, _kpi_value(p), f"{sign} {_number(p.target, p.unit)}", met,
                     escape(p.reason or p.detail))
    out_console.print(kpis)


def _key_value(k: Key) -> str:
    if k.value is None:
        return "no data"
    if k.unit == "per day":
        return f"{k.value:.2f}/day"
    return _number(k.value, k.unit)


def _kpi_value(k: Kpi) -> str:
    return "no data" if k.value is None else _number(k.value, k.unit)


def _number(value: float, unit: str) -> str:
    if unit == "s":
        return duration(value)
    if unit == "%":
        return f"{value:.1f}%"
    return f"{value:g} {unit}"


def duration(seconds: float) -> str:
    """Seconds in the largest unit that keeps the number readable: 45s, 12.5m, 3.2h, 4.1d."""
    for size, suffix in ((86400.0, "d"), (3600.0, "h"), (60.0, "m")):
        if seconds >= size:
            return f"{seconds / size:.1f}{suffix}"
    return f"{seconds:.0f}s"
