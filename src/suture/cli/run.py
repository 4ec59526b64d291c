"""`suture run`: run the gates, show progress and a summary, write a report."""

from __future__ import annotations

import signal
from pathlib import Path

import typer
from rich.markup import escape

from suture import config as config_mod
from suture.audit import trail
from suture.audit.actor import default_actor
from suture.cli.common import ROOT_OPTION, err_console, out_console, resolve_root
from suture.cli.render import LiveProgress, print_run
from suture.errors import SutureError
from suture.model import RunStatus
from suture.pipeline.execute import RunOptions, run_pipeline
from suture.pipeline.plan import plan
from suture.pipeline.reports import Format, render
from suture.store import RunStore, open_store

EXIT_CODES = {RunStatus.PASSED: 0, RunStatus.FAILED: 1, RunStatus.ERROR: 3}


def register(app: typer.Typer) -> None:
    """Add the `run` command."""
    app.command(
        "run",
        help=(
            "Run the gates in suture.yml and record the run.\n\n"
            "Exit code: 0 all gates passed, 1 a gate failed, 2 configuration or usage error, "
            "3 a gate could not run (tool missing, crashed, timed out) or suture crashed.\n\n"
            "Examples:\n\n"
            "  suture run\n\n"
            "  suture run --format sarif -o suture.sarif\n\n"
            "  suture run -g tests -g lint --no-cache\n\n"
            "  suture run --why          # explain any failure (5 whys)\n\n"
            "  suture run --heal         # ... and repair it on a fix branch"
        ),
    )(run_command)


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _audit_interrupted(store: RunStore, top: Path, actor: str, cause: BaseException) -> None:
    """Put the run the store just marked interrupted into the audit log, without masking why."""
    try:
        trail.interrupted_recorded(store, top, actor=actor)
    except SutureError as exc:
        # The next `suture run` records it instead; the interruption is what the user must see.
        if isinstance(cause, KeyboardInterrupt):
            err_console.print("suture: the interrupted run is not in the audit log yet: "
                              f"{escape(exc.message)}")


def run_command(
    fmt: Format = typer.Option(Format.TEXT, "--format", "-f",
                               help="Report format written to -o (or stdout)."),
    output: Path | None = typer.Option(None, "--output", "-o",
                                       help="Write the report to this file."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Run every gate even if unchanged."),
    gate: list[str] = typer.Option([], "--gate", "-g",
                                   help="Run only this gate (and what it needs); repeatable."),
    jobs: int | None = typer.Option(None, "--jobs", "-j", min=1,
                                    help="Gates run at once (default: CPU count)."),
    config_path: Path | None = typer.Option(None, "--config", "-c",
                                            help="Config file (default: suture.yml at the root)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show warnings and notes too."),
    why: bool = typer.Option(False, "--why", help="Diagnose failed gates (as `suture why`)."),
    heal: bool = typer.Option(False, "--heal",
                              help="Diagnose and fix failed gates (as `suture fix`); the fixes "
                              "go on the branch suture/fix/<run>."),
    root: Path | None = ROOT_OPTION,
) -> None:
    """Run the gates in suture.yml and record the run."""
    top = resolve_root(root)
    cfg = config_mod.load(top, config_path)
    graph = plan(cfg, gate)
    store = open_store(top)
    options = RunOptions(use_cache=not no_cache, only=tuple(gate), jobs=jobs)
    # Who runs it, asked of git now: once interrupted, suture starts no tool, git included.
    actor = default_actor(top)
    # CI systems cancel with SIGTERM: treat it like Ctrl-C so the run is recorded as error.
    signal.signal(signal.SIGTERM, _interrupt)
    err_console.print(f"suture: running {len(graph)} gate(s) in {top}")
    try:
        with LiveProgress(err_console, len(graph)) as progress:
            result = run_pipeline(top, cfg, store, options, progress)
    except BaseException as exc:
        _audit_interrupted(store, top, actor, exc)
        raise
    trail.run_recorded(store, top, result)
    if output is not None:
        output.write_text(render(result, fmt), encoding="utf-8")
        err_console.print(f"wrote {fmt.value} report to {output}")
    if output is None and fmt != Format.TEXT:
        typer.echo(render(result, fmt), nl=False)  # stdout carries the report alone
        print_run(err_console, result, verbose)
    else:
        print_run(out_console, result, verbose)
    if heal and result.status == RunStatus.FAILED:
        from suture.cli.fix import fix_and_store, print_report
        from suture.cli.why import diagnose_and_store, print_diagnoses

        console = err_console if output is None and fmt != Format.TEXT else out_console
        diagnoses, _ = diagnose_and_store(top, store, result, None)
        print_diagnoses(console, result, diagnoses)
        report = fix_and_store(top, store, result)
        print_report(console, report)
        raise typer.Exit(1 if report.escalated else 0)
    if why and result.status != RunStatus.PASSED:
        from suture.cli.why import diagnose_and_store, print_calls, print_diagnoses

        console = err_console if output is None and fmt != Format.TEXT else out_console
        diagnoses, calls = diagnose_and_store(top, store, result, None)
        print_diagnoses(console, result, diagnoses)
        print_calls(console, calls)
    raise typer.Exit(EXIT_CODES[result.status])
