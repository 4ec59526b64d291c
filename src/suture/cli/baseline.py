"""`suture baseline`: accept today's findings so gates fail only on new ones."""

from __future__ import annotations

from pathlib import Path

import typer

from suture import config as config_mod
from suture.cli.common import ROOT_OPTION, err_console, out_console, resolve_root
from suture.cli.render import LiveProgress
from suture.model import StageStatus
from suture.pipeline import baseline as baseline_mod
from suture.pipeline.execute import RunOptions, run_pipeline
from suture.pipeline.plan import plan
from suture.store import open_store


def register(app: typer.Typer) -> None:
    """Add the `baseline` command."""
    app.command(
        "baseline",
        help="Run the gates and accept every current finding into the baseline file "
        "(default .suture/baseline.json; `baseline:` in suture.yml moves it). Later runs fail "
        "only on findings not in it.\n\nExample:\n\n  suture baseline",
    )(baseline_command)


def baseline_command(
    root: Path | None = ROOT_OPTION,
) -> None:
    """Write the baseline from a fresh run."""
    top = resolve_root(root)
    cfg = config_mod.load(top)
    store = open_store(top)
    with LiveProgress(err_console, len(plan(cfg))) as progress:
        run = run_pipeline(top, cfg, store, RunOptions(), progress)
    errored = [s.name for s in run.stages if s.status == StageStatus.ERROR]
    base = baseline_mod.from_run(run)
    path = top / cfg.settings.baseline
    baseline_mod.write(base, path)
    out_console.print(f"accepted {len(base.findings)} finding(s) into {path.relative_to(top)}")
    if errored:
        out_console.print(f"[magenta]note: {', '.join(errored)} could not run; their findings "
                          "are not in the baseline[/]")
