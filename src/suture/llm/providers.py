"""The `llm:` section of suture.yml, the table of providers, and the factory between them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from suture.llm.interface import Provider
from suture.llm.settings import LLMSettings

ProviderFactory = Callable[..., Provider]


def _anthropic(**kw: Any) -> Provider:
    from suture.llm.anthropic_provider import AnthropicProvider  # the SDK loads only when used

    return AnthropicProvider(**kw)


def _openai(**kw: Any) -> Provider:
    from suture.llm.openai_provider import OpenAIProvider  # the SDK loads only when used

    return OpenAIProvider(**kw)


# Explicit on purpose: a provider is a place prompts go, so adding one is a reviewed change.
PROVIDERS: dict[str, ProviderFactory] = {
    "anthropic": _anthropic,
    "openai": _openai,
}

__all__ = ["PROVIDERS", "LLMSettings", "make_provider"]


def make_provider(settings: LLMSettings, env: Mapping[str, str] | None = None) -> Provider | None:
    """The provider `settings` name, or None when offline; keys come from `env` (os.environ)."""
    if settings.provider == "offline":
        return None
    factory = PROVIDERS[settings.provider]
    return factory(model=settings.model, base_url=settings.base_url,
                   timeout_s=settings.timeout_s, env=env)
