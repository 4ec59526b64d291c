"""A local OSV database: a folder or zip of OSV records, for CI without network access."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml
from packaging.utils import canonicalize_name

from suture.errors import ToolError
from suture.gates.deps.osv import Advisory, Match, match, parse_record
from suture.gates.deps.records import Pin

HINT = (
    "set deps.advisories in suture.yml or SUTURE_ADVISORY_DB to a directory or zip of OSV records"
)
RECORD_SUFFIXES = (".json", ".yaml", ".yml")
# libyaml's loader when built with it; BaseLoader keeps every scalar a string, so a version
# written `fixed: 3.10` stays "3.10" instead of becoming the float 3.1.
_YAML_LOADER: Any = getattr(yaml, "CBaseLoader", yaml.BaseLoader)


class LocalAdvisoryDB:
    """OSV advisories read from disk, indexed by normalized PyPI package name.

    The PyPA layout (`vulns/<package>/<ID>.yaml`) is read lazily, one package folder per
    package asked about; any other layout (a flat folder, the OSV `all.zip`) is read once whole.
    """

    def __init__(self, path: Path) -> None:
        if not path.exists():
            raise ToolError(f"advisory database {path} does not exist", hint=HINT)
        self.path = path
        self._index: dict[str, list[Advisory]] = {}
        self._folders: dict[str, list[Path]] | None = None
        self._loaded = False
        if path.is_dir():
            base = path / "vulns" if (path / "vulns").is_dir() else path
            self._folders = _package_folders(base)
            if self._folders is None:
                self._load_all(_folder_records(base))
        elif zipfile.is_zipfile(path):
            self._load_all(_zip_records(path))
        else:
            raise ToolError(
                f"advisory database {path} is neither a folder nor a zip of OSV records", hint=HINT
            )

    @property
    def description(self) -> str:
        """Where the advisories come from, for summaries and logs."""
        return f"local OSV database {self.path}"

    @property
    def package_count(self) -> int:
        """How many packages the database has advisories for."""
        return len(self._folders) if self._folders is not None else len(self._index)

    def advisories(self, name: str) -> tuple[Advisory, ...]:
        """Every advisory that names package `name` (any spelling; compared normalized)."""
        name = canonicalize_name(name)
        if self._folders is not None and name not in self._index:
            self._index[name] = []
            for folder in self._folders.get(name, ()):
                self._add(_folder_records(folder), only=name)
        return tuple(self._index.get(name, ()))

    def lookup(self, pins: Sequence[Pin]) -> dict[Pin, tuple[Match, ...]]:
        """The advisories affecting each pin (pins with none are left out)."""
        found: dict[Pin, tuple[Match, ...]] = {}
        for pin in pins:
            matches = tuple(
                m for adv in self.advisories(pin.name) if (m := match(adv, pin.name, pin.version))
            )
            if matches:
                found[pin] = matches
        return found

    def _load_all(self, records: Iterable[tuple[str, dict[str, Any]]]) -> None:
        self._add(records, only=None)
        if not self._index:
            raise ToolError(
                f"advisory database {self.path} holds no OSV records for PyPI packages", hint=HINT
            )

    def _add(self, records: Iterable[tuple[str, dict[str, Any]]], only: str | None) -> None:
        for _, data in records:
            advisory = parse_record(data)
            if advisory is None:
                continue
            for package in advisory.packages():
                if only is not None and package != only:
                    continue
                known = self._index.setdefault(package, [])
                if all(a.id != advisory.id for a in known):
                    known.append(advisory)


def fingerprint(path: Path) -> str:
    """Path, sizes and modification times of a database: changes whenever it is updated.

    Cheap by design (no record is parsed), so it can go into a cache key on every run.
    """
    if not path.exists():
        return f"{path}:missing"
    if path.is_file():
        st = path.stat()
        return f"{path.resolve()}:{st.st_size}:{st.st_mtime_ns}"
    stamps = [path.stat().st_mtime_ns]
    stamps += [p.stat().st_mtime_ns for p in path.rglob("*") if p.is_dir()]
    return f"{path.resolve()}:{len(stamps)}:{max(stamps)}:{sum(stamps)}"


def _package_folders(base: Path) -> dict[str, list[Path]] | None:
    """Normalized name -> folders, when `base` has the one-folder-per-package layout; else None."""
    if any(p.is_file() and p.suffix in RECORD_SUFFIXES for p in base.iterdir()):
        return None
    folders = sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        return None
    # Year/month folders (GitHub's layout) must not be mistaken for package folders: check that
    # a few folders really hold advisories for the package they are named after.
    for folder in folders[:: max(1, len(folders) // 3)][:3]:
        first = next(_folder_records(folder, recursive=False), None)
        if first is None or canonicalize_name(folder.name) not in _named_packages(first[1]):
            return None
    by_name: dict[str, list[Path]] = {}
    for folder in folders:
        by_name.setdefault(canonicalize_name(folder.name), []).append(folder)
    return by_name


def _named_packages(data: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for entry in data.get("affected") or ():
        name = (entry.get("package") or {}).get("name") if isinstance(entry, dict) else None
        if name:
            names.add(canonicalize_name(str(name)))
    return names


def _folder_records(
    folder: Path, *, recursive: bool = True
) -> Iterator[tuple[str, dict[str, Any]]]:
    paths = folder.rglob("*") if recursive else folder.iterdir()
    for path in sorted(paths):
        if path.suffix in RECORD_SUFFIXES and path.is_file():
            yield str(path), _parse(str(path), path.read_bytes())


def _zip_records(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if not info.is_dir() and info.filename.endswith(RECORD_SUFFIXES):
                    where = f"{path}!{info.filename}"
                    yield where, _parse(where, archive.read(info))
    except (zipfile.BadZipFile, OSError) as exc:
        raise ToolError(f"cannot read advisory database {path}: {exc}", hint=HINT) from exc


def _parse(where: str, raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw) if where.endswith(".json") else _load_yaml(raw)
    except (ValueError, yaml.YAMLError) as exc:
        raise ToolError(
            f"advisory record {where} is not valid OSV JSON/YAML: {exc}",
            hint="re-download or re-sync the advisory database",
        ) from exc
    if not isinstance(data, dict):
        raise ToolError(
            f"advisory record {where} is not an OSV record (expected a mapping)",
            hint="re-download or re-sync the advisory database",
        )
    return data


def _load_yaml(raw: bytes) -> Any:
    # BaseLoader builds only str/list/dict: as safe as safe_load, without type guessing.
    return yaml.load(raw, Loader=_YAML_LOADER)  # noqa: S506  # nosec B506: BaseLoader, no objects
