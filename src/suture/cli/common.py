"""Options and helpers shared by the command modules."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.console import Console

from suture import repo
from suture.errors import UsageError
from suture.model import Run
from suture.store import RunStore

ROOT_OPTION = typer.Option(
    None, "--root", "-C", help="Repository to work on (default: the one containing the cwd).",
    show_default=False,
)

def _console(stderr: bool) -> Console:
    """A console that keeps CI logs readable: wide lines when not on a terminal."""
    probe = Console(stderr=stderr)
    width = None if probe.is_terminal or os.environ.get("COLUMNS") else 160
    return Console(stderr=stderr, highlight=False, width=width)


err_console = _console(stderr=True)
out_console = _console(stderr=False)


def resolve_root(root: Path | None) -> Path:
    """The repository root from --root or the current directory."""
    return repo.find_root((root or Path.cwd()).resolve())


def pick_run(store: RunStore, run_id: str | None) -> Run:
    """The run named by id or unique prefix (or `last`), else the last one recorded."""
    if run_id and run_id != "last":
        return store.get_run(run_id)
    latest = store.list_runs(limit=1)
    if not latest:
        raise UsageError("no runs recorded yet", hint="run `suture run` first")
    return store.get_run(latest[0].run_id)
