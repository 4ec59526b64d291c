"""OpenAI-compatible chat servers (OpenAI, Ollama, vLLM, llama.cpp) through the `openai` SDK."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import openai
from openai.types.chat import ChatCompletionMessageParam

from suture.llm.interface import (
    Completion,
    ProviderError,
    ProviderRefused,
    ProviderUnavailable,
    error_for_status,
)

KEY_ENV = "OPENAI_API_KEY"
BASE_URL_ENV = "OPENAI_BASE_URL"
DEFAULT_BASE_URL = "https://api.openai.com/v1"
# Local servers ignore the key, but the SDK insists on having one.
NO_KEY = "no-key-set"
# How servers without json_schema support say no (llama.cpp 400, some vLLM builds 422).
_SCHEMA_REJECTED = (openai.BadRequestError, openai.UnprocessableEntityError)


class OpenAIProvider:
    """Asks a Chat Completions server for JSON: `json_schema` first, `json_object` if refused.

    Many local servers reject `response_format: json_schema`; after the first such 400 this
    provider asks for `json_object` and puts the schema in the system prompt instead.
    """

    name = "openai"

    def __init__(self, model: str | None = None, base_url: str | None = None,
                 timeout_s: float = 60.0, env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        if not model:
            raise ProviderRefused(
                "llm.provider is openai but llm.model is not set",
                hint="Set llm.model in suture.yml to a model the server serves (e.g. llama3.1).",
            )
        self.model = model
        self.base_url = (base_url or env.get(BASE_URL_ENV) or DEFAULT_BASE_URL).rstrip("/")
        self.timeout_s = timeout_s
        self.json_schema_ok = True
        self._official = self.base_url.startswith(DEFAULT_BASE_URL)
        # The gateway decides about retries; the SDK's own would hide attempts from the audit.
        self._client = openai.OpenAI(
            api_key=env.get(KEY_ENV) or NO_KEY, base_url=self.base_url,
            timeout=timeout_s, max_retries=0,
        )

    def complete(
        self, system: str, prompt: str, schema: dict[str, Any], max_tokens: int
    ) -> Completion:
        """One chat completion whose message content is JSON per `schema`."""
        if self.json_schema_ok:
            try:
                return self._ask(system, prompt, max_tokens, _json_schema_format(schema))
            except ProviderRefused as e:
                if not isinstance(e.__cause__, _SCHEMA_REJECTED):
                    raise
                self.json_schema_ok = False
        system = (f"{system}\n\nAnswer with one JSON object (no prose, no code fence) valid "
                  f"against this JSON Schema:\n{json.dumps(schema, sort_keys=True)}")
        return self._ask(system, prompt, max_tokens, {"type": "json_object"})

    def _ask(self, system: str, prompt: str, max_tokens: int,
             response_format: dict[str, Any]) -> Completion:
        messages: list[ChatCompletionMessageParam] = [
            {"role": "system", "content": system}, {"role": "user", "content": prompt}]
        try:
            reply = self._client.chat.completions.create(  # type: ignore[call-overload]
                model=self.model,
                messages=messages,
                response_format=response_format,
                # OpenAI's own API wants max_completion_tokens; local servers know max_tokens.
                max_completion_tokens=max_tokens if self._official else openai.omit,
                max_tokens=openai.omit if self._official else max_tokens,
            )
        except openai.APIStatusError as e:
            raise error_for_status(self.name, self.base_url, e.status_code, _detail(e),
                                   e.response.headers, KEY_ENV) from e
        except openai.APITimeoutError as e:
            raise ProviderUnavailable(
                f"{self.name} at {self.base_url} did not answer within {self.timeout_s:g} s",
                hint="Retry later, or raise llm.timeout_s in suture.yml.",
            ) from e
        except openai.APIConnectionError as e:
            raise ProviderUnavailable(
                f"{self.name} at {self.base_url} could not be reached: {e}",
                hint="Check that the server runs, and llm.base_url / OPENAI_BASE_URL.",
            ) from e
        except openai.OpenAIError as e:
            raise ProviderError(f"{self.name} at {self.base_url} failed: {e}",
                                hint="Check the llm section of suture.yml.") from e
        message = reply.choices[0].message if reply.choices else None
        usage = reply.usage
        return Completion(
            text=_unfence((message.content if message else None) or ""),
            input_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            output_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
            model=str(reply.model or self.model),
        )


def _json_schema_format(schema: dict[str, Any]) -> dict[str, Any]:
    """`response_format` asking for `schema`; strict only when the schema meets strict's rules."""
    name = str(schema.get("title") or "answer")
    name = "".join(c if c.isalnum() or c in "_-" else "_" for c in name)[:64]
    return {"type": "json_schema",
            "json_schema": {"name": name, "schema": schema, "strict": _strict_ok(schema)}}


def _strict_ok(schema: Any) -> bool:
    """True when every object closes its properties and requires all of them (strict mode)."""
    if isinstance(schema, list):
        return all(_strict_ok(s) for s in schema)
    if not isinstance(schema, dict):
        return True
    if schema.get("type") == "object":
        props = schema.get("properties", {})
        if schema.get("additionalProperties") is not False or set(
                schema.get("required", ())) != set(props):
            return False
    return all(_strict_ok(v) for k, v in schema.items() if k not in ("enum", "const", "default"))


def _unfence(text: str) -> str:
    """The JSON inside a Markdown code fence, which small local models like to add."""
    stripped = text.strip()
    if stripped.startswith("```") and stripped.endswith("```"):
        body = stripped[3:-3]
        return body.split("\n", 1)[1] if "\n" in body else body
    return text


def _detail(error: openai.APIStatusError) -> str:
    """The `error.message` of an OpenAI-style error body, or the SDK's own message."""
    body = error.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
    return error.message
