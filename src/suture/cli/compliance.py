"""`suture compliance`: list compliance packs and report a pack's controls against the evidence."""

from __future__ import annotations

import contextlib
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from suture.cli.common import ROOT_OPTION, err_console, out_console, resolve_root
from suture.errors import UsageError

if TYPE_CHECKING:
    from suture.compliance.report import Report

FORMATS = ("text", "json", "html", "oscal")
_STYLE = {"satisfied": "green", "not_satisfied": "bold red", "error": "yellow",
          "not_applicable": "dim", "manual": "dim"}

compliance_app = typer.Typer(
    help="Compliance packs (HIPAA, SOC 2, FHIR, GDPR, ISO 27001, NIST 800-53): each control "
    "mapped to evidence suture records (runs, gate results, the audit log), reported with "
    "reasons, run ids and audit event numbers.\n\n"
    "Examples:\n\n  suture compliance packs\n\n"
    "  suture compliance report --pack hipaa --since 30d -o hipaa.html\n\n"
    "  suture compliance report --pack .suture/packs/ours.yml --format json",
    no_args_is_help=True,
)

PACKS_DIR_OPTION = typer.Option(
    None, "--packs-dir", metavar="DIR",
    help="Another folder of pack files (repeatable); also $SUTURE_COMPLIANCE_PACKS and "
    ".suture/packs/ are searched.", show_default=False,
)


def register(app: typer.Typer) -> None:
    """Add the `compliance` command group."""
    app.add_typer(compliance_app, name="compliance")


@compliance_app.command(
    "packs",
    help="List the compliance packs found: shipped ones, $SUTURE_COMPLIANCE_PACKS, "
    ".suture/packs/ and --packs-dir (a later folder wins when two packs share an id). Every "
    "pack is loaded and checked, so a broken pack is reported here (exit 2).",
)
def packs_command(
    packs_dir: list[Path] | None = PACKS_DIR_OPTION,
    root: Path | None = ROOT_OPTION,
) -> None:
    """List compliance packs."""
    from suture.compliance.packs import available, load_pack

    table = Table(title="compliance packs", title_justify="left")
    for col in ("id", "title", "version", "controls", "file"):
        table.add_column(col, overflow="fold")
    for pid, path in sorted(available(resolve_root(root), packs_dir).items()):
        pack = load_pack(path)
        table.add_row(pid, escape(pack.title), pack.version, str(len(pack.controls)),
                      escape(str(path)))
    out_console.print(table)


@compliance_app.command(
    "report",
    help="Evaluate every control of a pack over the runs of a period and the audit log (whose "
    "chain is verified), and report each control's status with its reason and evidence (run "
    "ids, audit event numbers, counts) and a score: satisfied / applicable controls.\n\n"
    "Exit code: 0 every applicable control satisfied, 1 some not satisfied (or in error, or "
    "none applicable), 2 usage or pack error.\n\n"
    "Examples:\n\n  suture compliance report --pack hipaa\n\n"
    "  suture compliance report --pack soc2 --since 90d -o soc2.html\n\n"
    "  suture compliance report --pack nist-800-53 --format json -o nist.json",
)
def report_command(
    pack: str = typer.Option(..., "--pack", "-p",
                             help="A pack id (see `suture compliance packs`) or a .yml file."),
    since: str = typer.Option("30d", "--since", "-s",
                              help="Period start: 30d, 12h, 2w, or a UTC date (2026-11-01)."),
    fmt: str | None = typer.Option(None, "--format", "-f",
                                   help="text, json, html or oscal (OSCAL 1.1.2 "
                                   "assessment-results JSON; default: from -o's suffix, else "
                                   "text)."),
    output: Path | None = typer.Option(None, "--output", "-o",
                                       help="Write the report to this file."),
    packs_dir: list[Path] | None = PACKS_DIR_OPTION,
    root: Path | None = ROOT_OPTION,
) -> None:
    """Report a compliance pack."""
    from suture.audit import AuditLog
    from suture.audit.since import parse_since
    from suture.compliance.evidence import EvidenceContext
    from suture.compliance.packs import resolve
    from suture.compliance.report import evaluate, render_html, render_json
    from suture.store import open_store

    chosen = _format(fmt, output)
    repo_root = resolve_root(root)
    loaded = resolve(pack, repo_root, packs_dir)  # a pack error stops us before any work
    now = datetime.now(UTC)
    start = parse_since(since, now)
    with open_store(repo_root) as store:
        log = AuditLog.for_store(store, root=repo_root)
        ctx = EvidenceContext(store=store, log=log, root=repo_root, since=start, until=now)
        report = evaluate(loaded, ctx, now)
    if chosen == "text":
        text = None
    elif chosen == "oscal":
        from suture.compliance.oscal import render_oscal

        text = render_oscal(report)
    else:
        text = render_json(report) if chosen == "json" else render_html(report)
    if output is not None:
        _write(output, text if text is not None else render_json(report))
        err_console.print(f"wrote {chosen} report to {escape(str(output))}")
        _print_summary(report, brief=True)
    elif text is not None:
        typer.echo(text, nl=False)
    else:
        _print_summary(report, brief=False)
    raise typer.Exit(0 if report.passed else 1)


def _format(fmt: str | None, output: Path | None) -> str:
    if fmt is None:
        suffix = output.suffix.lower().lstrip(".") if output else ""
        fmt = {"htm": "html", "html": "html", "json": "json"}.get(suffix, "text")
        if output is not None and fmt == "text":
            raise UsageError(f"cannot tell the format of {output} from its suffix",
                             hint="name the file .html or .json, or pass --format")
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}", hint=f"use one of {', '.join(FORMATS)}")
    if fmt == "text" and output is not None:
        raise UsageError("--format text prints to the terminal only",
                         hint="use --format json or html with -o")
    return fmt


def _write(output: Path, text: str) -> None:
    tmp = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(output)
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}",
                         hint="choose a writable path with -o") from exc
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def _print_summary(report: Report, brief: bool) -> None:
    console = err_console if brief else out_console
    if not brief:
        table = Table(title=f"{escape(report.pack_title)} (v{escape(report.pack_version)})",
                      title_justify="left")
        for col in ("control", "status", "reason"):
            table.add_column(col, overflow="fold")
        for c in report.controls:
            style = _STYLE[c.status.value]
            table.add_row(escape(c.id), f"[{style}]{c.status.value}[/]", escape(c.reason))
        console.print(table)
    audit = ("audit chain intact" if report.audit.ok
             else f"[bold red]audit chain NOT verified[/]: {escape(report.audit.problem or '')}")
    s = report.score
    pct = f" ({s.percent}%)" if s.percent is not None else ""
    style = "green" if report.passed else "bold red"
    console.print(f"[{style}]{s.satisfied}/{s.applicable} applicable controls satisfied{pct}[/]"
                  f" over {report.runs} runs since {report.period_start:%Y-%m-%d %H:%M} UTC; "
                  f"{audit}")
