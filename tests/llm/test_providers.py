"""Each provider against its real local server through the official SDK, and the factory."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from suture.llm.anthropic_provider import DEFAULT_MODEL, AnthropicProvider
from suture.llm.interface import Provider, ProviderRefused, retry_after
from suture.llm.openai_provider import OpenAIProvider
from suture.llm.providers import PROVIDERS, LLMSettings, make_provider
from tests.fixtures.anthropic_server import AnthropicServer, Reply
from tests.fixtures.openai_server import OpenAIServer


class Answer(BaseModel):
    """A small closed answer model (strict-mode compatible)."""

    model_config = ConfigDict(extra="forbid")

    cause: str = Field(max_length=120)
    depth: int


SCHEMA = Answer.model_json_schema()
KEY = {"ANTHROPIC_API_KEY": "sk-ant-from-env"}


def test_offline_is_the_default_and_makes_no_provider() -> None:
    assert LLMSettings().provider == "offline"
    assert make_provider(LLMSettings()) is None
    assert set(PROVIDERS) == {"anthropic", "openai"}


def test_settings_reject_unknown_keys_and_an_openai_provider_without_model() -> None:
    with pytest.raises(ValidationError, match="max_tokenz"):
        LLMSettings.model_validate({"provider": "anthropic", "max_tokenz": 5})
    with pytest.raises(ValidationError, match="llm.model is required"):
        LLMSettings(provider="openai")
    described = LLMSettings.model_json_schema()["properties"]
    assert all(field.get("description") for field in described.values())


def test_anthropic_without_a_key_is_refused_with_a_hint() -> None:
    with pytest.raises(ProviderRefused) as raised:
        make_provider(LLMSettings(provider="anthropic"), env={})
    assert "ANTHROPIC_API_KEY" in str(raised.value)
    assert "ANTHROPIC_API_KEY" in (raised.value.hint or "") and raised.value.exit_code == 2


def test_anthropic_sends_key_model_and_schema_and_reads_the_json_answer(
        anthropic_server: AnthropicServer) -> None:
    anthropic_server.script(anthropic_server.answer({"cause": "null check removed", "depth": 2},
                                                    input_tokens=321, output_tokens=54))
    # base_url comes from the environment when suture.yml does not set one.
    provider = make_provider(LLMSettings(provider="anthropic"),
                             env={**KEY, "ANTHROPIC_BASE_URL": anthropic_server.url})
    assert isinstance(provider, Provider)

    done = provider.complete("You diagnose CI failures.", "Why?", SCHEMA, max_tokens=777)

    assert json.loads(done.text) == {"cause": "null check removed", "depth": 2}
    assert (done.input_tokens, done.output_tokens) == (321, 54)
    [request] = anthropic_server.received
    # SDK 2.x sends the key as a bearer token; older ones used x-api-key.
    sent_key = request.headers.get("x-api-key") or request.headers.get("authorization", "")
    assert sent_key.removeprefix("Bearer ") == "sk-ant-from-env"
    body = request.json
    assert body["model"] == DEFAULT_MODEL == provider.model
    assert body["max_tokens"] == 777 and body["system"] == "You diagnose CI failures."
    assert body["messages"] == [{"role": "user", "content": "Why?"}]
    # Structured outputs, not forced tool use (which current Claude models reject with a 400).
    assert "tool_choice" not in body
    sent = body["output_config"]["format"]
    assert sent["type"] == "json_schema"
    assert sent["schema"]["additionalProperties"] is False
    assert set(sent["schema"]["required"]) == {"cause", "depth"}
    # The API does not take maxLength; it travels as a description (pydantic still enforces it).
    cause = sent["schema"]["properties"]["cause"]
    assert "maxLength" not in cause and "120" in cause["description"]


def test_anthropic_ignores_thinking_blocks_before_the_answer(
        anthropic_server: AnthropicServer) -> None:
    reply = anthropic_server.answer({"cause": "x", "depth": 1})
    reply.body["content"].insert(0, {"type": "thinking", "thinking": "Let me see...",
                                     "signature": "sig"})
    anthropic_server.script(reply)
    provider = AnthropicProvider(model="claude-opus-5-5", base_url=anthropic_server.url, env=KEY)

    done = provider.complete("sys", "Why?", SCHEMA, max_tokens=100)

    assert json.loads(done.text) == {"cause": "x", "depth": 1}
    assert anthropic_server.received[0].json["model"] == "claude-opus-5-5"


def test_openai_sends_a_strict_json_schema_and_a_placeholder_key_when_none_is_set(
        openai_server: OpenAIServer) -> None:
    openai_server.script(openai_server.answer({"cause": "flaky", "depth": 1}, 50, 9))
    provider = make_provider(LLMSettings(provider="openai", model="qwen2.5",
                                         base_url=openai_server.base_url), env={})

    done = provider.complete("sys", "Why?", SCHEMA, max_tokens=500)

    assert json.loads(done.text) == {"cause": "flaky", "depth": 1}
    assert (done.input_tokens, done.output_tokens, done.model) == (50, 9, "llama3.1:8b")
    [request] = openai_server.received
    assert request.headers["authorization"] == "Bearer no-key-set"
    body = request.json
    assert body["model"] == "qwen2.5" and body["max_tokens"] == 500
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["strict"] is True
    assert body["response_format"]["json_schema"]["schema"] == SCHEMA


def test_openai_uses_the_key_from_the_environment(openai_server: OpenAIServer) -> None:
    openai_server.script(openai_server.answer({"cause": "x", "depth": 1}))
    provider = OpenAIProvider(model="gpt-x", base_url=openai_server.base_url,
                              env={"OPENAI_API_KEY": "sk-from-env"})
    provider.complete("sys", "Why?", SCHEMA, max_tokens=10)
    assert openai_server.received[0].headers["authorization"] == "Bearer sk-from-env"


def test_openai_falls_back_to_json_object_when_json_schema_is_refused(
        openai_server: OpenAIServer) -> None:
    openai_server.json_schema_supported = False
    openai_server.script(openai_server.answer('```json\n{"cause": "x", "depth": 3}\n```'))
    provider = OpenAIProvider(model="llama3.1:8b", base_url=openai_server.base_url, env={})

    first = provider.complete("Be brief.", "Why?", SCHEMA, max_tokens=100)
    provider.complete("Be brief.", "Why again?", SCHEMA, max_tokens=100)

    # A code fence around the JSON is taken off.
    assert json.loads(first.text) == {"cause": "x", "depth": 3}
    kinds = [r.json["response_format"]["type"] for r in openai_server.received]
    assert kinds == ["json_schema", "json_object", "json_object"]  # remembered after once
    system = openai_server.received[1].json["messages"][0]["content"]
    assert system.startswith("Be brief.") and '"depth"' in system and "JSON" in system


def test_openai_refusal_after_the_fallback_is_reported(openai_server: OpenAIServer) -> None:
    openai_server.script(openai_server.error(400, "invalid_request_error", "model not found"))
    provider = OpenAIProvider(model="nope", base_url=openai_server.base_url, env={})

    with pytest.raises(ProviderRefused) as raised:
        provider.complete("sys", "Why?", SCHEMA, max_tokens=100)

    assert "model not found" in str(raised.value) and openai_server.base_url in str(raised.value)
    assert len(openai_server.received) == 2


def test_error_statuses_carry_the_server_message(anthropic_server: AnthropicServer) -> None:
    anthropic_server.script(anthropic_server.error(
        400, "invalid_request_error", "tool_choice forcing tool use is not supported"))
    provider = AnthropicProvider(base_url=anthropic_server.url, env=KEY)
    with pytest.raises(ProviderRefused) as raised:
        provider.complete("sys", "Why?", SCHEMA, max_tokens=100)
    assert "HTTP 400" in str(raised.value) and "not supported" in str(raised.value)


def test_garbage_http_bodies_do_not_crash_the_provider(anthropic_server: AnthropicServer) -> None:
    anthropic_server.script(Reply(502, b"<html>Bad Gateway</html>"))
    provider = AnthropicProvider(base_url=anthropic_server.url, env=KEY)
    with pytest.raises(Exception) as raised:
        provider.complete("sys", "Why?", SCHEMA, max_tokens=100)
    assert type(raised.value).__name__ == "ProviderUnavailable"


@pytest.mark.parametrize(("headers", "seconds"), [
    ({"retry-after": "2"}, 2.0),
    ({"Retry-After-Ms": "250"}, 0.25),
    ({"retry-after": "soon"}, None),
    ({}, None),
])
def test_retry_after_headers(headers: dict[str, str], seconds: float | None) -> None:
    assert retry_after(headers) == seconds
