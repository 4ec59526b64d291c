"""Dependency declarations read and edited as text, so an edited file keeps its formatting.

requirements files are read the way pip reads them (continuations, comments, per-requirement
options); pyproject.toml is edited line by line and every edit is checked by parsing the result
with tomllib, because no TOML library that preserves formatting is a dependency of suture.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

# Lock files are written by a resolver (with hashes and the whole dependency graph): editing one
# by hand leaves it inconsistent, so remedies never do.
LOCK_FILES = ("poetry.lock", "uv.lock", "Pipfile.lock", "pylock.toml", "pdm.lock")
# pip's rule: `#` starts a comment at the start of a line or after whitespace.
_COMMENT = re.compile(r"(^|\s)#.*$")
_HEADER = re.compile(r"^\s*\[\[?\s*([^\[\]]+?)\s*\]\]?\s*(#.*)?$")
_QUOTED = re.compile(r"(?P<q>[\"'])(?P<text>(?:(?!(?P=q)).)*)(?P=q)")
# Operators whose version a remedy may copy when following a file's pinning style.
STYLE_OPERATORS = ("==", ">=", "~=")


@dataclass(frozen=True)
class ReqLine:
    """One logical line of a requirements file that names a requirement (0-based line span)."""

    first: int
    last: int
    requirement: Requirement
    hashed: bool  # carries `--hash` options, which pin the exact files of one version

    @property
    def name(self) -> str:
        """The requirement's normalized project name."""
        return canonicalize_name(self.requirement.name)


def is_lock_file(rel: str) -> bool:
    """Whether a repo-relative path names a resolver-written lock file."""
    base = rel.rsplit("/", 1)[-1]
    return base in LOCK_FILES or fnmatch.fnmatchcase(base, "pylock.*.toml")


def read_text(path: Path) -> str:
    """A text file exactly as stored: no newline translation, so `\\r\\n` files stay so."""
    with path.open(encoding="utf-8", newline="") as fh:
        return fh.read()


def write_text(path: Path, text: str) -> None:
    """Write `text` exactly (the counterpart of read_text)."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(text)


def newline_of(text: str) -> str:
    """The line ending a file uses."""
    return "\r\n" if "\r\n" in text else "\n"


def requirement_lines(text: str) -> list[ReqLine]:
    """Every requirement of a requirements file, with the physical lines it spans."""
    found: list[ReqLine] = []
    lines = text.splitlines()
    first, parts = 0, list[str]()
    for index, raw in enumerate(lines):
        if not parts:
            first = index
        raw = raw.lstrip("\ufeff") if index == 0 else raw
        if raw.endswith("\\") and not _COMMENT.search(raw):
            parts.append(raw[:-1])
            if index < len(lines) - 1:
                continue
        else:
            parts.append(_COMMENT.sub("", raw))
        logical = " ".join(" ".join(parts).split())
        parts = []
        entry = _requirement(logical, first, index)
        if entry is not None:
            found.append(entry)
    return found


def _requirement(logical: str, first: int, last: int) -> ReqLine | None:
    if not logical or logical.startswith("-"):
        return None  # blank, or an option line: -r, -e, --index-url, ...
    words = []
    for word in logical.split(" "):
        if word.startswith("-"):
            break  # per-requirement options (--hash, --config-settings) follow it
        words.append(word)
    try:
        req = Requirement(" ".join(words))
    except InvalidRequirement:
        return None  # a path or URL: nothing a name can match
    return ReqLine(first, last, req, hashed="--hash" in logical)


def specifier_style(requirements: Sequence[Requirement]) -> str | None:
    """The one operator (==, >=, ~=) every requirement uses, or None when they differ."""
    operators = set()
    for req in requirements:
        specs = list(req.specifier)
        if req.url or len(specs) != 1 or specs[0].operator not in STYLE_OPERATORS:
            return None
        operators.add(specs[0].operator)
    return operators.pop() if len(operators) == 1 else None


def quoted_strings(line: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, text) of each quoted string on a TOML line, before any comment."""
    for m in _QUOTED.finditer(line):
        before = line[: m.start()]
        if "#" in _QUOTED.sub("", before):
            return  # the rest of the line is a comment
        yield m.start("text"), m.end("text"), m.group("text")


def toml_tables(lines: Sequence[str]) -> list[str]:
    """The table each line belongs to ("" before the first header); header lines included."""
    current, tables = "", []
    for line in lines:
        m = _HEADER.match(line)
        if m and "=" not in line.split("]")[0]:
            current = ".".join(part.strip().strip("\"'") for part in m.group(1).split("."))
        tables.append(current)
    return tables


def array_end(lines: Sequence[str], start: int, column: int) -> tuple[int, int] | None:
    """(line, column) of the `]` that closes the array opened at lines[start][column]."""
    depth, quote = 0, ""
    for row in range(start, len(lines)):
        line = lines[row]
        col = column if row == start else 0
        escaped = False
        while col < len(line):
            ch = line[col]
            if quote:
                if escaped:
                    escaped = False
                elif ch == "\\" and quote == '"':
                    escaped = True
                elif ch == quote:
                    quote = ""
            elif ch in "\"'":
                quote = ch
            elif ch == "#":
                break
            elif ch == "[":
                depth += 1
            elif ch == "]":
                depth -= 1
                if depth == 0:
                    return row, col
            col += 1
    return None


def parse_toml(text: str) -> dict[str, Any] | None:
    """The parsed document, or None when the text is not valid TOML."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None


def declared_requirements(data: dict[str, Any]) -> list[str]:
    """PEP 508 strings of `[project]` dependencies, optional-dependencies and dependency-groups."""
    project = data.get("project") or {}
    declared = [str(d) for d in project.get("dependencies") or []]
    for extra in (project.get("optional-dependencies") or {}).values():
        declared += [str(d) for d in extra or []]
    for group in (data.get("dependency-groups") or {}).values():
        declared += [d for d in group or [] if isinstance(d, str)]
    return declared


def poetry_dependencies(data: dict[str, Any]) -> dict[str, list[str]]:
    """Normalized name -> version constraints in poetry's dependency tables (main and groups)."""
    poetry = (data.get("tool") or {}).get("poetry") or {}
    tables = [poetry.get("dependencies") or {}, poetry.get("dev-dependencies") or {}]
    tables += [(g or {}).get("dependencies") or {} for g in (poetry.get("group") or {}).values()]
    found: dict[str, list[str]] = {}
    for table in tables:
        for name, value in table.items():
            version = value.get("version") if isinstance(value, dict) else value
            if isinstance(version, str):
                found.setdefault(canonicalize_name(name), []).append(version)
    return found


def is_poetry_table(table: str) -> bool:
    """Whether a TOML table name is one of poetry's dependency tables."""
    return table in ("tool.poetry.dependencies", "tool.poetry.dev-dependencies") or bool(
        re.fullmatch(r"tool\.poetry\.group\.[^.]+\.dependencies", table)
    )


def is_pep621_table(table: str) -> bool:
    """Whether a TOML table can hold PEP 508 dependency strings (project, extras, groups)."""
    return table in ("project", "project.optional-dependencies", "dependency-groups")
