"""The baseline: findings accepted as they are, so gates fail only on new ones."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from suture.errors import ConfigError
from suture.model import SCHEMA_VERSION, Finding, Run

DEFAULT_PATH = ".suture/baseline.json"


class BaselineEntry(BaseModel):
    """One accepted finding, kept readable so a reviewer can see what was accepted."""

    model_config = ConfigDict(frozen=True)

    stage: str
    rule_id: str
    path: str | None = None
    message: str = ""


class Baseline(BaseModel):
    """Accepted fingerprints, written by `suture baseline`."""

    schema_version: int = SCHEMA_VERSION
    created_at: datetime
    run_id: str | None = None
    findings: dict[str, BaselineEntry] = {}

    def accepts(self, finding: Finding) -> bool:
        """True when the finding's fingerprint was accepted."""
        return finding.fingerprint in self.findings


EMPTY = Baseline(created_at=datetime(1970, 1, 1, tzinfo=UTC))


def load(path: Path) -> Baseline:
    """Read a baseline file; a missing file is an empty baseline, a broken one an error."""
    if not path.is_file():
        return EMPTY
    try:
        return Baseline.model_validate_json(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ConfigError(
            f"{path}: not a suture baseline file ({str(exc).splitlines()[0]})",
            hint="delete it and run `suture baseline` again",
        ) from exc


def from_run(run: Run) -> Baseline:
    """A baseline accepting every finding of a run."""
    return Baseline(
        created_at=datetime.now(UTC),
        run_id=run.run_id,
        findings={
            f.fingerprint: BaselineEntry(stage=s.name, rule_id=f.rule_id, path=f.path,
                                         message=f.message[:200])
            for s in run.stages for f in s.findings
        },
    )


def write(baseline: Baseline, path: Path) -> None:
    """Write atomically, so an interrupted write never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(baseline.model_dump(mode="json"), indent=2, sort_keys=True) + "\n")
    tmp.replace(path)


def apply(baseline: Baseline, findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Mark each finding as accepted by the baseline or not."""
    return tuple(f.model_copy(update={"baselined": baseline.accepts(f)}) for f in findings)
