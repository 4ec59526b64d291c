"""The pins a project declares: exact versions to check, and requirements too loose to check."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from packaging.utils import canonicalize_name

T = TypeVar("T")


@dataclass(frozen=True)
class Pin:
    """One package pinned to one exact version, and where it is pinned (None: the environment)."""

    name: str
    version: str
    source_file: str | None = None
    line: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", canonicalize_name(self.name))


@dataclass(frozen=True)
class Unpinned:
    """A requirement without an exact version, so its vulnerabilities cannot be looked up."""

    name: str
    requirement: str
    source_file: str
    line: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", canonicalize_name(self.name))


@dataclass(frozen=True)
class PinSet:
    """What reading dependency files found, and every file that was read (includes too)."""

    pins: tuple[Pin, ...] = ()
    unpinned: tuple[Unpinned, ...] = ()
    files: tuple[Path, ...] = field(default=())

    def __add__(self, other: PinSet) -> PinSet:
        """Both sets, in order, without repeating a pin, requirement or file."""
        return PinSet(
            pins=_unique(self.pins + other.pins),
            unpinned=_unique(self.unpinned + other.unpinned),
            files=_unique(self.files + other.files),
        )


def display_path(path: Path, root: Path) -> str:
    """A file as a repo-relative POSIX path; absolute when it lies outside the repository."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def _unique(items: tuple[T, ...]) -> tuple[T, ...]:
    return tuple(dict.fromkeys(items))
