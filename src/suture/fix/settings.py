"""The `fix:` section of suture.yml: which remedies `suture fix` may use, and its limits."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class FixSettings(BaseModel):
    """How `suture fix` repairs failed gates."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    remedies: list[str] = Field(
        default_factory=list,
        description="Only these remedies, by name (default: all, cheapest and safest first): "
        "ruff-fix, security-codemod, dependency-bump, missing-dependency, culprit-revert, "
        "flaky-quarantine, search-repair, llm-patch.",
    )
    search_budget_s: float = Field(
        default=120.0, gt=0, description="Seconds search-repair may spend per failed gate."
    )
    max_llm_attempts: int = Field(
        default=3, ge=0, le=10, description="Patches llm-patch may ask the model for, per gate."
    )
    max_candidates: int = Field(
        default=12, ge=1, description="Candidates verified per failed gate, all remedies together."
    )
    max_lines: int = Field(
        default=400, ge=1, description="Most lines one fix may change (added plus removed)."
    )
