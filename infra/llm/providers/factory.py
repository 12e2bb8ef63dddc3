"""Builds each configured provider adapter by kind, and says which optional OpenAI parameters each kind takes."""

from __future__ import annotations

import os
from typing import Any

from domain.llm.parameters import ParameterPolicy
from infra.llm.providers.deepseek import DEEPSEEK_BASE_URL, DeepSeekProvider
from infra.llm.providers.llama_cpp import LlamaCppProvider
from infra.llm.providers.minilm_embeddings import MiniLMEmbeddings
from infra.llm.providers.ollama import OllamaProvider
from infra.llm.providers.openai import OPENAI_BASE_URL, OpenAIProvider
from infra.llm.providers.openai_compatible import OpenAICompatibleProvider
from infra.llm.providers.stub import StubProvider
from infra.platform.config_files import ConfigError


def build_provider(name: str, config: Any, ollama_host: str | None = None) -> Any:
    """`ollama_host` (DAARION_OLLAMA_HOST) wins over an ollama provider's `host`, as the service URLs do in compose."""
    if config.kind == "minilm":
        return MiniLMEmbeddings(name)
    if config.kind == "stub":
        return StubProvider(name, config.rules, config.latency_ms)
    if config.kind == "openai":
        return OpenAIProvider(name, config.base_url or OPENAI_BASE_URL, config.api_key_env or "OPENAI_API_KEY")
    if config.kind == "deepseek":
        return DeepSeekProvider(name, config.base_url or DEEPSEEK_BASE_URL, config.api_key_env or "DEEPSEEK_API_KEY")
    if config.kind == "ollama":
        host = ollama_host or config.host or "http://127.0.0.1:11434"
        return OllamaProvider(name, host)
    if config.kind == "llama_cpp":
        # Loads lazily; without llama-cpp-python or the weights each call is `not_configured` (falls back).
        return LlamaCppProvider(name, config.model_path, config.context_tokens, config.threads)
    if config.kind == "openai_compatible":
        if not config.base_url:
            raise ConfigError(f"provider '{name}' of kind openai_compatible needs base_url - at `$.providers.{name}`")
        api_key = os.environ.get(config.api_key_env) if config.api_key_env else None
        return OpenAICompatibleProvider(name, config.base_url, api_key)
    raise ConfigError(f"provider kind '{config.kind}' is not supported here - at `$.providers.{name}.kind`")


# Optional parameters (ChatRequest.extra) each kind's target takes; None: every one (OpenAI itself). Ollama, the
# stub and llama.cpp take none of them. A provider's `supported_params` replaces its kind's list.
_COMMON = frozenset({"presence_penalty", "frequency_penalty", "user", "logprobs", "top_logprobs"})
SUPPORTED_PARAMS: dict[str, frozenset[str] | None] = {
    "openai": None,
    "deepseek": _COMMON - {"user"},
    "openai_compatible": _COMMON | {"parallel_tool_calls", "logit_bias"},  # what vLLM and llama.cpp's server take
}


def parameter_policy(config: Any) -> ParameterPolicy:
    supported = (frozenset(config.supported_params) if config.supported_params is not None
                 else SUPPORTED_PARAMS.get(config.kind, frozenset()))
    return ParameterPolicy(config.unsupported_params, supported)
