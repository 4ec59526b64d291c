"""The small interface every gate implements, and the context it runs in."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from suture.model import Finding, Level


class GateConfig(BaseModel):
    """Settings every gate accepts in suture.yml; each gate extends it with its own."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str | None = Field(None, description="Which gate this is; defaults to the entry's name.")
    enabled: bool = Field(True, description="Set false to keep the entry but not run it.")
    needs: list[str] = Field(
        default_factory=list, description="Gates that must finish before this one starts."
    )
    timeout: float | None = Field(
        None, gt=0, description="Seconds before the tool is killed; defaults to `timeout`."
    )
    exclude: list[str] = Field(
        default_factory=list, description="Glob patterns (repo-relative) this gate ignores."
    )
    fail_on: Level = Field(
        Level.ERROR, description="Lowest finding level that fails the gate (error, warning, note)."
    )


@dataclass(frozen=True)
class GateContext:
    """What a gate may know about the run it is part of."""

    root: Path
    python: str
    state_dir: Path
    timeout: float
    # Metrics of this stage in the last passing run (e.g. coverage), for ratchets.
    previous_metrics: dict[str, float] = field(default_factory=dict)
    advisory_db: Path | None = None
    # Extra environment for the project's own code (e.g. PYTHONPATH to packages a fix declares).
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class GateReport:
    """What a gate returns; the executor adds timing, caching, fingerprints and baseline marks.

    The executor decides passed/failed: a gate fails when a finding not accepted by the baseline
    is at or above `fail_on`. A gate that cannot reach a verdict (tool missing, crashed, output
    unparseable, lookup impossible) raises ToolError instead, and the stage ends in `error`.
    """

    findings: tuple[Finding, ...] = ()
    summary: str = ""
    metrics: dict[str, float] = field(default_factory=dict)
    log: str = ""


class Gate(ABC):
    """One quality or security check that wraps one real tool."""

    kind: ClassVar[str]
    description: ClassVar[str]
    Config: ClassVar[type[GateConfig]] = GateConfig
    # False for gates whose result depends on things outside the repository (e.g. network).
    cacheable: ClassVar[bool] = True

    def __init__(self, name: str, config: GateConfig) -> None:
        self.name = name
        self.config = config

    @abstractmethod
    def tool_version(self, ctx: GateContext) -> str:
        """The version of the wrapped tool; part of the cache key and the run record."""

    @abstractmethod
    def input_files(self, ctx: GateContext) -> Iterable[Path]:
        """Files whose content decides this gate's result; part of the cache key."""

    def extra_cache_inputs(self, ctx: GateContext) -> str:
        """Anything else the result depends on (installed packages, ratchet figure)."""
        return ""

    # Rules whose findings depend on earlier runs, not on the inputs; see `judge_history`.
    history_rules: ClassVar[frozenset[str]] = frozenset()

    def judge_history(self, ctx: GateContext, metrics: dict[str, float]) -> tuple[Finding, ...]:
        """Findings from comparing this result with earlier runs (e.g. a coverage ratchet).

        Called on fresh and cached results alike, so a cached result is judged against today's
        history; its findings must use `history_rules`.
        """
        return ()

    @abstractmethod
    def run(self, ctx: GateContext) -> GateReport:
        """Run the tool and turn its machine output into findings; raise ToolError if it can't."""
