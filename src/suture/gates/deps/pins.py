"""Which dependency files a project has, and the pins read from them (or from its environment)."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from suture.errors import ToolError
from suture.gates import files
from suture.gates.deps.environment import environment_pins
from suture.gates.deps.lockfiles import (
    read_pipfile_lock,
    read_poetry_lock,
    read_pylock,
    read_pyproject,
    read_uv_lock,
)
from suture.gates.deps.records import Pin, PinSet, Unpinned
from suture.gates.deps.requirements import read_requirements

Reader = Callable[[Path, Path], PinSet]

_BY_NAME: dict[str, Reader] = {
    "pyproject.toml": read_pyproject,
    "poetry.lock": read_poetry_lock,
    "uv.lock": read_uv_lock,
    "Pipfile.lock": read_pipfile_lock,
    "pylock.toml": read_pylock,
}
_BY_PATTERN: tuple[tuple[str, Reader], ...] = (
    ("pylock.*.toml", read_pylock),  # PEP 751 named locks
    ("requirements*.txt", read_requirements),
    ("requirements*.in", read_requirements),
    ("constraints*.txt", read_requirements),
)

__all__ = ["Pin", "PinSet", "Unpinned", "detect", "environment_pins", "read_pins", "reader_for"]


def reader_for(rel: str) -> Reader | None:
    """The reader for a repo-relative file path, by its name; None when it is no dependency file."""
    parts = rel.split("/")
    base = parts[-1]
    if base in _BY_NAME:
        return _BY_NAME[base]
    for pattern, reader in _BY_PATTERN:
        if fnmatch.fnmatchcase(base, pattern):
            return reader
    # requirements/base.txt, requirements/dev.txt: the common split-file layout
    if len(parts) >= 2 and parts[-2] == "requirements" and base.endswith((".txt", ".in")):
        return read_requirements
    return None


def detect(root: Path, exclude: Iterable[str] = ()) -> list[Path]:
    """Dependency files at the repository root and one folder down, in path order."""
    found = []
    for path in files.select(root, exclude=exclude):
        rel = path.relative_to(root).as_posix()
        if rel.count("/") <= 1 and reader_for(rel) is not None:
            found.append(path)
    return found


def read_pins(paths: Sequence[Path], root: Path) -> PinSet:
    """All pins of the given dependency files (and the files they include)."""
    result = PinSet()
    for path in paths:
        rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name
        reader = reader_for(rel) or (read_requirements if path.suffix in (".txt", ".in") else None)
        if reader is None:
            raise ToolError(
                f"{rel} is not a dependency file the deps gate can read",
                hint="list requirements*.txt, pyproject.toml, poetry.lock, uv.lock, "
                "Pipfile.lock or pylock.toml files in deps.files",
            )
        if not path.is_file():
            raise ToolError(
                f"dependency file {rel} does not exist",
                hint="fix deps.files in suture.yml, or leave it empty to detect the files",
            )
        result += reader(path, root)
    return result
