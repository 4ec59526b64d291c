"""The one way to ask an LLM: redact, check the budget, call, validate, retry, record."""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from suture.llm.interface import (
    BudgetExceeded,
    CallOutcome,
    Completion,
    InvalidAnswer,
    LLMCall,
    Provider,
    ProviderError,
    ProviderRefused,
    ProviderUnavailable,
    RateLimited,
)
from suture.llm.settings import LLMSettings

T = TypeVar("T", bound=BaseModel)

# No single answer needs more; a cap keeps one runaway reply from eating the run's budget.
PER_CALL_MAX_TOKENS = 8192
# Below this an answer would be cut off mid-JSON: not worth paying for.
MIN_ANSWER_TOKENS = 256
# Wait used when a 429 carries no retry-after.
DEFAULT_RATE_WAIT_S = 1.0
MAX_DETAIL_CHARS = 300


def prompt_digest(system: str, prompt: str) -> str:
    """sha256 of a (redacted) system and user prompt as sent, for the audit record."""
    return hashlib.sha256(f"{system}\n\n{prompt}".encode()).hexdigest()


def estimate_tokens(text: str) -> int:
    """A deliberately high token estimate (3 bytes a token) for checking caps before sending."""
    return len(text.encode()) // 3 + 1


class Gateway:
    """Every LLM request of a run passes here; `calls` holds the record of every attempt."""

    def __init__(self, provider: Provider, redact: Callable[[str], str], settings: LLMSettings,
                 *, max_wait_s: float = 5.0) -> None:
        self.provider = provider
        self.settings = settings
        self.max_wait_s = max_wait_s
        self.calls: list[LLMCall] = []
        self._redact = redact

    @property
    def cost_usd(self) -> float:
        """US dollars spent so far in this run, from the token counts providers reported."""
        return sum(c.cost_usd for c in self.calls)

    def ask(self, system: str, prompt: str, answer: type[T]) -> T:
        """The model's answer to `prompt` as an `answer`, or a ProviderError saying why not.

        Both texts are redacted before anything else sees them. Output that does not validate
        is retried with the validation errors appended; a 429 is retried after its retry-after
        (capped at `max_wait_s`); an unreachable provider is retried once.
        """
        system, prompt = self._redact(system), self._redact(prompt)
        schema = answer.model_json_schema()
        correction = ""
        invalid = limited = unavailable = 0
        while True:
            sent = prompt + correction
            attempt = invalid + limited + unavailable + 1
            max_tokens = self._admit(system, sent, attempt)
            started, clock = datetime.now(UTC), time.monotonic()
            record = dict(provider=self.provider.name, model=self.provider.model,
                          prompt_digest=prompt_digest(system, sent), started_at=started,
                          attempt=attempt)
            try:
                done = self.provider.complete(system, sent, schema, max_tokens)
            except RateLimited as e:
                self._record(record, clock, CallOutcome.RATE_LIMITED, detail=str(e))
                if limited >= self.settings.max_retries:
                    raise
                limited += 1
                wait = DEFAULT_RATE_WAIT_S if e.retry_after is None else e.retry_after
                time.sleep(min(wait, self.max_wait_s))
                continue
            except ProviderRefused as e:
                self._record(record, clock, CallOutcome.REFUSED, detail=str(e))
                raise
            except ProviderUnavailable as e:
                self._record(record, clock, CallOutcome.UNAVAILABLE, detail=str(e))
                if unavailable >= 1:
                    raise
                unavailable += 1
                continue
            except ProviderError as e:
                self._record(record, clock, CallOutcome.UNAVAILABLE, detail=str(e))
                raise
            tokens = dict(model=done.model or self.provider.model, input_tokens=done.input_tokens,
                          output_tokens=done.output_tokens, cost_usd=self._cost(done))
            try:
                value = answer.model_validate_json(done.text)
            except ValidationError as e:
                summary = _summary(e)
                self._record({**record, **tokens}, clock, CallOutcome.INVALID_OUTPUT,
                             detail=summary)
                if invalid >= self.settings.max_retries:
                    raise InvalidAnswer(
                        f"{self.provider.name} model {self.provider.model} answered {attempt} "
                        f"times with output that does not fit {answer.__name__}: {summary}",
                        hint="Use a more capable model (llm.model) or raise llm.max_retries.",
                    ) from e
                invalid += 1
                correction = self._redact(
                    f"\n\nYour previous answer was not valid: {summary}. Answer again with one "
                    "JSON object that matches the schema."
                )
                continue
            self._record({**record, **tokens}, clock, CallOutcome.OK)
            return value

    def _admit(self, system: str, prompt: str, attempt: int) -> int:
        """The max_tokens this request may ask for, or BudgetExceeded (recorded) when none."""
        s = self.settings
        sent = [c for c in self.calls if c.outcome != CallOutcome.OVER_BUDGET]
        used_in = sum(c.input_tokens for c in sent)
        est_in = estimate_tokens(system) + estimate_tokens(prompt)
        out_left = s.max_output_tokens - sum(c.output_tokens for c in sent)
        least = min(MIN_ANSWER_TOKENS, s.max_output_tokens)
        affordable = math.inf
        if s.max_cost_usd is not None:
            usd_left = s.max_cost_usd - self.cost_usd - est_in * s.price_per_mtok_in / 1e6
            if usd_left < 0:
                affordable = -1
            elif s.price_per_mtok_out > 0:
                affordable = usd_left / s.price_per_mtok_out * 1e6
        reason = None
        if len(sent) >= s.max_calls:
            reason = f"{len(sent)} of llm.max_calls={s.max_calls} calls made"
        elif used_in + est_in > s.max_input_tokens:
            reason = (f"{used_in} prompt tokens used and about {est_in} more needed, over "
                      f"llm.max_input_tokens={s.max_input_tokens}")
        elif out_left < max(least, 1):
            reason = f"{s.max_output_tokens - out_left} of llm.max_output_tokens used"
        elif affordable < max(least, 1):
            reason = (f"${self.cost_usd:.4f} of llm.max_cost_usd=${s.max_cost_usd:g} spent, "
                      "too little left for an answer")
        if reason is None:
            return int(min(PER_CALL_MAX_TOKENS, out_left, affordable))
        self.calls.append(LLMCall(
            provider=self.provider.name, model=self.provider.model,
            prompt_digest=prompt_digest(system, prompt), outcome=CallOutcome.OVER_BUDGET,
            started_at=datetime.now(UTC), attempt=attempt, detail=reason,
        ))
        raise BudgetExceeded(
            f"the LLM budget of this run is spent ({reason}); the request was not sent",
            hint="Raise that cap in the llm section of suture.yml, or use the offline diagnosis.",
        )

    def _cost(self, done: Completion) -> float:
        s = self.settings
        return (done.input_tokens * s.price_per_mtok_in
                + done.output_tokens * s.price_per_mtok_out) / 1e6

    def _record(self, fields: dict[str, object], clock: float, outcome: CallOutcome,
                detail: str = "") -> None:
        self.calls.append(LLMCall.model_validate({
            **fields, "outcome": outcome, "latency_s": round(time.monotonic() - clock, 6),
            "detail": detail[:MAX_DETAIL_CHARS],
        }))


def _summary(error: ValidationError) -> str:
    """The validation errors in one line, without echoing the values the model sent."""
    parts = []
    for item in error.errors(include_input=False, include_url=False)[:5]:
        where = ".".join(str(p) for p in item["loc"]) or "answer"
        parts.append(f"{where}: {item['msg']}")
    more = error.error_count() - len(parts)
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")
