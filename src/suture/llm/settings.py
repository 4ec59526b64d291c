"""The `llm:` section of suture.yml: which provider `suture why` may ask, and the caps."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


class LLMSettings(BaseModel):
    """Which LLM `suture why` may ask, and the per-run caps on what it may spend."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: Literal["offline", "anthropic", "openai"] = Field(
        default="offline",
        description="offline (no LLM, the default), anthropic, or openai "
        "(any OpenAI-compatible server: OpenAI, Ollama, vLLM, llama.cpp).",
    )
    model: str | None = Field(
        default=None,
        description="Model id; anthropic defaults to claude-sonnet-5-5, openai needs one.",
    )
    base_url: str | None = Field(
        default=None,
        description="Server URL; defaults to ANTHROPIC_BASE_URL / OPENAI_BASE_URL or the "
        "vendor's API. Keys are read only from ANTHROPIC_API_KEY / OPENAI_API_KEY.",
    )
    timeout_s: float = Field(default=60.0, gt=0, description="Seconds to wait for one answer.")
    max_retries: int = Field(
        default=2,
        ge=0,
        le=10,
        description="Extra attempts after an answer that does not fit the schema or a rate limit.",
    )
    max_calls: int = Field(default=20, ge=0, description="Most requests one run may send.")
    max_input_tokens: int = Field(
        default=200_000,
        ge=0,
        description="Most prompt tokens one run may send, all calls together.",
    )
    max_output_tokens: int = Field(
        default=20_000,
        ge=0,
        description="Most answer tokens one run may receive, all calls together.",
    )
    max_cost_usd: float | None = Field(
        default=2.0, ge=0, description="Most US dollars one run may spend; null for no cost cap."
    )
    price_per_mtok_in: float = Field(
        default=2.0,
        ge=0,
        description="USD per million prompt tokens (Claude Sonnet 5.5 list price; "
        "0 for a local server).",
    )
    price_per_mtok_out: float = Field(
        default=10.0,
        ge=0,
        description="USD per million answer tokens (Claude Sonnet 5.5 list price; "
        "0 for a local server).",
    )

    @model_validator(mode="after")
    def _openai_needs_model(self) -> Self:
        if self.provider == "openai" and not self.model:
            raise ValueError("llm.model is required when llm.provider is openai")
        return self
