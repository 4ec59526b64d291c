"""What a diagnosis may use: the run, the repository, the store, and the `why:` settings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from suture.model import Run
from suture.store import RunStore


class WhySettings(BaseModel):
    """The `why:` section of suture.yml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_depth: int = Field(default=10, ge=1, le=50, description="Most whys before escalating.")
    reruns: int = Field(default=3, ge=1, le=20,
                        description="Isolated re-runs of each failing test before blaming code.")
    bisect: bool = Field(default=True, description="Search the commits since the last passing run.")
    max_tests: int = Field(default=3, ge=1, description="Failing tests examined per stage.")
    timeout: float = Field(default=600.0, gt=0, description="Seconds allowed per test execution.")


@dataclass(frozen=True)
class DiagnoseContext:
    """Everything an explainer needs about the failed run."""

    root: Path
    run: Run
    store: RunStore
    python: str
    settings: WhySettings
    base_ref: str | None = None
