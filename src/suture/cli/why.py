"""`suture why`: the 5-whys diagnosis of a failed run."""

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
from suture.heal.context import DiagnoseContext
from suture.heal.diagnose import diagnose
from suture.heal.llm_why import deepen
from suture.llm.gateway import Gateway
from suture.llm.interface import CallOutcome, LLMCall, ProviderError
from suture.llm.providers import make_provider
from suture.llm.redact import Redactor
from suture.llm.settings import LLMSettings
from suture.model import SCHEMA_VERSION, Diagnosis, Run, RunStatus
from suture.store import RunStore, open_store


def register(app: typer.Typer) -> None:
    """Add the `why` command."""
    app.command(
        "why",
        help="Explain why a run failed: for each failed gate, a chain of whys with evidence "
        "(log lines, code, commits, findings, test runs) ending in a root cause and remedies, "
        "or an escalation when the evidence runs out. Re-runs failing tests in isolation to "
        "spot flakes and bisects the commits since the last passing run in disposable git "
        "worktrees; your working tree is never touched.\n\n"
        "Exit code: 0 every failure explained, 1 some need a person (escalated), 2 usage.\n\n"
        "Examples:\n\n  suture why\n\n  suture why 3fa2c1 --json\n\n"
        "  suture why --base origin/main\n\n  suture why --again   # re-diagnose a run",
    )(why_command)


def why_command(
    run_id: str | None = typer.Argument(None, help="Run id or prefix; default: the last run."),
    as_json: bool = typer.Option(False, "--json", help="Print the machine-readable diagnosis."),
    base: str | None = typer.Option(None, "--base",
                                    help="Known-good ref to bisect from (default: the commit of "
                                    "the last passing run)."),
    again: bool = typer.Option(False, "--again",
                               help="Diagnose anew even if the run was diagnosed before."),
    root: Path | None = ROOT_OPTION,
) -> None:
    """Diagnose a failed run."""
    top = resolve_root(root)
    store = open_store(top)
    run = pick_run(store, run_id)
    if run.status == RunStatus.PASSED:
        out_console.print(f"run {run.run_id[:12]} passed; nothing to diagnose")
        raise typer.Exit(0)
    stored = [] if again or base else store.get_diagnoses(run.run_id)
    calls: list[LLMCall] = []
    if stored:
        err_console.print(f"run {run.run_id[:12]} was diagnosed earlier; showing that diagnosis "
                          "(--again to diagnose anew)")
        diagnoses = stored
    else:
        diagnoses, calls = diagnose_and_store(top, store, run, base)
    if as_json:
        typer.echo(json.dumps(to_json(run, diagnoses, calls), indent=2))
    else:
        print_diagnoses(out_console, run, diagnoses)
        print_calls(out_console, calls)
    raise typer.Exit(1 if any(d.escalated for d in diagnoses) else 0)


def diagnose_and_store(root: Path, store: RunStore, run: Run,
                       base: str | None) -> tuple[list[Diagnosis], list[LLMCall]]:
    """Run the engine on a run and keep the result, and any LLM calls it made, with it."""
    cfg = config_mod.load(root)
    ctx = DiagnoseContext(root=root, run=run, store=store,
                          python=repo.project_python(root, cfg.settings.python),
                          settings=cfg.settings.why, base_ref=base)
    with err_console.status(f"diagnosing run {run.run_id[:12]}"):
        diagnoses = diagnose(ctx)
    calls: list[LLMCall] = []
    if cfg.settings.llm.provider != "offline" and any(d.escalated for d in diagnoses):
        diagnoses, calls = _ask_llm(ctx, cfg.settings.llm, diagnoses)
    store.save_diagnoses(run.run_id, diagnoses, calls)
    trail.diagnoses_recorded(store, root, run.run_id, diagnoses, calls)
    return diagnoses, calls


def _ask_llm(ctx: DiagnoseContext, settings: LLMSettings,
             diagnoses: list[Diagnosis]) -> tuple[list[Diagnosis], list[LLMCall]]:
    """Deepen the escalated diagnoses with the configured LLM; offline results survive failure."""
    try:
        provider = make_provider(settings)
    except ProviderError as exc:
        err_console.print(f"[magenta]LLM not used: {escape(exc.message)}[/]"
                          + (f" ({escape(exc.hint)})" if exc.hint else ""))
        return diagnoses, []
    if provider is None:
        return diagnoses, []
    gateway = Gateway(provider, Redactor().redact, settings)
    stages = {s.name: s for s in ctx.run.stages}
    out = []
    with err_console.status(f"asking {provider.name} ({provider.model})"):
        for d in diagnoses:
            out.append(deepen(ctx, d, stages[d.stage], gateway) if d.escalated else d)
    failed = [c for c in gateway.calls if c.outcome != CallOutcome.OK]
    if failed and not any(c.outcome == CallOutcome.OK for c in gateway.calls):
        err_console.print(f"[magenta]{provider.name} did not answer ({failed[-1].detail or ''}); "
                          "showing the offline diagnosis[/]")
    return out, list(gateway.calls)



def to_json(run: Run, diagnoses: list[Diagnosis],
            calls: list[LLMCall] | None = None) -> dict[str, object]:
    """The `suture why --json` contract."""
    return {
        "schema_version": SCHEMA_VERSION,
        "run_id": run.run_id,
        "diagnoses": [
            {
                "stage": d.stage, "category": d.category.value, "root_cause": d.root_cause,
                "culprit_commit": d.culprit_commit, "confidence": d.confidence,
                "escalated": d.escalated, "engine": d.engine,
                "test_executions": d.test_executions,
                "chain": [w.model_dump(mode="json") for w in d.chain],
                "remedies": list(d.remedies),
            }
            for d in diagnoses
        ],
        "llm_calls": [c.model_dump(mode="json") for c in calls or ()],
    }


def print_diagnoses(console: Console, run: Run, diagnoses: list[Diagnosis]) -> None:
    """Each failed gate: the chain of whys with evidence, the root cause, the remedies."""
    if not diagnoses:
        console.print(f"run {run.run_id[:12]}: no failed gate to explain")
        return
    for d in diagnoses:
        style = "bold magenta" if d.escalated else "bold red"
        console.print(f"\n[{style}]{escape(d.stage)}[/]: [bold]{d.category.value}[/] "
                      f"(confidence {d.confidence:.0%}{', escalated' if d.escalated else ''})")
        for i, why in enumerate(d.chain, 1):
            console.print(f"  {i}. [bold]{escape(why.question)}[/]")
            console.print(f"     {escape(why.answer)}")
            for ev in why.evidence:
                where = f"{ev.path}:{ev.line} " if ev.path and ev.line else ""
                for n, line in enumerate(ev.text.splitlines()[:12]):
                    prefix = f"[dim]{ev.kind.value}[/] {escape(where)}" if n == 0 else " " * 4
                    console.print(f"       {prefix}[dim]{escape(line)}[/]", soft_wrap=True)
        console.print(f"  [bold]root cause:[/] {escape(d.root_cause)}")
        if d.culprit_commit:
            console.print(f"  [bold]culprit:[/] {d.culprit_commit}")
        if d.test_executions:
            console.print(f"  [dim]test executions spent: {d.test_executions}[/]")
        for r in d.remedies:
            console.print(f"  - {escape(r)}")


def print_calls(console: Console, calls: list[LLMCall]) -> None:
    """One line on what asking the LLM cost this run, all diagnoses together."""
    if not calls:
        return
    ok = sum(c.outcome == CallOutcome.OK for c in calls)
    models = ", ".join(sorted({f"{c.provider} {c.model}" for c in calls}))
    tokens_in = sum(c.input_tokens for c in calls)
    tokens_out = sum(c.output_tokens for c in calls)
    cost = sum(c.cost_usd for c in calls)
    noun = "call" if len(calls) == 1 else "calls"
    console.print(f"\n[dim]{len(calls)} LLM {noun} ({ok} answered) to {escape(models)}: "
                  f"{tokens_in:,} tokens in, {tokens_out:,} out, ${cost:.4f}; "
                  "prompts were redacted and are kept only as digests[/]")
