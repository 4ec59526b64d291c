"""Options and helpers shared by the command modules."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from suture import repo

ROOT_OPTION = typer.Option(
    None, "--root", "-C", help="Repository to work on (default: the one containing the cwd).",
    show_default=False,
)

err_console = Console(stderr=True, highlight=False)
out_console = Console(highlight=False)


def resolve_root(root: Path | None) -> Path:
    """The repository root from --root or the current directory."""
    return repo.find_root((root or Path.cwd()).resolve())
