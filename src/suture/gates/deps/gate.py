"""The `deps` gate: the project's pinned dependencies matched against OSV advisories."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field

from suture import __version__
from suture.errors import ToolError
from suture.gates.deps import osv_local
from suture.gates.deps.osv import Match
from suture.gates.deps.osv_local import HINT, LocalAdvisoryDB
from suture.gates.deps.pins import detect, environment_pins, read_pins
from suture.gates.deps.records import Pin, PinSet, Unpinned
from suture.gates.interface import Gate, GateConfig, GateContext, GateReport
from suture.model import Finding, Level

if TYPE_CHECKING:
    from suture.gates.deps.osv_online import OnlineAdvisoryDB

DB_ENV = "SUTURE_ADVISORY_DB"
# The online lookup waits at most this long per request: a hung network must not hang CI.
ONLINE_TIMEOUT_S = 15.0


class PinSource(StrEnum):
    """Where the versions to check come from."""

    FILES = "files"
    ENVIRONMENT = "environment"


class AdvisorySource(StrEnum):
    """Where the advisories come from; `auto` is the local database if one is set, else online."""

    AUTO = "auto"
    LOCAL = "local"
    ONLINE = "online"


class DepsConfig(GateConfig):
    """Settings of the deps gate."""

    files: list[str] = Field(
        default_factory=list,
        description="Dependency files (repo-relative); empty: requirements*.txt, pyproject.toml "
        "and lock files at the root and one folder down.",
    )
    pins: PinSource = Field(
        PinSource.FILES,
        description="`files` reads the dependency files; `environment` lists what is installed "
        "for the project's interpreter.",
    )
    advisories: str | None = Field(
        None,
        description="Local OSV database: a folder or zip of OSV records (relative to the repo "
        "root allowed); overrides SUTURE_ADVISORY_DB.",
    )
    source: AdvisorySource = Field(
        AdvisorySource.AUTO, description="Advisory source: auto, local or online (the OSV API)."
    )
    report_unpinned: bool = Field(
        True, description="Report requirements without an exact version as notes."
    )


class DepsGate(Gate):
    """Finds dependencies pinned to versions with published OSV advisories (PYSEC, GHSA, CVE)."""

    kind = "deps"
    description = "OSV advisories: dependencies pinned to known-vulnerable versions"
    Config = DepsConfig
    config: DepsConfig

    @property
    def cacheable(self) -> bool:  # type: ignore[override]
        """Only a file-pinned check against a local database: online advisories change any time,
        and an environment's packages are not in the repository."""
        if self.config.pins is not PinSource.FILES:
            return False
        if self.config.source is AdvisorySource.LOCAL:
            return True
        return self.config.source is AdvisorySource.AUTO and bool(
            self.config.advisories or os.environ.get(DB_ENV)
        )

    def tool_version(self, ctx: GateContext) -> str:
        """suture's own OSV matcher, and which kind of advisory source it reads."""
        where = "OSV API" if self._online(ctx) else "local OSV database"
        return f"suture-osv {__version__} ({where})"

    def input_files(self, ctx: GateContext) -> Iterable[Path]:
        """The dependency files and every file they include."""
        if self.config.pins is PinSource.ENVIRONMENT:
            return []
        paths = self._files(ctx)
        try:
            return list(read_pins(paths, ctx.root).files)
        except ToolError:
            # run() reports the problem; the cache key only needs the files that exist
            return [p for p in paths if p.is_file()]

    def extra_cache_inputs(self, ctx: GateContext) -> str:
        """The local advisory database's identity (path, sizes, modification times)."""
        path = self._database_path(ctx)
        return f"{self.config.source}:{osv_local.fingerprint(path) if path else 'online'}"

    def run(self, ctx: GateContext) -> GateReport:
        """Read the pins, look every one up, and report each advisory that affects one."""
        if self.config.pins is PinSource.ENVIRONMENT:
            found = environment_pins(ctx.python, timeout=self.config.timeout or ctx.timeout)
            read_from = f"the environment of {ctx.python}"
        else:
            paths = self._files(ctx)
            found = read_pins(paths, ctx.root)
            read_from = ", ".join(_rel(p, ctx.root) for p in paths) or "no dependency files"
        notes = tuple(_unpinned(u) for u in found.unpinned) if self.config.report_unpinned else ()
        log = f"pins read from {read_from}\n"
        if not found.pins:
            return GateReport(
                findings=notes,
                summary=f"no pinned dependencies found (read {read_from})",
                metrics=_metrics(found, 0, 0),
                log=log,
            )
        database, vulnerable = self._lookup(ctx, found.pins)
        findings = tuple(
            _finding(pin, m) for pin in found.pins for m in vulnerable.get(pin, ())
        )
        log += f"advisories from {database.description}\n" + "".join(
            f"{f.path or '<environment>'}:{f.line or 0}: {f.message}\n" for f in findings
        )
        scope = (
            f"{database.package_count} packages"
            if isinstance(database, LocalAdvisoryDB)
            else "the OSV API"
        )
        n, k = len(found.pins), len(vulnerable)
        summary = f"{n} pin{'s' * (n != 1)} checked against {scope}: {k} vulnerable"
        if findings:
            summary += f" ({len(findings)} advisor{'ies' if len(findings) != 1 else 'y'})"
        if found.unpinned:
            summary += f"; {len(found.unpinned)} unpinned"
        return GateReport(
            findings=findings + notes,
            summary=summary,
            metrics=_metrics(found, k, len(findings)),
            log=log,
        )

    def _files(self, ctx: GateContext) -> list[Path]:
        if self.config.files:
            return [ctx.root / f for f in self.config.files]
        return detect(ctx.root, self.config.exclude)

    def _database_path(self, ctx: GateContext) -> Path | None:
        """Config `advisories`, then SUTURE_ADVISORY_DB, then the run's advisory database."""
        configured = self.config.advisories or os.environ.get(DB_ENV)
        if configured:
            path = Path(configured).expanduser()
            return path if path.is_absolute() else ctx.root / path
        return ctx.advisory_db

    def _online(self, ctx: GateContext) -> bool:
        source = self.config.source
        return source is AdvisorySource.ONLINE or (
            source is AdvisorySource.AUTO and self._database_path(ctx) is None
        )

    def _lookup(
        self, ctx: GateContext, pins: Sequence[Pin]
    ) -> tuple[LocalAdvisoryDB | OnlineAdvisoryDB, dict[Pin, tuple[Match, ...]]]:
        """The advisory source and its answer; a lookup that cannot be made raises ToolError."""
        if not self._online(ctx):
            path = self._database_path(ctx)
            if path is None:
                raise ToolError("deps.source is `local` but no advisory database is set", hint=HINT)
            local = LocalAdvisoryDB(path)
            return local, local.lookup(pins)
        # Imported here: httpx costs every command a tenth of a second, and most runs are offline.
        from suture.gates.deps.osv_online import OnlineAdvisoryDB

        online = OnlineAdvisoryDB(timeout=min(ONLINE_TIMEOUT_S, ctx.timeout))
        try:
            return online, online.lookup(pins)
        except ToolError as exc:
            if self.config.source is AdvisorySource.ONLINE:
                raise
            # Online was only the fallback: say that no source at all was available.
            raise ToolError(
                f"no advisory source reachable: no local OSV database is set and {exc.message}",
                hint=HINT,
            ) from exc


def _finding(pin: Pin, m: Match) -> Finding:
    adv = m.advisory
    cves = [a for a in adv.aliases if a.startswith("CVE-")] or list(adv.aliases[:1])
    also = f" ({', '.join(cves)})" if cves else ""
    fixed = f"fixed in {m.fixed}" if m.fixed else "no fixed version published"
    return Finding(
        rule_id=adv.id,
        level=Level.ERROR,
        message=f"{pin.name} {pin.version} is vulnerable to {adv.id}{also}; {fixed}",
        tool="osv",
        path=pin.source_file,
        line=pin.line,
        fix_hint=f"upgrade {pin.name} to {m.fixed}" if m.fixed else "no fixed version published",
        help_uri=adv.url,
    )


def _unpinned(u: Unpinned) -> Finding:
    return Finding(
        rule_id="deps/unpinned",
        level=Level.NOTE,
        message=f"{u.name} is not pinned to an exact version ({u.requirement}), so it cannot be "
        "checked for known vulnerabilities",
        tool="suture",
        path=u.source_file,
        line=u.line,
        fix_hint="pin it with == (pip-compile or `uv pip compile` write a fully pinned file)",
    )


def _metrics(found: PinSet, vulnerable: int, advisories: int) -> dict[str, float]:
    return {
        "pins": float(len(found.pins)),
        "vulnerable": float(vulnerable),
        "advisories": float(advisories),
        "unpinned": float(len(found.unpinned)),
    }


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
