"""Claude through the official `anthropic` SDK, answering in JSON via structured outputs."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from typing import Any

import anthropic

from suture.llm.interface import (
    Completion,
    ProviderError,
    ProviderRefused,
    ProviderUnavailable,
    error_for_status,
)

# The current Sonnet (platform.claude.com/docs/en/models/sonnet-5-5/overview, November 2026).
DEFAULT_MODEL = "claude-sonnet-5-5"
KEY_ENV = "ANTHROPIC_API_KEY"
BASE_URL_ENV = "ANTHROPIC_BASE_URL"
DEFAULT_BASE_URL = "https://api.anthropic.com"


class AnthropicProvider:
    """Asks Claude for one JSON answer constrained by `output_config.format` (a JSON Schema).

    Forced tool use (`tool_choice` naming a tool) is rejected with HTTP 400 by Claude Sonnet 5.5
    and Opus 5.5, so structured outputs are the way to get schema-bound JSON from current models.
    """

    name = "anthropic"

    def __init__(self, model: str | None = None, base_url: str | None = None,
                 timeout_s: float = 60.0, env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        key = env.get(KEY_ENV)
        if not key:
            raise ProviderRefused(
                f"llm.provider is anthropic but the {KEY_ENV} environment variable is not set",
                hint=f"Export {KEY_ENV}=<your key> (keys are read only from the environment), "
                "or set llm.provider: offline.",
            )
        self.model = model or DEFAULT_MODEL
        self.base_url = (base_url or env.get(BASE_URL_ENV) or DEFAULT_BASE_URL).rstrip("/")
        self.timeout_s = timeout_s
        # The gateway decides about retries; the SDK's own would hide attempts from the audit.
        self._client = anthropic.Anthropic(
            api_key=key, base_url=self.base_url, timeout=timeout_s, max_retries=0
        )

    def complete(
        self, system: str, prompt: str, schema: dict[str, Any], max_tokens: int
    ) -> Completion:
        """One Messages API request; the answer is the text of the reply, JSON per `schema`."""
        # Moves constraints the API does not enforce (maxLength, ...) into descriptions; the
        # gateway's pydantic validation still enforces them. A schema it cannot rewrite goes
        # as is, and the API says if it minds.
        with contextlib.suppress(ValueError):
            schema = anthropic.transform_schema(schema)
        try:
            reply = self._client.messages.create(
                model=self.model,
                max_tokens=max_tokens,
                system=system,
                messages=[{"role": "user", "content": prompt}],
                output_config={"format": {"type": "json_schema", "schema": schema}},
            )
        except anthropic.APIStatusError as e:
            raise error_for_status(self.name, self.base_url, e.status_code, _detail(e),
                                   e.response.headers, KEY_ENV) from e
        except anthropic.APITimeoutError as e:
            raise ProviderUnavailable(
                f"{self.name} at {self.base_url} did not answer within {self.timeout_s:g} s",
                hint="Retry later, or raise llm.timeout_s in suture.yml.",
            ) from e
        except anthropic.APIConnectionError as e:
            raise ProviderUnavailable(
                f"{self.name} at {self.base_url} could not be reached: {e}",
                hint="Check the network, or llm.base_url / ANTHROPIC_BASE_URL.",
            ) from e
        except anthropic.AnthropicError as e:
            raise ProviderError(f"{self.name} at {self.base_url} failed: {e}",
                                hint="Check the llm section of suture.yml.") from e
        # Thinking blocks may precede the answer; only text blocks carry the JSON.
        text = "".join(b.text for b in reply.content if isinstance(b, anthropic.types.TextBlock))
        usage = reply.usage
        return Completion(
            text=text,
            input_tokens=int(getattr(usage, "input_tokens", 0) or 0),
            output_tokens=int(getattr(usage, "output_tokens", 0) or 0),
            model=str(reply.model or self.model),
        )


def _detail(error: anthropic.APIStatusError) -> str:
    """The `error.message` of an Anthropic error body, or the SDK's own message."""
    body = error.body
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("message") or error.message)
    return error.message
