"""OSV records as typed advisories, and the PEP 440 matching of a pinned version against them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

ECOSYSTEM = "PyPI"
OSV_WEB = "https://osv.dev/vulnerability/"
_FIRST = Version("0.dev0")


@dataclass(frozen=True)
class Event:
    """One event of an ECOSYSTEM range: `introduced`, `fixed`, `last_affected` or `limit`."""

    kind: str
    version: str


@dataclass(frozen=True)
class Affected:
    """One PyPI package entry of an advisory: enumerated versions and ECOSYSTEM ranges."""

    package: str
    versions: tuple[str, ...]
    ranges: tuple[tuple[Event, ...], ...]


@dataclass(frozen=True)
class Advisory:
    """An OSV advisory reduced to what the deps gate reports."""

    id: str
    aliases: tuple[str, ...]
    summary: str
    url: str
    affected: tuple[Affected, ...]

    def packages(self) -> set[str]:
        """Normalized names of the PyPI packages this advisory affects."""
        return {a.package for a in self.affected}


@dataclass(frozen=True)
class Match:
    """One advisory that affects one pinned version; `fixed` is the minimal fixed version."""

    advisory: Advisory
    fixed: str | None


def parse_record(data: Mapping[str, Any]) -> Advisory | None:
    """An OSV record as an Advisory; None when withdrawn or when it affects no PyPI package."""
    if not isinstance(data, Mapping) or data.get("withdrawn") or not data.get("id"):
        return None
    affected = tuple(
        _affected(entry)
        for entry in data.get("affected") or ()
        if isinstance(entry, Mapping) and _is_pypi(entry)
    )
    if not affected:
        return None
    return Advisory(
        id=str(data["id"]),
        aliases=tuple(str(a) for a in data.get("aliases") or ()),
        summary=str(data.get("summary") or data.get("details") or "").strip(),
        url=_help_url(str(data["id"]), data.get("references") or ()),
        affected=affected,
    )


def match(advisory: Advisory, name: str, version: str) -> Match | None:
    """How `advisory` affects `name==version`; None when that version is not affected."""
    name = canonicalize_name(name)
    entries = [a for a in advisory.affected if a.package == name and _affects(a, version)]
    if not entries:
        return None
    return Match(advisory, minimal_fix(entries, version))


def minimal_fix(entries: Iterable[Affected], version: str) -> str | None:
    """The smallest `fixed` event above `version` in the given entries; None when none is."""
    pinned = _parse(version)
    if pinned is None:
        return None
    fixes = [
        (parsed, event.version)
        for entry in entries
        for events in entry.ranges
        for event in events
        if event.kind == "fixed"
        and (parsed := _parse(event.version)) is not None
        and parsed > pinned
    ]
    return min(fixes)[1] if fixes else None


def _affects(entry: Affected, version: str) -> bool:
    pinned = _parse(version)
    if pinned is None:
        # Not PEP 440: only an exact listing can say anything about it.
        return version in entry.versions
    listed = (_parse(v) for v in entry.versions)
    if any(v is not None and v == pinned for v in listed):
        return True
    return any(_in_range(events, pinned) for events in entry.ranges)


def _in_range(events: tuple[Event, ...], pinned: Version) -> bool:
    """The OSV evaluation: walk the events in version order, toggling on introduced/fixed."""
    ordered: list[tuple[Version, int, Event]] = []
    limits: list[Version] = []
    for i, event in enumerate(events):
        # "0" means "since the first release", pre-releases of 0 included.
        parsed = _FIRST if event.version == "0" else _parse(event.version)
        if parsed is None:
            continue
        if event.kind == "limit":
            limits.append(parsed)
        else:
            ordered.append((parsed, i, event))
    if limits and all(pinned >= limit for limit in limits):
        return False
    vulnerable = False
    for at, _, event in sorted(ordered, key=lambda t: (t[0], t[1])):
        if event.kind == "introduced" and pinned >= at:
            vulnerable = True
        elif (event.kind == "fixed" and pinned >= at) or (
            event.kind == "last_affected" and pinned > at
        ):
            vulnerable = False
    return vulnerable


def _is_pypi(entry: Mapping[str, Any]) -> bool:
    package = entry.get("package") or {}
    return bool(package.get("name")) and str(package.get("ecosystem", "")).split(":")[0] == (
        ECOSYSTEM
    )


def _affected(entry: Mapping[str, Any]) -> Affected:
    ranges = tuple(
        tuple(
            Event(kind, str(value))
            for event in r.get("events") or ()
            for kind, value in event.items()
            if kind in ("introduced", "fixed", "last_affected", "limit")
        )
        for r in entry.get("ranges") or ()
        if r.get("type") == "ECOSYSTEM"
    )
    return Affected(
        package=canonicalize_name(str(entry["package"]["name"])),
        versions=tuple(str(v) for v in entry.get("versions") or ()),
        ranges=ranges,
    )


def _help_url(osv_id: str, references: Iterable[Mapping[str, Any]]) -> str:
    refs = [r for r in references if isinstance(r, Mapping) and r.get("url")]
    for kind in ("ADVISORY", "WEB"):
        for ref in refs:
            if ref.get("type") == kind:
                return str(ref["url"])
    return OSV_WEB + osv_id


def _parse(version: str) -> Version | None:
    try:
        return Version(version)
    except InvalidVersion:
        return None
