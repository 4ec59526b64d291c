"""The repository suture runs on: its root, commit, branch and dirty flag, from real git."""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from suture import proc
from suture.errors import ConfigError, NotARepositoryError, SutureError


@dataclass(frozen=True)
class RepoState:
    """Where the working tree stands."""

    root: Path
    commit: str | None
    branch: str | None
    dirty: bool


def _git(root: Path, *args: str) -> proc.CmdResult:
    try:
        return proc.run(("git", *args), cwd=root, timeout=60)
    except SutureError as exc:
        raise NotARepositoryError("git is not installed", hint="install git") from exc


def find_root(start: Path) -> Path:
    """The project suture works on: the nearest folder with a suture.yml at or above `start`
    within its git repository (so a monorepo's sub-projects work), else the repository's top.

    Raises NotARepositoryError outside a git repository.
    """
    if not start.is_dir():
        raise NotARepositoryError(f"{start}: no such directory", hint="check --root")
    res = _git(start, "rev-parse", "--show-toplevel")
    if res.returncode != 0:
        raise NotARepositoryError(
            f"{start} is not inside a git repository",
            hint="run suture from your repository, pass --root, or `git init` first",
        )
    top = Path(res.stdout.strip()).resolve()
    here = start.resolve()
    for folder in (here, *here.parents):
        if (folder / "suture.yml").is_file():
            return folder
        if folder == top:
            break
    return top


def state(root: Path) -> RepoState:
    """Commit, branch and dirty flag of the repository at `root`."""
    head = _git(root, "rev-parse", "--verify", "-q", "HEAD")
    branch = _git(root, "symbolic-ref", "-q", "--short", "HEAD")
    status = _git(root, "status", "--porcelain", "--untracked-files=normal", "--", ".")
    dirty_lines = [
        line for line in status.stdout.splitlines() if "/.suture/" not in "/" + line[3:]
    ]
    return RepoState(
        root=root,
        commit=head.stdout.strip() or None if head.returncode == 0 else None,
        branch=branch.stdout.strip() or None if branch.returncode == 0 else None,
        dirty=bool(dirty_lines),
    )


def project_python(root: Path, configured: str | None) -> str:
    """The interpreter that runs the project's tests.

    Order: `python:` in suture.yml (or SUTURE_PYTHON), the active virtualenv, the project's
    `.venv`, then the interpreter running suture.
    """
    if configured:
        if os.sep in configured:
            path = Path(configured) if Path(configured).is_absolute() else root / configured
            found = str(path) if path.is_file() else None
        else:
            found = shutil.which(configured)
        if found is None:
            raise ConfigError(
                f"the configured Python '{configured}' does not exist",
                hint="fix `python:` in suture.yml (a path relative to the repository, or a "
                "command on PATH)",
            )
        return found
    venv = os.environ.get("VIRTUAL_ENV")
    if venv and (Path(venv) / "bin" / "python").is_file():
        return str(Path(venv) / "bin" / "python")
    local = root / ".venv" / "bin" / "python"
    if local.is_file():
        return str(local)
    return sys.executable
