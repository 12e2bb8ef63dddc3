"""Without the optional local-LLM install, the llama.cpp provider says `not_configured`, so routing falls back."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from apps.llm_proxy.settings import ProviderConfig
from domain.llm.policies import ChatRequest, ProviderError
from infra.llm.providers.factory import build_provider
from infra.llm.providers.llama_cpp import LlamaCppProvider

REQUEST = ChatRequest([{"role": "user", "content": "hello"}])


async def test_missing_weights_make_every_call_not_configured() -> None:
    provider = build_provider("local", ProviderConfig(kind="llama_cpp", model_path="/nonexistent/model.gguf"))
    assert isinstance(provider, LlamaCppProvider)
    for _ in range(2):  # the verdict is kept: no second search on the next call
        with pytest.raises(ProviderError) as raised:
            await provider.complete("m", REQUEST, 5)
        assert raised.value.kind == "not_configured" and raised.value.may_fall_back
        assert "no model weights at /nonexistent/model.gguf" in raised.value.message
    with pytest.raises(ProviderError, match="no model weights"):
        await anext(provider.stream("m", REQUEST, 5))


async def test_without_llama_cpp_python_installed_calls_are_not_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    weights = tmp_path / "model.gguf"
    weights.write_bytes(b"GGUF")
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # what `import llama_cpp` sees when it is not installed
    provider = LlamaCppProvider("local", str(weights))
    with pytest.raises(ProviderError) as raised:
        await provider.complete("m", REQUEST, 5)
    assert raised.value.kind == "not_configured"
    assert "pip install 'daarion[local-llm]'" in raised.value.message
    await provider.aclose()


async def test_daarion_local_model_names_the_weights_of_a_provider_whose_config_names_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DAARION_LOCAL_MODEL", "/nonexistent/operator-model.gguf")
    default = build_provider("local", ProviderConfig(kind="llama_cpp"))
    configured = build_provider("local", ProviderConfig(kind="llama_cpp", model_path="/nonexistent/model.gguf"))
    with pytest.raises(ProviderError, match="no model weights at /nonexistent/operator-model.gguf"):
        await default.complete("m", REQUEST, 5)
    with pytest.raises(ProviderError, match="no model weights at /nonexistent/model.gguf"):
        await configured.complete("m", REQUEST, 5)
