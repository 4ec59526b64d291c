"""What every LLM provider offers: one structured completion, its errors, and the call record."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from suture.errors import SutureError


@dataclass(frozen=True)
class Completion:
    """What a provider answered: the JSON text the model produced and what it cost in tokens."""

    text: str
    input_tokens: int
    output_tokens: int
    model: str


@runtime_checkable
class Provider(Protocol):
    """One LLM backend; `complete` asks for an answer matching `schema` (a JSON Schema)."""

    name: str
    model: str

    def complete(
        self, system: str, prompt: str, schema: dict[str, Any], max_tokens: int
    ) -> Completion:
        """Send one request; raise a ProviderError subclass when it cannot be answered."""
        ...


class ProviderError(SutureError):
    """An LLM provider could not give an answer (the offline diagnosis still stands)."""


class ProviderUnavailable(ProviderError):
    """The provider could not be reached, timed out, or failed on its side (5xx)."""


class RateLimited(ProviderError):
    """The provider said to slow down (429); `retry_after` is its advice in seconds, if any."""

    def __init__(self, message: str, hint: str | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message, hint)
        self.retry_after = retry_after


class ProviderRefused(ProviderError):
    """The provider rejected the request: missing or wrong key, unknown model, bad request."""

    exit_code = 2


class BudgetExceeded(ProviderError):
    """A per-run cap (calls, tokens or cost) would be passed; nothing was sent."""


class InvalidAnswer(ProviderError):
    """The model kept answering with output that does not match the requested schema."""


class CallOutcome(StrEnum):
    """How one request to a provider ended."""

    OK = "ok"
    INVALID_OUTPUT = "invalid_output"
    UNAVAILABLE = "unavailable"
    RATE_LIMITED = "rate_limited"
    REFUSED = "refused"
    OVER_BUDGET = "over_budget"


class LLMCall(BaseModel):
    """The audit record of one attempt to ask a provider; the prompt is kept only as a digest."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: str
    model: str
    prompt_digest: str = Field(description="sha256 of the redacted system and user prompt.")
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    latency_s: float = 0.0
    outcome: CallOutcome
    started_at: datetime
    attempt: int = Field(ge=1)
    detail: str = Field("", description="Why the attempt did not end ok, in one line.")


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds a 429 asks to wait: `retry-after-ms`, or `retry-after` in seconds or as a date."""
    lowered = {k.lower(): v.strip() for k, v in headers.items()}
    ms, seconds = lowered.get("retry-after-ms"), lowered.get("retry-after")
    try:
        if ms:
            return max(0.0, float(ms) / 1000)
        if seconds:
            return max(0.0, float(seconds))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(seconds) if seconds else None
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time()) if when else None


def error_for_status(provider: str, where: str, status: int, detail: str,
                     headers: Mapping[str, str], key_env: str) -> ProviderError:
    """The ProviderError an HTTP error status from `provider` at `where` stands for."""
    said = f"{provider} at {where} answered HTTP {status}: {detail}"
    if status == 429:
        return RateLimited(said, hint="Wait and retry, or lower llm.max_calls.",
                           retry_after=retry_after(headers))
    if status in (401, 403):
        return ProviderRefused(said, hint=f"Check the key in the {key_env} environment variable.")
    if status in (408, 409) or status >= 500:
        return ProviderUnavailable(said, hint="The provider is down or overloaded; retry later.")
    return ProviderRefused(said, hint="Check llm.model and llm.base_url in suture.yml.")
