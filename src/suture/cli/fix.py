"""`suture fix`: repair a failed run with verified remedies on a branch of its own."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from suture import config as config_mod
from suture import repo
from suture.audit import trail
from suture.cli.common import ROOT_OPTION, err_console, out_console, pick_run, resolve_root
from suture.errors import UsageError
from suture.fix import branch as branch_mod
from suture.fix.engine import FixOptions, FixReport, check_run, fix
from suture.fix.remedies import remedy_names
from suture.model import SCHEMA_VERSION, AttemptStatus, FixAttempt, Run, RunStatus
from suture.store import RunStore, open_store

_STYLE = {AttemptStatus.ACCEPTED: "green", AttemptStatus.REJECTED: "yellow",
          AttemptStatus.ESCALATED: "magenta"}


def register(app: typer.Typer) -> None:
    """Add the `fix` command."""
    app.command(
        "fix",
        help="Repair a failed run. For each failed gate, remedies are tried cheapest and safest "
        "first (ruff's safe fixes, security codemods, dependency bumps, declaring a missing "
        "dependency, reverting the culprit's hunks, quarantining a flaky test, search-based "
        "repair, then an LLM patch when one is configured). Each candidate is verified in a "
        "fresh git worktree: every gate again, the tests twice, no test removed or weakened, "
        "coverage kept. Accepted fixes become commits on the branch suture/fix/<run>; your "
        "working tree and branch are untouched unless you pass --apply. What nothing fixed is "
        "escalated with its diagnosis and what was tried.\n\n"
        "Exit code: 0 every failed gate fixed, 1 some escalated, 2 usage, 3 a tool failed.\n\n"
        "Examples:\n\n  suture fix\n\n  suture fix --json\n\n"
        "  suture fix --apply            # fast-forward your branch to the fixes\n\n"
        "  suture fix -r ruff-fix -r dependency-bump\n\n"
        "  suture fix --report fix.md     # Markdown for a pull request or step summary",
    )(fix_command)


def fix_command(
    run_id: str | None = typer.Argument(None, help="Run id or prefix; default: the last run."),
    as_json: bool = typer.Option(False, "--json", help="Print the machine-readable result."),
    apply: bool = typer.Option(False, "--apply",
                               help="Fast-forward the current branch to the fix branch "
                               "(needs a clean working tree at the run's commit)."),
    remedy: list[str] = typer.Option([], "--remedy", "-r",
                                     help="Use only this remedy; repeatable."),
    report_path: Path | None = typer.Option(None, "--report",
                                            help="Also write a Markdown report (for a pull "
                                            "request or a CI step summary) to this file."),
    root: Path | None = ROOT_OPTION,
) -> None:
    """Repair a failed run."""
    top = resolve_root(root)
    store = open_store(top)
    run = pick_run(store, run_id)
    if run.status == RunStatus.PASSED:
        out_console.print(f"run {run.run_id[:12]} passed; nothing to fix")
        raise typer.Exit(0)
    report = fix_and_store(top, store, run, remedies=tuple(remedy), apply=apply)
    if report_path is not None:
        from suture.fix.report import render_markdown

        report_path.write_text(render_markdown(report, store.get_diagnoses(run.run_id)),
                               encoding="utf-8")
        err_console.print(f"wrote the fix report to {report_path}")
    if as_json:
        typer.echo(json.dumps(to_json(report, applied=apply and report.head is not None),
                              indent=2))
    else:
        print_report(out_console, report, applied=apply)
    raise typer.Exit(1 if report.escalated else 0)


def fix_and_store(root: Path, store: RunStore, run: Run, *, remedies: tuple[str, ...] = (),
                  apply: bool = False) -> FixReport:
    """Diagnose (if not yet), fix, record every attempt, and fast-forward with `apply`."""
    cfg = config_mod.load(root)
    settings = cfg.settings.fix
    chosen = remedies or tuple(settings.remedies)
    unknown = [r for r in chosen if r not in remedy_names()]
    if unknown:
        raise UsageError(f"unknown remedy {', '.join(unknown)}",
                         hint=f"known remedies: {', '.join(remedy_names())}")
    check_run(root, run, branch_mod.branch_name(run.run_id))
    if apply:
        assert run.commit is not None  # noqa: S101 - check_run refused runs without one
        branch_mod.check_can_apply(root, run.commit)
    diagnoses = store.get_diagnoses(run.run_id)
    if not diagnoses:
        from suture.cli.why import diagnose_and_store

        diagnoses, _ = diagnose_and_store(root, store, run, None)
    options = FixOptions(remedies=chosen, search_budget_s=settings.search_budget_s,
                         max_llm_attempts=settings.max_llm_attempts,
                         max_candidates=settings.max_candidates, max_lines=settings.max_lines)
    python = repo.project_python(root, cfg.settings.python)
    with err_console.status(f"fixing run {run.run_id[:12]}") as status:
        report = fix(root, run, diagnoses, cfg, python, options, _Progress(status))
    store.save_fix_attempts(run.run_id, report.attempts, report.branch)
    if report.llm_calls:
        store.save_llm_calls(run.run_id, report.llm_calls)
    trail.fix_recorded(store, root, run.run_id, report.branch, report.attempts, report.llm_calls)
    if apply and report.head is not None:
        branch_mod.apply(root, report.branch)
        err_console.print(f"applied {report.branch} onto your branch (fast-forward)")
    return report


class _Progress:
    """Renders the engine's progress on stderr: one line per finished attempt."""

    def __init__(self, status: object) -> None:
        self._status = status

    def trying(self, stage: str, remedy: str) -> None:
        self._update(f"{stage}: trying {remedy}")

    def verifying(self, stage: str, remedy: str, summary: str) -> None:
        self._update(f"{stage}: verifying {remedy}: {summary}")

    def finished(self, attempt: FixAttempt) -> None:
        if attempt.status != AttemptStatus.ESCALATED:
            style = _STYLE[attempt.status]
            err_console.print(f"  [{style}]{attempt.status.value}[/] {escape(attempt.stage)} "
                              f"{attempt.remedy}: {escape(attempt.summary)} "
                              f"[dim]({attempt.duration_s:.1f} s)[/]")

    def _update(self, text: str) -> None:
        update = getattr(self._status, "update", None)
        if callable(update):
            update(escape(text))



def to_json(report: FixReport, *, applied: bool = False) -> dict[str, object]:
    """The `suture fix --json` contract."""
    return {
        "schema_version": SCHEMA_VERSION,
        "run_id": report.run_id,
        "branch": report.branch,
        "head": report.head,
        "applied": applied,
        "fixed": list(report.fixed),
        "escalated": list(report.escalated),
        "remedies": [
            {
                "stage": a.stage, "remedy": a.remedy, "status": a.status.value,
                "reason": a.reason, "summary": a.summary, "commit": a.commit,
                "files": list(a.files),
                "verification": {c.name: {"passed": c.passed, "detail": c.detail}
                                 for c in a.checks},
                "duration_s": a.duration_s,
                "input_tokens": a.input_tokens, "output_tokens": a.output_tokens,
            }
            for a in report.attempts
        ],
    }


def print_report(console: Console, report: FixReport, *, applied: bool = False) -> None:
    """Accepted fixes with their commits, rejected candidates with reasons, escalations."""
    accepted = [a for a in report.attempts if a.status == AttemptStatus.ACCEPTED]
    rejected = [a for a in report.attempts if a.status == AttemptStatus.REJECTED]
    for a in accepted:
        console.print(f"[green]fixed[/] {escape(a.stage)} with {a.remedy}: "
                      f"{escape(a.summary)} [dim]({(a.commit or '')[:10]})[/]")
    for a in rejected:
        console.print(f"[yellow]rejected[/] {escape(a.stage)} {a.remedy}: "
                      f"{escape(a.summary or '-')} [dim]— {escape(a.reason)}[/]")
    for a in report.attempts:
        if a.status == AttemptStatus.ESCALATED:
            console.print(f"[magenta]escalated[/] {escape(a.stage)}: {escape(a.reason)}")
    if report.head:
        where = "your branch (applied)" if applied else f"branch {report.branch}"
        console.print(f"\n{len(accepted)} fix(es) on {where}, tip {report.head[:10]}")
        if not applied:
            console.print(f"  review: git log -p -n {len(accepted)} {report.branch}    "
                          f"apply: git merge --ff-only {report.branch}")
    else:
        console.print("\nno fix was accepted; nothing was committed")
