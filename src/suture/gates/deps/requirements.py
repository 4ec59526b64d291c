"""pip requirements files read as pip reads them: includes, comments, continuations, hashes."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from suture.errors import ToolError
from suture.gates.deps.records import Pin, PinSet, Unpinned, display_path

# pip's own rule: `#` starts a comment at the line start or after whitespace.
_COMMENT = re.compile(r"(^|\s+)#.*$")
_FLAG = re.compile(r"^(--[A-Za-z-]+|-[A-Za-z])\s*=?\s*(.*)$")
_ENV_VAR = re.compile(r"\$\{([A-Z0-9_]+)\}")
_INCLUDE = {"-r": False, "--requirement": False, "-c": True, "--constraint": True}
_HINT = "fix the requirements file so that `pip install -r` accepts it"


def read_requirements(path: Path, root: Path) -> PinSet:
    """Exact pins and unpinned requirements of a requirements file and the files it includes."""
    return _read(path, root, constraint=False, seen=set())


def exact_version(req: Requirement) -> str | None:
    """The version an `==` (no wildcard) or `===` specifier fixes, or None for anything looser."""
    if req.url:
        return None
    for spec in req.specifier:
        if spec.operator == "===" or (spec.operator == "==" and not spec.version.endswith("*")):
            return spec.version
    return None


def _read(path: Path, root: Path, *, constraint: bool, seen: set[Path]) -> PinSet:
    seen.add(path.resolve())
    where = display_path(path, root)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ToolError(f"cannot read requirements file {where}: {exc}", hint=_HINT) from exc
    result = PinSet(files=(path,))
    pins: list[Pin] = []
    unpinned: list[Unpinned] = []
    for lineno, line in _logical_lines(text):
        if line.startswith("-"):
            result += _option(line, path, root, where, lineno, seen)
            continue
        req = _requirement(line, where, lineno)
        if req is None:
            continue
        version = exact_version(req)
        if version is not None:
            pins.append(Pin(req.name, version, where, lineno))
        elif not constraint:
            # A constraints file only narrows versions; a loose line there installs nothing.
            unpinned.append(Unpinned(req.name, str(req), where, lineno))
    return PinSet(pins=tuple(pins), unpinned=tuple(unpinned)) + result


def _option(
    line: str, path: Path, root: Path, where: str, lineno: int, seen: set[Path]
) -> PinSet:
    m = _FLAG.match(line)
    flag, value = (m.group(1), m.group(2)) if m else (line, "")
    if flag not in _INCLUDE:
        return PinSet()  # -e, -i, --hash, --pre, ...: nothing to pin
    target = value.split(" ")[0]
    if not target:
        raise ToolError(f"{where}:{lineno}: {flag} names no file", hint=_HINT)
    if "://" in target:
        raise ToolError(
            f"{where}:{lineno}: {flag} {target} is a URL, which the deps gate cannot read offline",
            hint="download the file into the repository and include it by path",
        )
    included = (path.parent / target).resolve()
    if not included.is_file():
        raise ToolError(
            f"{where}:{lineno}: {flag} {target} names a file that does not exist", hint=_HINT
        )
    if included in seen:
        return PinSet()
    return _read(included, root, constraint=_INCLUDE[flag], seen=seen)


def _requirement(line: str, where: str, lineno: int) -> Requirement | None:
    # Per-requirement options (--hash, --config-settings) follow the requirement, like pip splits.
    words = []
    for word in line.split(" "):
        if word.startswith("-"):
            break
        words.append(word)
    text = " ".join(words).strip()
    if not text:
        return None
    try:
        return Requirement(text)
    except InvalidRequirement as exc:
        if _is_path_or_url(text):
            return None  # a local path or archive URL: no name and version to look up
        raise ToolError(f"{where}:{lineno}: not a valid requirement: {exc}", hint=_HINT) from exc


def _is_path_or_url(text: str) -> bool:
    return (
        "://" in text
        or text.startswith((".", "/", "~"))
        or text.endswith((".whl", ".zip", ".tar.gz", ".tar.bz2", ".tgz"))
        or os.sep in text
    )


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(first physical line number, text) of each non-empty line after joining and comments."""
    start, parts = 0, list[str]()
    for number, raw in enumerate(text.splitlines(), start=1):
        if not parts:
            start = number
        if raw.endswith("\\") and not _COMMENT.search(raw):
            parts.append(raw[:-1])
            continue
        parts.append(_COMMENT.sub("", raw))
        line = _expand(" ".join(parts)).strip()
        parts = []
        if line:
            yield start, " ".join(line.split())
    if parts:
        line = _expand(" ".join(parts)).strip()
        if line:
            yield start, " ".join(line.split())


def _expand(line: str) -> str:
    return _ENV_VAR.sub(lambda m: os.environ.get(m.group(1), m.group(0)), line)
