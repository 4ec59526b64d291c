"""Pins from pyproject.toml and the lock files: poetry.lock, uv.lock, Pipfile.lock, pylock.toml."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

from suture.errors import ToolError
from suture.gates.deps.records import Pin, PinSet, display_path
from suture.gates.deps.requirements import exact_version

# Sources that are not a package index: their versions say nothing an advisory can match.
_LOCAL_SOURCES = ("git", "directory", "file", "url", "path", "editable", "virtual", "vcs")


def read_pyproject(path: Path, root: Path) -> PinSet:
    """Exact pins in `[project]` dependencies, optional-dependencies and `[dependency-groups]`."""
    data, lines, where = _toml(path, root)
    project = data.get("project") or {}
    declared: list[str] = list(project.get("dependencies") or [])
    for extra in (project.get("optional-dependencies") or {}).values():
        declared += list(extra or [])
    for group in (data.get("dependency-groups") or {}).values():
        declared += [d for d in group or [] if isinstance(d, str)]  # skip {include-group = ..}
    finder = _LineFinder(lines)
    pins = []
    for text in declared:
        try:
            req = Requirement(text)
        except InvalidRequirement as exc:
            raise ToolError(
                f"{where}: dependency {text!r} is not a valid requirement: {exc}",
                hint="fix the dependency string in pyproject.toml (PEP 508)",
            ) from exc
        version = exact_version(req)
        if version is not None:
            line = finder.find(rf"[\"']{re.escape(text)}[\"']")
            pins.append(Pin(req.name, version, where, line))
    return PinSet(pins=tuple(pins), files=(path,))


def read_poetry_lock(path: Path, root: Path) -> PinSet:
    """Every `[[package]]` of a poetry.lock that comes from a package index."""
    data, lines, where = _toml(path, root)
    return _packages(path, where, lines, data.get("package"), _poetry_local)


def read_uv_lock(path: Path, root: Path) -> PinSet:
    """Every `[[package]]` of a uv.lock that comes from a registry (not the project itself)."""
    data, lines, where = _toml(path, root)
    return _packages(path, where, lines, data.get("package"), _uv_local)


def read_pylock(path: Path, root: Path) -> PinSet:
    """Every `[[packages]]` of a PEP 751 pylock.toml with a version and no VCS/directory source."""
    data, lines, where = _toml(path, root)
    return _packages(path, where, lines, data.get("packages"), _pylock_local)


def read_pipfile_lock(path: Path, root: Path) -> PinSet:
    """The `default` and `develop` sections of a Pipfile.lock, each version being `==X`."""
    where = display_path(path, root)
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ToolError(
            f"cannot read {where}: {exc}", hint="regenerate it with `pipenv lock`"
        ) from exc
    finder = _LineFinder(text.splitlines())
    pins = []
    for section in ("default", "develop"):
        for name, entry in (data.get(section) or {}).items():
            version = str((entry or {}).get("version") or "")
            if not version.startswith("=="):
                continue  # git / path / file entries carry no index version
            line = finder.find(rf"^\s*{re.escape(json.dumps(name))}\s*:")
            pins.append(Pin(name, version.lstrip("="), where, line))
    return PinSet(pins=tuple(pins), files=(path,))


def _packages(
    path: Path,
    where: str,
    lines: list[str],
    packages: Any,
    is_local: Callable[[Mapping[str, Any]], bool],
) -> PinSet:
    finder = _LineFinder(lines)
    pins = []
    for pkg in _tables(packages):
        name, version = pkg.get("name"), pkg.get("version")
        if not name:
            continue
        # Find the line even for skipped packages so the cursor stays in step with the file.
        line = finder.find(rf"^\s*name\s*=\s*[\"']{re.escape(str(name))}[\"']\s*$")
        if version and not is_local(pkg):
            pins.append(Pin(str(name), str(version), where, line))
    return PinSet(pins=tuple(pins), files=(path,))


def _poetry_local(pkg: Mapping[str, Any]) -> bool:
    return str((pkg.get("source") or {}).get("type", "")) in _LOCAL_SOURCES


def _uv_local(pkg: Mapping[str, Any]) -> bool:
    return any(key in _LOCAL_SOURCES for key in (pkg.get("source") or {}))


def _pylock_local(pkg: Mapping[str, Any]) -> bool:
    return any(key in pkg for key in ("vcs", "directory"))


def _tables(value: Any) -> Iterable[Mapping[str, Any]]:
    return [v for v in value or () if isinstance(v, Mapping)]


def _toml(path: Path, root: Path) -> tuple[dict[str, Any], list[str], str]:
    where = display_path(path, root)
    try:
        text = path.read_text(encoding="utf-8")
        return tomllib.loads(text), text.splitlines(), where
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ToolError(
            f"cannot read {where}: {exc}", hint=f"fix or regenerate {path.name}"
        ) from exc


class _LineFinder:
    """Finds 1-based line numbers in file order, so repeated names map to successive lines."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.cursor = 0

    def find(self, pattern: str) -> int | None:
        """The first line at or after the cursor matching `pattern`, else the first anywhere."""
        regex = re.compile(pattern)
        order = [*range(self.cursor, len(self.lines)), *range(self.cursor)]
        for i in order:
            if regex.search(self.lines[i]):
                if i >= self.cursor:
                    self.cursor = i + 1
                return i + 1
        return None
