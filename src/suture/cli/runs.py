"""`suture runs`: the history of runs, and one run in any report format."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from suture.cli.common import ROOT_OPTION, out_console, pick_run, resolve_root
from suture.cli.render import RUN_STYLE, STATUS_STYLE, print_run
from suture.model import RunStatus
from suture.pipeline.reports import Format, render
from suture.store import open_store

runs_app = typer.Typer(
    help="List recorded runs, or show one.\n\nExamples:\n\n  suture runs\n\n"
    "  suture runs show 3fa2c1\n\n  suture runs show last --format html -o report.html",
    invoke_without_command=True, no_args_is_help=False,
)


def register(app: typer.Typer) -> None:
    """Add the `runs` command group."""
    app.add_typer(runs_app, name="runs")


@runs_app.callback(
    help="List recent runs, newest first, or show one with `suture runs show`.\n\n"
    "Examples:\n\n  suture runs\n\n  suture runs --status failed -n 5\n\n"
    "  suture runs show last --format html -o report.html",
)
def list_runs(
    ctx: typer.Context,
    limit: int = typer.Option(20, "--limit", "-n", min=1, help="How many runs to list."),
    status: RunStatus | None = typer.Option(None, "--status", help="Only runs with this status."),
    root: Path | None = ROOT_OPTION,
) -> None:
    """List recent runs, newest first."""
    if ctx.invoked_subcommand is not None:
        return
    store = open_store(resolve_root(root))
    rows = store.list_runs(limit=limit, status=status)
    if not rows:
        out_console.print("no runs recorded yet; run `suture run`")
        return
    table = Table(title="suture runs", title_justify="left")
    for col in ("run", "started (UTC)", "status", "commit", "branch", "time", "gates"):
        table.add_column(col)
    for r in rows:
        gates = " ".join(
            f"[{STATUS_STYLE[s.status][1]}]{escape(s.name)}[/]" for s in r.stages
        )
        table.add_row(
            r.run_id[:12], r.started_at.strftime("%Y-%m-%d %H:%M:%S"),
            f"[{RUN_STYLE[r.status]}]{r.status.value}[/]",
            (r.commit or "-")[:10] + ("*" if r.dirty else ""), escape(r.branch or "-"),
            f"{r.duration_s:.1f}s", gates,
        )
    out_console.print(table)


@runs_app.command(
    "show",
    help="Show one run: the summary, or a report in any format.\n\nExamples:\n\n"
    "  suture runs show 3fa2c1\n\n  suture runs show last --format sarif -o suture.sarif",
)
def show_run(
    run_id: str = typer.Argument(..., help="Run id, a unique prefix of one, or `last`."),
    fmt: Format = typer.Option(Format.TEXT, "--format", "-f", help="Report format."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show warnings and notes too."),
    root: Path | None = ROOT_OPTION,
) -> None:
    """Show one run: the summary, or a report in any format."""
    store = open_store(resolve_root(root))
    run = pick_run(store, run_id)
    if output is not None:
        output.write_text(render(run, fmt), encoding="utf-8")
        out_console.print(f"wrote {fmt.value} report to {output}")
    elif fmt == Format.TEXT:
        print_run(out_console, run, verbose)
    else:
        typer.echo(render(run, fmt), nl=False)
